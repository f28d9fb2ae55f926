"""Polls that deliver share what they deliver.

A message sent to a room with a hundred open tabs is asked for by a hundred
polls within two seconds, nearly all holding the same cursor. What a page
holding (after, since, start) is missing, up to the room's change number
`newest`, is fixed once `newest` is known: changes commit in number order
(services._take_seq), so every change up to it is there to be read. Each
process keeps what was asked for lately, and one read serves every poll of
the same page state; each poll's own grant is still checked by its own
query (chat.live.query), and each viewer's read mark is still written.
"""

import sys
from collections.abc import Callable
from typing import NamedTuple

from chat import selectors
from chat.models import Message, Room

LIMIT = 2048  # entries kept per process, of each kind
# Bytes kept per process, of each kind, as weighed by _weight: entries come
# from cursors a client chooses, so their count alone bounds nothing.
BUDGET = 16 * 1024 * 1024
# What a message read costs in memory beyond its text, at most: the model
# instance, its author, its attachments' list and the reactions' copy. Read
# by messages_after, a message with its author and a reaction held 1.9 KB
# (tracemalloc, 201 messages); the rest is room for attachments.
MESSAGE_BYTES = 4096


class _Kept:
    """Entries of one kind, all dropped when one more would pass LIMIT or
    BUDGET. Threads may read and write at once: an entry is only ever
    replaced by an equal one, and the weights are a bound, not a ledger."""

    def __init__(self) -> None:
        self.entries: dict = {}
        self.weight = 0

    def get(self, key: tuple):
        return self.entries.get(key)

    def keep(self, key: tuple, value, weight: int):
        if len(self.entries) >= LIMIT or self.weight + weight > BUDGET:
            self.clear()
        self.entries[key] = value
        self.weight += weight
        return value

    def clear(self) -> None:
        self.entries.clear()
        self.weight = 0


def _weight(messages: list[Message]) -> int:
    return sum(MESSAGE_BYTES + sys.getsizeof(m.content) for m in messages)


# (room, after, newest) -> (room, new messages): shared by every page at
# that cursor; (room, after, since, start, newest) -> held messages changed:
# read only when something but new messages changed, shared by the pages
# that hold the same messages.
_new = _Kept()
_changed = _Kept()
# (page state, language, each message's look for the viewer) -> the drawn
# changes (chat/partials/changes.html): one rendering per look, per process.
_drawn = _Kept()


class Shared(NamedTuple):
    room: Room | None  # None: deleted
    changes: selectors.Changes | None  # None: nothing (or refused)
    refusal: str | None = None  # why no page can stand at the cursor


def shared(*, room_id: int, after: int, since: int, start: int, newest: int) -> Shared:
    """The room and what a page holding messages `start`..`after` as of
    change number `since` is missing, up to `newest` (no changes: a poll
    sent on by a change in who is here): read once per process. A cursor
    no page of the room can hold is refused (selectors.cursor_refusal)."""
    if newest == since:
        # Sent on by a change in who is here: the room is all it needs, and
        # no message is read, so the cursor bounds nothing here.
        key = (room_id, None, newest)
        hit = _new.get(key) or _new.keep(
            key, (selectors.room_by_id(room_id), [], None), MESSAGE_BYTES
        )
        return Shared(hit[0], None)
    hit = _new.get((room_id, after, newest))
    if hit is None:
        room = selectors.room_by_id(room_id)
        new = [] if room is None else selectors.messages_after(room=room, after=after)
        # With nothing new, whether `after` is past the room's newest message
        # takes a query (selectors.cursor_refusal): asked once with the batch.
        newest_id = None
        if room is not None and not new and after:
            newest_id = selectors.room_newest_id(room=room)
        hit = _new.keep((room_id, after, newest), (room, new, newest_id), _weight(new))
    room, new, newest_id = hit
    if room is None:
        return Shared(None, None)
    refusal = selectors.cursor_refusal(
        room=room,
        after=after,
        since=since,
        start=start,
        newest=newest,
        new=new,
        newest_id=newest_id,
    )
    if refusal:
        return Shared(room, None, refusal)
    changed: list[Message] = []
    if selectors.held_changes_possible(new=new, since=since, newest=newest):
        key = (room_id, after, since, start, newest)
        changed = _changed.get(key)
        if changed is None:
            changed = selectors.changes_held(
                room=room, since=since, newest=newest, start=start, after=after
            )
            _changed.keep(key, changed, _weight(changed))
    changes = selectors.page_changes(
        room=room,
        after=after,
        since=since,
        start=start,
        newest=newest,
        new=new,
        changed=changed,
    )
    return Shared(room, changes)


def drawn(key: tuple, draw: Callable[[], str]) -> str:
    """What `draw` draws for `key`, drawn once per process. The key must hold
    everything the drawing depends on."""
    hit = _drawn.get(key)
    if hit is None:
        hit = draw()
        _drawn.keep(key, hit, sys.getsizeof(hit))
    return hit


def forget() -> None:
    """Drop every entry (tests call it between tests)."""
    _new.clear()
    _changed.clear()
    _drawn.clear()
