"""Signed poll grants: the empty poll's hot path without session or user reads.

The poller's URL carries `t`, a signed {user, room, slug, issued-at}. A poll
with a fresh grant and nothing new is answered 204 after one HMAC check and one
indexed existence query; anything else (new messages, an old or invalid grant)
takes the full path: session, user, access check, render, and a new grant in
the new poller. So a user who logs out or loses access to a room is refused
within CHAT_POLL_TOKEN_MAX_AGE seconds at most.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SALT = "chat.poll-grant"


@dataclass(frozen=True)
class Grant:
    user_id: int
    room_id: int
    slug: str
    username: str
    issued_at: int


def issue(*, user_id: int, room_id: int, slug: str, username: str) -> str:
    payload = {
        "u": user_id,
        "r": room_id,
        "s": slug,
        "n": username,
        "t": int(time.time()),
    }
    return signing.Signer(salt=SALT).sign_object(payload)


def verify(token: str, *, slug: str) -> Grant | None:
    """The grant if `token` is genuine, for this slug, and young enough to
    skip the full path (half its life: the full path renews it in time)."""
    try:
        data = signing.Signer(salt=SALT).unsign_object(token)
        grant = Grant(
            user_id=int(data["u"]),
            room_id=int(data["r"]),
            slug=str(data["s"]),
            username=str(data["n"]),
            issued_at=int(data["t"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    age = time.time() - grant.issued_at
    if grant.slug != slug or not 0 <= age < settings.CHAT_POLL_TOKEN_MAX_AGE / 2:
        return None
    return grant
