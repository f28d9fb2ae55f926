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

from collections.abc import Callable

from chat import selectors
from chat.models import Message, Room

LIMIT = 2048  # entries kept per process; all are dropped when it is reached

# (room, after, newest) -> (room, new messages): shared by every page at
# that cursor; (room, after, since, start, newest) -> held messages changed:
# read only when something but new messages changed, shared by the pages
# that hold the same messages.
_new: dict[tuple, tuple[Room | None, list[Message]]] = {}
_changed: dict[tuple, list[Message]] = {}
# (page state, language, each message's look for the viewer) -> the drawn
# changes (chat/partials/changes.html): one rendering per look, per process.
_drawn: dict[tuple, str] = {}


def _keep(entries: dict, key: tuple, value):
    if len(entries) >= LIMIT:
        entries.clear()
    # Threads may read the same entry at once; both are the same.
    entries[key] = value
    return value


def shared(
    *, room_id: int, after: int, since: int, start: int, newest: int
) -> tuple[Room | None, selectors.Changes | None]:
    """The room (None if it was deleted) and what a page holding messages
    `start`..`after` as of change number `since` is missing, up to
    `newest` (None: nothing; a poll sent on by a change in who is here):
    read once per process."""
    if newest <= since:
        # Sent on by a change in who is here: the room is all it needs.
        key = (room_id, None, newest)
        hit = _new.get(key) or _keep(_new, key, (selectors.room_by_id(room_id), []))
        return hit[0], None
    hit = _new.get((room_id, after, newest))
    if hit is None:
        room = selectors.room_by_id(room_id)
        new = [] if room is None else selectors.messages_after(room=room, after=after)
        hit = _keep(_new, (room_id, after, newest), (room, new))
    room, new = hit
    if room is None:
        return None, None
    changed: list[Message] = []
    if selectors.held_changes_possible(new=new, since=since, newest=newest):
        key = (room_id, after, since, start, newest)
        changed = _changed.get(key)
        if changed is None:
            changed = _keep(
                _changed,
                key,
                selectors.changes_held(
                    room=room, since=since, newest=newest, start=start, after=after
                ),
            )
    changes = selectors.page_changes(
        room=room,
        after=after,
        since=since,
        start=start,
        newest=newest,
        new=new,
        changed=changed,
    )
    return room, changes


def drawn(key: tuple, draw: Callable[[], str]) -> str:
    """What `draw` draws for `key`, drawn once per process. The key must hold
    everything the drawing depends on."""
    hit = _drawn.get(key)
    if hit is None:
        hit = _keep(_drawn, key, draw())
    return hit


def forget() -> None:
    """Drop every entry (tests call it between tests)."""
    _new.clear()
    _changed.clear()
    _drawn.clear()
