"""Writes of the accounts app: keyword-only, typed; ValidationError with the
reason when the input is refused (nothing is written then)."""

import secrets
import unicodedata
import zoneinfo
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import avatars, usernames
from accounts.models import DISPLAY_NAME_MAX_LENGTH, NameSkeleton, Profile, hold_name


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()  # profile_update: leave this setting as it is

# Characters a display name may not hold: controls (line breaks, NUL), format
# characters (bidi overrides and isolates, zero-width joiners: they reorder or
# hide the text around the name), line and paragraph separators, surrogates.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def profile_get(*, user: AbstractBaseUser) -> Profile:
    """The user's settings (the defaults, unsaved, until first changed)."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def _similar_name_error() -> ValidationError:
    return ValidationError(
        _("This display name looks too much like the name of someone else."),
        code="similar_name",
    )


def clean_display_name(value: str, *, user: AbstractBaseUser | None = None) -> str:
    """The name as stored: outer white space stripped, inner runs made one
    space; "" (no display name) for nothing. ValidationError for invisible
    or control characters, a name that shows nothing, a name too long, a
    reserved one (accounts.usernames.is_reserved), or one that looks like
    the username or display name of anyone but the user (everyone's without
    a user): others would take its owner for them."""
    value = value.strip()
    if any(
        unicodedata.category(char) in _REFUSED_CATEGORIES
        or usernames.has_invisible_characters(char)
        for char in value
    ):
        raise ValidationError(
            _(
                "Display names cannot contain invisible or control characters, "
                "such as text direction marks or line breaks."
            ),
            code="invisible_characters",
        )
    value = " ".join(value.split())
    if len(value) > DISPLAY_NAME_MAX_LENGTH:
        raise ValidationError(
            _("Display names have at most %(max)d characters.")
            % {"max": DISPLAY_NAME_MAX_LENGTH},
            code="max_length",
        )
    if not value:
        return value
    if not any(
        unicodedata.category(char)[0] in "LNPS" and not usernames.draws_nothing(char)
        for char in value
    ):  # combining marks or variation selectors alone
        raise ValidationError(
            _("Display names need at least one visible letter, digit or symbol."),
            code="blank",
        )
    if usernames.is_reserved(value):
        raise ValidationError(
            _(
                "Display names cannot be or contain a reserved word, "
                "such as “admin”, “staff” or “system”."
            ),
            code="reserved_name",
        )
    digests = [usernames.digest(k) for k in usernames.keys_to_check(value)]
    others = NameSkeleton.objects.filter(digest__in=digests)
    if user is not None:
        others = others.exclude(user=user)
    if others.exists():
        raise _similar_name_error()
    return value


def _display_name_hold(*, user: AbstractBaseUser, display_name: str) -> None:
    """Record the display name's key (accounts.models.NameSkeleton), inside
    the caller's transaction; ValidationError when someone took a look-alike
    since clean_display_name looked."""
    kind = NameSkeleton.Kind
    own = NameSkeleton.objects.filter(user=user, kind=kind.DISPLAY_NAME)
    if not display_name:
        own.delete()
        return
    digest = usernames.digest(usernames.key(display_name))
    if hold_name(user, kind.DISPLAY_NAME, digest):
        return
    if NameSkeleton.objects.filter(
        user=user, kind=kind.USERNAME, digest=digest
    ).exists():
        own.delete()  # a look-alike of one's username: that row holds both
        return
    raise _similar_name_error()


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def clean_language(value: str) -> str:
    if value and value not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError(_("Choose one of the languages offered."), "language")
    return value


def clean_time_zone(value: str) -> str:
    if value and value not in time_zone_names():
        raise ValidationError(_("Choose a time zone from the list."), "time_zone")
    return value


def profile_update(
    *,
    user: AbstractBaseUser,
    read_receipts: bool | _Unset = UNSET,
    display_name: str | _Unset = UNSET,
    language: str | _Unset = UNSET,
    time_zone: str | _Unset = UNSET,
) -> Profile:
    """Change the settings given (the others stay as they are)."""
    changes: dict[str, object] = {}
    if not isinstance(read_receipts, _Unset):
        changes["read_receipts"] = read_receipts
    if not isinstance(display_name, _Unset):
        changes["display_name"] = clean_display_name(display_name, user=user)
    if not isinstance(language, _Unset):
        changes["language"] = clean_language(language)
    if not isinstance(time_zone, _Unset):
        changes["time_zone"] = clean_time_zone(time_zone)
    with transaction.atomic():
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        if changes.get("display_name", profile.display_name) != profile.display_name:
            changes["appearance"] = profile.appearance + 1
            _display_name_hold(user=user, display_name=changes["display_name"])
        for field, value in changes.items():
            setattr(profile, field, value)
        if changes:
            profile.save(update_fields=list(changes))
    return profile


def avatar_set(*, user: AbstractBaseUser, upload: UploadedFile) -> Profile:
    """The upload, made an avatar (accounts.avatars), replaces the user's
    current one, whose file is deleted once the change is committed. A
    refused upload (ValidationError) changes nothing."""
    data = avatars.normalise(upload)  # before anything is written
    # A new random name each time: its URL can be cached for good.
    name = f"{secrets.token_urlsafe(16)}.{avatars.EXTENSION}"
    stored = default_storage.save(
        Profile._meta.get_field("avatar").generate_filename(
            Profile(user_id=user.pk), name
        ),
        ContentFile(data),
    )
    try:
        with transaction.atomic():
            profile, _created = Profile.objects.select_for_update().get_or_create(
                user=user
            )
            old = profile.avatar.name
            profile.avatar.name = stored
            profile.appearance += 1
            profile.save(update_fields=["avatar", "appearance"])
            if old:
                transaction.on_commit(lambda: default_storage.delete(old))
    except BaseException:
        default_storage.delete(stored)  # nothing refers to it
        raise
    return profile


def avatar_remove(*, user: AbstractBaseUser) -> Profile:
    """Back to initials; the file goes once the change is committed."""
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(user=user).first()
        if profile is None or not profile.avatar:
            return profile or Profile(user=user)
        old = profile.avatar.name
        profile.avatar = ""
        profile.appearance += 1
        profile.save(update_fields=["avatar", "appearance"])
        transaction.on_commit(lambda: default_storage.delete(old))
    return profile


def password_change(*, user: AbstractBaseUser, new_password: str) -> None:
    """Set a new password (already checked by Django's PasswordChangeForm);
    the caller keeps its own session with update_session_auth_hash, every
    other session of the user ends."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
