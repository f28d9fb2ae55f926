"""Signed poll grants: the empty poll's hot path without session or user reads.

The poller's URL carries `t`, a signed {user, room, slug, issued-at}. A poll
with a fresh grant and nothing new is answered 204 after one HMAC check and one
indexed existence query; anything else (new messages, an old or invalid grant)
takes the full path: session, user, access check, render, and a new grant in
the new poller. So a user who logs out or loses access to a room is refused
within CHAT_POLL_TOKEN_MAX_AGE seconds at most.

A grant is also tied to the session that asked for it: issuing one marks the
session alive in the shared cache, and ending the session (logout, expiry
clean-up, deletion by an administrator) removes the mark, so the very next
poll takes the full path and is sent to the login page.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache

SALT = "chat.poll-grant"


@dataclass(frozen=True)
class Grant:
    user_id: int
    room_id: int
    slug: str
    username: str
    session: str  # hash of the session key
    issued_at: int


_signer_for: tuple[tuple, signing.Signer] | None = None


def _signer() -> signing.Signer:
    """One Signer per secret key, not one per poll (tests change the key)."""
    global _signer_for
    key = (settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    cached = _signer_for
    if cached is None or cached[0] != key:
        cached = _signer_for = (key, signing.Signer(salt=SALT))
    return cached[1]


def _alive_key(session_hash: str) -> str:
    return f"chat:session-alive:{session_hash}"


def session_hash(session_key: str | None) -> str:
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:32]


def issue(
    *,
    user_id: int,
    room_id: int,
    slug: str,
    username: str,
    session_key: str | None,
    reuse: str | None = None,
) -> str:
    """A grant for this user, room and session. `reuse` is the grant the
    request came with: while it is young and says the same, it is handed back
    as is, so a poll that delivers messages costs no signing and no write to
    the shared cache (the session mark is renewed with the grant)."""
    digest = session_hash(session_key)
    if reuse:
        current = verify(reuse, slug=slug)
        if (
            current is not None
            and (current.user_id, current.room_id, current.username, current.session)
            == (user_id, room_id, username, digest)
            and time.time() - current.issued_at < settings.CHAT_POLL_TOKEN_MAX_AGE / 4
        ):
            return reuse
    # Outlives the grant's half-life, after which the full path renews both.
    cache.set(_alive_key(digest), 1, timeout=settings.CHAT_POLL_TOKEN_MAX_AGE)
    payload = {
        "u": user_id,
        "r": room_id,
        "s": slug,
        "n": username,
        "k": digest,
        "t": int(time.time()),
    }
    return _signer().sign_object(payload)


def session_alive(grant: Grant) -> bool:
    return cache.has_key(_alive_key(grant.session))


def session_ended(session_key: str | None) -> None:
    """Grants of this session stop working at once (see chat.apps)."""
    if session_key:
        cache.delete(_alive_key(session_hash(session_key)))


def verify(token: str, *, slug: str) -> Grant | None:
    """The grant if `token` is genuine, for this slug, and young enough to
    skip the full path (half its life: the full path renews it in time)."""
    try:
        data = _signer().unsign_object(token)
        grant = Grant(
            user_id=int(data["u"]),
            room_id=int(data["r"]),
            slug=str(data["s"]),
            username=str(data["n"]),
            session=str(data["k"]),
            issued_at=int(data["t"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    age = time.time() - grant.issued_at
    if grant.slug != slug or not 0 <= age < settings.CHAT_POLL_TOKEN_MAX_AGE / 2:
        return None
    return grant
