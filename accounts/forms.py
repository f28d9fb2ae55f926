from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import usernames
from accounts.models import UsernameSkeleton


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
    like an existing user's (accounts.usernames)."""

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
        if UsernameSkeleton.objects.filter(digest__in=digests).exists():
            raise ValidationError(
                self.error_messages["similar_username"], code="similar_username"
            )
        return username


class SettingsForm(forms.Form):
    read_receipts = forms.BooleanField(
        required=False,
        label=_("Send read receipts"),
        help_text=_("Others see “Seen by” with your name under what you have read."),
    )
