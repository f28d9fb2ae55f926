"""Signed poll grants: the poll's hot path without session or user reads
(and the sidebar's unchanged refresh, on a grant for the slug SIDEBAR).

The poller's URL carries `t`, a signed {user, room, slug, membership,
session, issued-at}, issued on the full path once the access rule
(chat.selectors.rooms_visible_to) held.
A poll with a fresh grant and nothing new is answered 204 after one HMAC check
and one indexed query (chat.live.middleware). With something new (messages, or a
change in who is here or typing), the view answers on the grant too, reading
the room's access rule afresh (an active user; a member, for a private room)
with the room, but not the session's data or the user's row, and hands the
same grant back. An old or
invalid grant takes the full path: session, user, access check, render, and a
new grant in the new poller. So a grant lives at most CHAT_POLL_TOKEN_MAX_AGE
/ 2 seconds (honoured_for): a user who loses access to a room gets nothing new
from it at once, and has empty polls answered for that long at most.

A grant names the session that asked for it (a hash of its key) and the
membership the user had in the room (0 for a public room they had not
joined). It counts only when the request carries that session's cookie, the
session's row is still in the database, the user is active and the
membership still exists, all checked in the same query as the messages
(chat.live.query): a logout, an expiry, a deactivation, leaving the room or
being removed from it ends it at the next poll, and a grant copied out of a
page is worthless without the cookie.
"""

import hashlib
import time
import zlib
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core import signing

from chat.presence import Activity

SALT = "chat.poll-grant"

# The slug a sidebar's grant names (its refresh: chat.views.sidebar): no
# room's, since slugs are letters, digits, - and _, so the sidebar's grant
# never passes for a room's poll, nor a poll's for the sidebar. It is issued
# for room 0 and membership 0, and checked for its session and user alone.
SIDEBAR = "/sidebar"


@dataclass(frozen=True)
class Grant:
    user_id: int
    room_id: int
    slug: str
    username: str
    membership_id: int  # 0: a public room the user has not joined
    staff: bool  # the user may moderate every room (as the grant was issued)
    session: str  # hash of the session key
    issued_at: int
    spread: float  # in [0, 1): where in the window this grant stops counting


@dataclass(frozen=True)
class GrantedPoll:
    """A poll whose grant, cookie and live session chat.live checked:
    the view may deliver on it (request.poll_grant)."""

    grant: Grant
    token: str  # as the poller sent it, handed back unchanged
    after: int  # the page's newest message id
    since: int  # the page's change number
    start: int  # the page's oldest message id (0: from the room's first)
    newest: int  # the room's change number, as the check read it
    activity: Activity
    activity_changed: bool  # the page shows another version of it
    readers: int | None  # the viewer's read receipts, as checked (None: none)
    receipts_changed: bool  # the page shows another count of them


_signer_for: tuple[tuple, signing.Signer] | None = None


def _signer() -> signing.Signer:
    """One Signer per secret key, not one per poll (tests change the key).
    Its separator is URL-safe, so a grant needs no escaping in a query."""
    global _signer_for
    key = (settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    cached = _signer_for
    if cached is None or cached[0] != key:
        cached = _signer_for = (key, signing.Signer(salt=SALT, sep="."))
    return cached[1]


def session_hash(session_key: str | None) -> str:
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:32]


def issue(
    *,
    user_id: int,
    room_id: int,
    slug: str,
    username: str,
    membership_id: int | None,
    session_key: str | None,
    staff: bool = False,
    reuse: str | None = None,
) -> str:
    """A grant for this user, room and session. `reuse` is the grant the
    request came with: while it is young and says the same, it is handed back
    as is, so a poll that delivers messages costs no signing."""
    digest = session_hash(session_key)
    membership_id = membership_id or 0
    says = (user_id, room_id, username, membership_id, staff, digest)
    if reuse:
        current = verify(reuse, slug=slug)
        if (
            current is not None
            and (
                current.user_id,
                current.room_id,
                current.username,
                current.membership_id,
                current.staff,
                current.session,
            )
            == says
            and time.time() - current.issued_at < settings.CHAT_POLL_TOKEN_MAX_AGE / 4
        ):
            return reuse
    payload = {
        "u": user_id,
        "r": room_id,
        "s": slug,
        "n": username,
        "m": membership_id,
        "a": int(staff),
        "k": digest,
        "t": int(time.time()),
    }
    return _signer().sign_object(payload)


def honoured_for(grant: Grant) -> float:
    """Seconds a grant skips the full path: between a quarter and half of
    CHAT_POLL_TOKEN_MAX_AGE, each grant its own share. Tabs opened together (a
    meeting, a restart) then renew theirs over a quarter of the window rather
    than all in the same second, which would queue every poll behind them."""
    return settings.CHAT_POLL_TOKEN_MAX_AGE / 4 * (1 + grant.spread)


def verify(token: str, *, slug: str) -> Grant | None:
    """The grant if `token` is genuine, for this slug, and young enough to
    skip the full path (see honoured_for; the full path renews it)."""
    grant = _unsign(token, _signer())
    if grant is None:
        return None
    age = time.time() - grant.issued_at
    if grant.slug != slug or not 0 <= age < honoured_for(grant):
        return None
    return grant


def holds(
    token: str | None, *, slug: str, user_id: int, session_key: str | None
) -> bool:
    """Whether `token` is a grant the hot path would take for this slug, user
    and session (its query aside): the full path then has nothing to renew."""
    grant = verify(token, slug=slug) if token else None
    return (
        grant is not None
        and grant.user_id == user_id
        and grant.session == session_hash(session_key)
    )


@lru_cache(maxsize=8192)
def _unsign(token: str, signer: signing.Signer) -> Grant | None:
    """What a token says, if its signature holds. Remembered per process: a
    tab's poller sends the same grant for half a minute, so most polls skip
    the HMAC and the JSON. A new secret key is a new signer, hence new
    entries; the age is checked on every use, outside the cache."""
    try:
        data = signer.unsign_object(token)
        return Grant(
            user_id=int(data["u"]),
            room_id=int(data["r"]),
            slug=str(data["s"]),
            username=str(data["n"]),
            membership_id=int(data["m"]),
            staff=bool(data.get("a", 0)),
            session=str(data["k"]),
            issued_at=int(data["t"]),
            spread=zlib.crc32(token.encode()) / 2**32,
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
