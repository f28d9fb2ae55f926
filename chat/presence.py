"""Who is in a room and who is typing, kept in the shared cache.

Polls record presence (a cache write at most every few seconds per user, never
a database write); the typing endpoint records typing. Each poller carries the
version of what its page shows, so a poll whose room activity is unchanged can
still be answered 204 on the hot path.
"""

import time
import zlib
from dataclasses import dataclass

from django.core.cache import cache

PRESENT_FOR = 10  # seconds after a user's last poll
TYPING_FOR = 4  # seconds after the last keystroke report
REFRESH_EVERY = 3  # write one's own presence at most this often
THROTTLE_TYPING = 2  # accept a typing report at most this often


def _key(kind: str, room_id: int) -> str:
    return f"chat:{kind}:{room_id}"


@dataclass(frozen=True)
class Activity:
    present: tuple[str, ...]
    typing: tuple[str, ...]  # others typing, as the viewer sees it

    @property
    def version(self) -> str:
        text = ",".join(self.present) + "|" + ",".join(self.typing)
        return format(zlib.crc32(text.encode()), "x")


def _activity(present: dict, typing: dict, viewer: int, now: float) -> Activity:
    return Activity(
        present=tuple(
            sorted(n for n, seen in present.values() if now - seen < PRESENT_FOR)
        ),
        typing=tuple(
            sorted(
                n for uid, (n, until) in typing.items() if uid != viewer and until > now
            )
        ),
    )


# What this process last read of each room's activity, reused for a moment:
# a worker serving a hundred tabs of one room reads the shared cache about
# once a second for all of them instead of once per poll. Writes from this
# process update it, so only other processes' changes wait (<= LOCAL_FOR).
LOCAL_FOR = 1.0
_local: dict[int, tuple[float, dict, dict]] = {}


def forget_local() -> None:
    _local.clear()


def _read(room_id: int, now: float) -> tuple[dict, dict]:
    hit = _local.get(room_id)
    if hit is not None and now - hit[0] < LOCAL_FOR:
        return hit[1], hit[2]
    pkey, tkey = _key("present", room_id), _key("typing", room_id)
    data = cache.get_many([pkey, tkey])
    present, typing = data.get(pkey) or {}, data.get(tkey) or {}
    _local[room_id] = (now, present, typing)
    return present, typing


def seen(*, room_id: int, user_id: int, username: str) -> Activity:
    """Record that the user's page is polling the room; what they should see."""
    now = time.time()
    present, typing = _read(room_id, now)
    mine = present.get(user_id)
    if mine is None or now - mine[1] >= REFRESH_EVERY:
        present = {u: e for u, e in present.items() if now - e[1] < PRESENT_FOR}
        present[user_id] = (username, now)
        cache.set(_key("present", room_id), present, timeout=PRESENT_FOR * 3)
        _local[room_id] = (now, present, typing)
    return _activity(present, typing, user_id, now)


def seen_by(*, room_id: int, user) -> Activity:
    """seen() for a signed-in user object."""
    return seen(room_id=room_id, user_id=user.pk, username=user.get_username())


def current(*, room_id: int, user_id: int) -> Activity:
    """What the user should see, without recording them as here."""
    now = time.time()
    present, typing = _read(room_id, now)
    return _activity(present, typing, user_id, now)


def typing(*, room_id: int, user_id: int, username: str, active: bool) -> None:
    """The user typed (active) or sent/cleared their input (not active)."""
    now = time.time()
    key = _key("typing", room_id)
    entries = cache.get(key) or {}
    current = entries.get(user_id)
    if active:
        if current and current[1] - now > TYPING_FOR - THROTTLE_TYPING:
            return  # reported moments ago
        entries[user_id] = (username, now + TYPING_FOR)
    elif current is None:
        return
    else:
        del entries[user_id]
    entries = {u: e for u, e in entries.items() if e[1] > now}
    cache.set(key, entries, timeout=TYPING_FOR * 3)
    _local.pop(room_id, None)
