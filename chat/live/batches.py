"""Polls that deliver share what they deliver.

A message sent to a room with a hundred open tabs is asked for by a hundred
polls within two seconds, nearly all with the same cursor. The batch for
(room, cursor, newest id) is fixed once the newest id is known: ids commit in
room order (services._message_insert), so what lies after the cursor up to
that id never changes. Each process keeps the batches asked for lately, and
one ORM query serves every poll of the same batch; each poll's own grant is
still checked by its own query (chat.live.query), and each viewer's read
mark is still written.
"""

from chat import selectors
from chat.models import Message, Room

LIMIT = 2048  # batches kept per process; all are dropped when it is reached

_batches: dict[tuple[int, int, int], tuple[Room | None, list[Message]]] = {}


def shared(*, room_id: int, after: int, newest: int) -> tuple[Room | None, list]:
    """The room (None if it was deleted) and its messages after `after` up to
    `newest`, at most CHAT_POLL_LIMIT of them: read once per process."""
    key = (room_id, after, newest)
    hit = _batches.get(key)
    if hit is None:
        room = selectors.room_by_id(room_id)
        batch = []
        # A poll sent on by a change in who is here, with nothing new: the
        # room is all it needs.
        if room is not None and newest > after:
            batch = selectors.messages_after(room=room, after=after, upto=newest)
        if len(_batches) >= LIMIT:
            _batches.clear()
        # Threads may read the same batch at once; both are the same.
        hit = _batches[key] = (room, batch)
    return hit


def forget() -> None:
    """Drop every batch (tests call it between tests)."""
    _batches.clear()
