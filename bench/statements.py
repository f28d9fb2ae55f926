"""The hand-written statements against what the ORM would run instead, in
one process on the benchmark's database: microseconds per call, the median
of alternating batches. Run by bench/run.py (part b) with the chat's
environment; prints JSON.

    python bench/statements.py ROOM_SLUG USERNAME
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from chat.live import query  # noqa: E402
from chat.models import Membership, Message, Room  # noqa: E402


def per_call(fn, count: int = 300) -> float:
    started = time.perf_counter()
    for _ in range(count):
        fn()
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    room = Room.objects.get(slug=sys.argv[1])
    user = get_user_model().objects.get(username=sys.argv[2])
    newest = Message.objects.filter(room=room).order_by("-id").first().id

    # Both leave the mark where it is (already at newest): the same work as
    # a poll's UPDATE that finds its row, without moving it between runs.
    def orm() -> None:
        Membership.objects.filter(
            room_id=room.pk, user_id=user.pk, last_read_id__lt=newest
        ).update(last_read_id=newest)

    def sql() -> None:
        query.mark_read(room_id=room.pk, user_id=user.pk, message_id=newest)

    orm()
    sql()
    runs: dict[str, list[float]] = {"orm": [], "sql": []}
    for n in range(10):
        for name, fn in (
            (("orm", orm), ("sql", sql)) if n % 2 else (("sql", sql), ("orm", orm))
        ):
            runs[name].append(per_call(fn))
    median = {k: sorted(v)[len(v) // 2] for k, v in runs.items()}
    print(
        json.dumps(
            {
                "mark_read_orm_us": round(median["orm"], 1),
                "mark_read_sql_us": round(median["sql"], 1),
                "ratio": round(median["orm"] / median["sql"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
