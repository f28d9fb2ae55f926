"""A room's messages as stored, read through the ORM from outside the server
(in its environment, like tests.chatdb):

    python -m tests.concurrency.dbstate --room race

prints {"seq": the room's change number, "messages": {id: {seq, content,
deleted, reactions: {emoji: count} from the Reaction rows, seen: the same
counted from the copy kept on the message}}}.
"""

import argparse
import json
import os
from collections import Counter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db.models import Count  # noqa: E402

from chat.models import Message, Reaction, Room  # noqa: E402


def state(room_slug: str) -> dict:
    room = Room.objects.get(slug=room_slug)
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Reaction.objects.filter(message__room=room)
        .values("message_id", "emoji")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts.setdefault(row["message_id"], {})[row["emoji"]] = row["n"]
    messages = {}
    for m in Message.objects.filter(room=room).order_by("id"):
        messages[m.pk] = {
            "seq": m.seq,
            "content": m.content,
            "deleted": m.deleted_at is not None,
            "reactions": counts.get(m.pk, {}),
            "seen": dict(Counter(emoji for emoji, *_who in m.reactions_seen)),
        }
    return {"seq": room.seq, "messages": messages}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--room", required=True)
    print(json.dumps(state(parser.parse_args().room)))


if __name__ == "__main__":
    main()
