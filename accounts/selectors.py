"""Reads of the accounts app: how a user is named and drawn.

Given a User fetched with select_related("profile"), none of these queries
the database (a user without a profile has the defaults); given one
without, the first asks for the profile once and the user keeps it."""

import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse

from accounts.models import Profile

# Initials are drawn on one of these, picked by the user's id: dark text on
# a light tint (contrast well above WCAG AA's 4.5:1 in each pair). Listed
# whole so that Tailwind, which scans accounts/, builds every class.
PALETTE = (
    "bg-rose-100 text-rose-900",
    "bg-orange-100 text-orange-900",
    "bg-amber-100 text-amber-900",
    "bg-lime-100 text-lime-900",
    "bg-emerald-100 text-emerald-900",
    "bg-cyan-100 text-cyan-900",
    "bg-indigo-100 text-indigo-900",
    "bg-fuchsia-100 text-fuchsia-900",
)

# size name: (pixels, the box's classes, the initials' text size)
SIZES = {
    "xs": (24, "h-6 w-6", "text-[0.625rem]"),  # beside a line of small text
    "sm": (32, "h-8 w-8", "text-xs"),
    "md": (48, "h-12 w-12", "text-base"),
    "lg": (96, "h-24 w-24", "text-3xl"),
}
DEFAULT_SIZE = "sm"


def profile_of(user) -> Profile | None:
    """The user's profile, None when they have none (then the defaults)."""
    if user is None or isinstance(user, Mapping) or not getattr(user, "pk", None):
        return None
    try:
        return user.profile
    except ObjectDoesNotExist:
        return None


def name_of(user) -> str:
    """What others see: the display name, else the username."""
    if isinstance(user, Mapping):  # sample data, or user_drawn's columns
        return user.get("display_name") or user.get("username") or ""
    profile = profile_of(user)
    if profile is not None and profile.display_name:
        return profile.display_name
    return user.get_username()


def handle_of(user) -> str:
    """The "@username" where the name shown is a display name: printed beside
    it wherever two people could be taken for each other (a display name
    may be anyone's), it tells them apart. "" where the name shown is the
    username, which is no one else's."""
    if isinstance(user, Mapping):
        username = user.get("username") or ""
    else:
        username = user.get_username()
    if not username or name_of(user) == username:
        return ""
    return f"@{username}"


def appearance_key(user) -> str:
    """A short string that changes whenever how the user is drawn does (a
    display name, an avatar): for cache keys of what draws them. It is
    Profile.appearance, the counter accounts.services raise on each such
    change (the only writers: Profile has no admin), which the sidebar's
    version reads too, so both notice a new look the same way."""
    profile = None if isinstance(user, Mapping) else profile_of(user)
    if profile is None:
        return "-"
    return str(profile.appearance)


@dataclass(frozen=True)
class Avatar:
    """What templates/accounts/partials/avatar.html draws."""

    url: str  # the uploaded image, "" for initials
    initials: str
    colour: str  # the palette's classes
    px: int
    box: str  # size classes
    text: str  # initials' text size


def avatar_of(user, size: str = DEFAULT_SIZE) -> Avatar:
    px, box, text = SIZES.get(size, SIZES[DEFAULT_SIZE])
    if isinstance(user, Mapping):  # sample data, user_drawn: id, avatar_url
        user_id, url = user.get("id") or 0, user.get("avatar_url") or ""
    else:
        user_id, url = user.pk or 0, ""
        profile = profile_of(user)
        if profile is not None and profile.avatar:
            url = avatar_url(user_id=user_id, stored_name=profile.avatar.name)
    return Avatar(
        url=url,
        initials=initials(name_of(user)),
        colour=PALETTE[user_id % len(PALETTE)],
        px=px,
        box=box,
        text=text,
    )


def avatar_url(*, user_id: int, stored_name: str) -> str:
    return reverse(
        "accounts:avatar",
        kwargs={"user_id": user_id, "name": os.path.basename(stored_name)},
    )


# What a grapheme may carry after its first code point (without the
# `regex` module's \X): combining marks, variation selectors, emoji skin
# tones, tag characters (subdivision flags), and a zero-width joiner with
# whatever it joins.
_ZWJ = "\u200d"


def _extends(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) in {"Mn", "Mc", "Me"}
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _first_grapheme(word: str) -> str:
    """The word's first visible character with all that combines with it."""
    start = next(
        (i for i, char in enumerate(word) if unicodedata.category(char)[0] in "LNS"),
        None,
    )
    if start is None:
        return ""
    end = start + 1
    if 0x1F1E6 <= ord(word[start]) <= 0x1F1FF:  # a flag: two regional letters
        if end < len(word) and 0x1F1E6 <= ord(word[end]) <= 0x1F1FF:
            end += 1
        return word[start:end]
    while end < len(word):
        if _extends(word[end]):
            end += 1
        elif word[end] == _ZWJ and end + 1 < len(word):
            end += 2
        else:
            break
    grapheme = unicodedata.normalize("NFC", word[start:end])
    upper = grapheme.upper()
    # "ß".upper() is "SS": one letter must stay one letter.
    return upper if len(upper) == len(grapheme) else grapheme


def initials(name: str) -> str:
    """One or two letters for a name: the first of its first word and of its
    last ("Ada Lovelace" → "AL", "bob" → "B", "山田" → "山"); words split at
    white space and at the . _ - a username may use."""
    for sep in "._-":
        name = name.replace(sep, " ")
    firsts = [g for g in (_first_grapheme(word) for word in name.split()) if g]
    if not firsts:
        return "?"
    if len(firsts) == 1:
        return firsts[0]
    return firsts[0] + firsts[-1]


def user_drawn(
    *, user_id: int, username: str, display_name: str | None, avatar_name: str | None
) -> dict:
    """A user as avatar_of and name_of take them, from columns a list's own
    query read (the user's id, username, and their profile's display name
    and avatar file, None without a profile): no model, no query per row."""
    return {
        "id": user_id,
        "username": username,
        "display_name": display_name or "",
        "avatar_url": (
            avatar_url(user_id=user_id, stored_name=avatar_name) if avatar_name else ""
        ),
    }
