from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from accounts import services, usernames
from accounts.models import DISPLAY_NAME_MAX_LENGTH, NameSkeleton


class UsernameField(auth_forms.UsernameField):
    def validate(self, value: str) -> None:
        super().validate(value)
        # Here rather than as a validator, so that this message stands alone
        # instead of beside Django's "Enter a valid username".
        if usernames.has_invisible_characters(value):
            raise ValidationError(
                _(
                    "Usernames cannot contain invisible formatting characters, "
                    "such as text direction marks."
                ),
                code="invisible_characters",
            )


class SignupForm(auth_forms.UserCreationForm):
    """Django's signup form, refusing also reserved names and names that look
    like an existing user's username or display name (accounts.usernames)."""

    error_messages = {
        **auth_forms.UserCreationForm.error_messages,
        "reserved_username": _("This username is reserved."),
        "similar_username": _("This username looks too much like an existing one."),
    }

    class Meta(auth_forms.UserCreationForm.Meta):
        field_classes = {"username": UsernameField}

    def clean_username(self) -> str | None:
        username = super().clean_username()  # Django's check, case aside
        if not username:
            return username
        keys = usernames.keys_to_check(username)
        if keys & usernames.reserved_keys():
            raise ValidationError(
                self.error_messages["reserved_username"], code="reserved_username"
            )
        digests = [usernames.digest(k) for k in keys]
        if NameSkeleton.objects.filter(digest__in=digests).exists():
            raise ValidationError(
                self.error_messages["similar_username"], code="similar_username"
            )
        return username


class SettingsForm(forms.Form):
    """Display name, language, time zone, read receipts: one Save."""

    display_name = forms.CharField(
        required=False,
        # Longer input reaches clean_display_name, which says what is wrong
        # (white space collapsed first); the browser stops at the limit.
        max_length=DISPLAY_NAME_MAX_LENGTH * 4,
        label=_("Display name"),
        help_text=_("Shown instead of your username. Leave empty to use it."),
    )
    language = forms.ChoiceField(
        required=False,
        label=_("Language"),
        choices=[("", _("Browser default")), *settings.LANGUAGES],
    )
    time_zone = forms.ChoiceField(
        required=False,
        label=_("Time zone"),
        help_text=_("Times of messages are shown in it."),
    )
    read_receipts = forms.BooleanField(
        required=False,
        label=_("Send read receipts"),
        help_text=_("Others see “Seen by” with your name under what you have read."),
    )

    def __init__(self, *args, user=None, **kwargs) -> None:
        """user: whose settings these are (their own names are no look-alike
        of someone else's)."""
        super().__init__(*args, **kwargs)
        self.user = user
        default = _("Site default (%(zone)s)") % {"zone": settings.TIME_ZONE}
        self.fields["time_zone"].choices = [
            ("", default),
            *((name, name) for name in sorted(services.time_zone_names())),
        ]

    def clean_display_name(self) -> str:
        return services.clean_display_name(
            self.cleaned_data["display_name"], user=self.user
        )


class AvatarForm(forms.Form):
    """The upload; accounts.services.avatar_set checks the picture itself."""

    avatar = forms.FileField(
        label=_("Picture"),
        help_text=_(
            "PNG, JPEG, GIF or WebP, at most %(size)s. It is cropped to a square."
        ),
        error_messages={"required": _("Choose a picture to upload.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["avatar"]
        field.help_text = field.help_text % {
            "size": filesizeformat(settings.ACCOUNTS_AVATAR_MAX_BYTES)
        }
        field.widget.attrs["accept"] = "image/png,image/jpeg,image/gif,image/webp"
