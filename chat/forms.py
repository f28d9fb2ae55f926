import re
import unicodedata

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

# Cursors are message ids: a PostgreSQL bigint at most.
MAX_CURSOR = 2**63 - 1


# Unicode's Bidi_Control characters: embeddings, overrides, isolates and marks,
# which reorder the text around them ("invoice\u202efdp.exe" reads as
# "invoiceexe.pdf").
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_surrogates(value: str) -> None:
    """Half a UTF-16 surrogate pair is not a character, and UTF-8 (so the
    database and every page) cannot encode it. JSON's \\u escapes spell one."""
    if _SURROGATE.search(value):
        raise forms.ValidationError(
            _("Remove the lone surrogates (U+D800 to U+DFFF): they are not text."),
            code="surrogate",
        )


class TextField(forms.CharField):
    """Every text field of these forms: a CharField that refuses lone
    surrogates, and shows a refused value back without them."""

    default_validators = [_refuse_surrogates]

    def prepare_value(self, value):
        # The form is drawn again with what was typed; U+FFFD in place of
        # what no page can carry.
        if isinstance(value, str):
            return _SURROGATE.sub("\ufffd", value)
        return super().prepare_value(value)


def _refuse_control_characters(value: str) -> str:
    """Line breaks and tabs are text; other control characters are not.

    They are refused, never silently dropped, so what is stored is what was
    typed (PostgreSQL cannot store NUL at all).
    """
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise forms.ValidationError(
            _("Remove the control characters from your message."), code="control"
        )
    return value


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files under one name (Django's documented recipe):
    cleaned to a list, empty when none was chosen."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class MessageForm(forms.Form):
    # strip=True: leading and trailing white space is not part of a message,
    # and whitespace-only content is blank. CharField also refuses NUL bytes.
    # Blank is fine with files (clean); what they hold, chat.attachments
    # checks when the service stores them.
    content = TextField(
        required=False,
        max_length=settings.CHAT_MAX_LENGTH,
        strip=True,
        error_messages={
            "required": _("Type a message before sending."),
            "max_length": _(
                "Messages are limited to %(limit_value)d characters "
                "(this one has %(show_value)d)."
            ),
        },
    )

    # The id of the message this one answers (the send form in reply mode).
    reply_to = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_CURSOR,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": _("Reply to a message of this room."),
            "min_value": _("Reply to a message of this room."),
            "max_value": _("Reply to a message of this room."),
        },
    )

    files = MultipleFileField(required=False)

    def clean_content(self) -> str:
        content = _refuse_control_characters(self.cleaned_data["content"])
        if content == "/me":
            raise forms.ValidationError(
                _("Say what you do after /me, as in “/me waves”."), code="action"
            )
        return content

    def clean(self) -> dict:
        cleaned = super().clean()
        if (
            "content" in cleaned
            and not cleaned["content"]
            and not cleaned.get("files")
            and "files" not in self.errors
        ):
            field = self.fields["content"]
            self.add_error(
                "content",
                forms.ValidationError(
                    field.error_messages["required"], code="required"
                ),
            )
        return cleaned


class MessageEditForm(MessageForm):
    """A message's new text: what it answers and its files stay as they
    were."""

    reply_to = None
    files = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["content"].required = True
        self.fields["content"].error_messages["required"] = _(
            "A message cannot be empty: delete it instead."
        )


class RoomForm(forms.Form):
    name = TextField(
        max_length=80,
        strip=True,
        error_messages={"required": _("Give the room a name.")},
    )
    private = forms.BooleanField(required=False)

    def clean_name(self) -> str:
        name = _refuse_control_characters(self.cleaned_data["name"])
        if "\n" in name or "\t" in name:
            raise forms.ValidationError(_("A room name is one line of text."))
        # Shown in lists beside other names; messages keep theirs, isolated.
        if BIDI_CONTROLS.intersection(name):
            raise forms.ValidationError(
                _(
                    "Remove the text-direction controls (such as U+202E, "
                    "right-to-left override) from the room name."
                ),
                code="bidi",
            )
        return name


class MemberForm(forms.Form):
    username = TextField(max_length=150, strip=True)


class CursorError(ValueError):
    """A malformed `after`/`before`: the message is shown to the client."""


def parse_cursor(params: QueryDict, name: str) -> int | None:
    """The message-id cursor `name` from `params`, or None when absent.

    Anything but one non-negative integer that fits a bigint is a bad request.
    """
    return cursor_value(params.getlist(name), name)


def cursor_value(values: list[str], name: str) -> int | None:
    """parse_cursor for the values of `name` already taken from a query."""
    if not values:
        return None
    if len(values) > 1:
        raise CursorError(_("Give '%(name)s' once.") % {"name": name})
    value = values[0].strip()
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_CURSOR:
        raise CursorError(
            _("'%(name)s' must be a non-negative message id.") % {"name": name}
        )
    return int(value)
