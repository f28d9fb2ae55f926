"""Writes of the accounts app."""

from django.contrib.auth.models import AbstractBaseUser

from accounts.models import Profile


def profile_get(*, user: AbstractBaseUser) -> Profile:
    """The user's settings (the defaults, unsaved, until first changed)."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def profile_update(*, user: AbstractBaseUser, read_receipts: bool) -> Profile:
    profile, _created = Profile.objects.update_or_create(
        user=user, defaults={"read_receipts": read_receipts}
    )
    return profile
