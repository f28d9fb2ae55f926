"""Seed the benchmark's scratch database: users, rooms, history and sessions.

Run by bench/run.py with the server's environment (same DATABASE_URL, same
secret key), after `migrate`:

    python bench/seed.py --out seed.json --clients 1000 --big 1000000

Users, rooms and sessions are written directly (a browser that logged in
earlier has nothing but a session row and a cookie); the bench user for parts
(a) and (c) logs in through the real login form instead. History is inserted
with one INSERT ... SELECT per room, so a million messages take seconds.
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import (  # noqa: E402
    get_user_model,
)
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F  # noqa: E402

from chat import services  # noqa: E402
from chat.models import Membership, Message, Room  # noqa: E402
from tests.chatdb import make_sessions  # noqa: E402

BENCH_USER = "bench"
BENCH_PASSWORD = "bench-pass-8472-long"  # a scratch database only
LOAD_ROOMS = 10
SENDERS_PER_ROOM = 1
LOAD_HISTORY = 200  # messages already in each load room
POLL_ROOM_HISTORY = 50
SMALL_HISTORY = 100
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def insert_history(room: Room, user_ids: list[int], count: int) -> None:
    """`count` plain messages in `room`, authors taken in turn from user_ids,
    all at one time: with the neighbours the services would store (one day,
    so no separators; the authors alternate, so no groups)."""
    when = connection.ops.adapt_datetimefield_value(datetime(2025, 1, 1, tzinfo=UTC))
    table = Message._meta.db_table
    n_users = len(user_ids)
    # The author is picked by position: user_ids[x % n] via a CASE expression.
    author = (
        "CASE "
        + " ".join(
            f"WHEN x %% {n_users} = {i} THEN {uid}" for i, uid in enumerate(user_ids)
        )
        + " END"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (room_id, user_id, kind, content, mentions, "
                "created_at, seq, reactions_seen, previous_at, continues, "
                f"attachment_count) SELECT %s, {author}, 'message', "
                "'history message number ' || x, "
                "'[]'::jsonb, %s, 0, '[]'::jsonb, %s, false, 0 "
                "FROM generate_series(1, %s) AS x",
                [room.pk, when, when, count],
            )
        else:
            cursor.execute(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                f"WHERE x < %s) INSERT INTO {table} (room_id, user_id, kind, "
                "content, mentions, created_at, seq, reactions_seen, previous_at, "
                f"continues, attachment_count) SELECT %s, {author}, 'message', "
                "'history message number ' || x, '[]', %s, 0, '[]', %s, 0, 0 FROM c",
                [count, room.pk, when, when],
            )

    # Numbered as the migration numbers stored messages: ids rise in order.
    Message.objects.filter(room=room, seq=0).update(seq=F("id"))
    Room.objects.filter(pk=room.pk).update(seq=last_id(room))


def last_id(room: Room) -> int:
    return (
        Message.objects.filter(room=room)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--big", type=int, default=1_000_000)
    args = parser.parse_args()

    started = time.monotonic()
    User = get_user_model()
    password = make_password(BENCH_PASSWORD)  # hashed once, shared
    names = (
        [BENCH_USER]
        + [f"sender-{r}" for r in range(LOAD_ROOMS * SENDERS_PER_ROOM)]
        + [f"reader-{i}" for i in range(args.users)]
    )
    with transaction.atomic():
        User.objects.bulk_create(
            [User(username=n, password=password) for n in names], batch_size=500
        )
        users = {u.username: u for u in User.objects.filter(username__in=names)}
        bench = users[BENCH_USER]
        senders = [users[f"sender-{r}"] for r in range(LOAD_ROOMS)]
        readers = [users[f"reader-{i}"] for i in range(args.users)]

        def room(slug: str) -> Room:
            return Room.objects.create(name=slug, slug=slug, created_by=bench)

        poll_room = room("bench-poll")
        react_room = room("bench-react")  # its last change: a reaction
        small = room("history-small")
        big = room("history-big")
        load_rooms = [room(f"load-{r}") for r in range(LOAD_ROOMS)]
    authors = [bench.pk, *(s.pk for s in senders[:3])]

    t0 = time.monotonic()
    with transaction.atomic():
        insert_history(poll_room, authors, POLL_ROOM_HISTORY)
        insert_history(react_room, authors, POLL_ROOM_HISTORY)
        insert_history(small, authors, SMALL_HISTORY)
        for r in load_rooms:
            insert_history(r, [s.pk for s in senders] + [readers[0].pk], LOAD_HISTORY)
    t1 = time.monotonic()
    with transaction.atomic():
        insert_history(big, authors, args.big)
    big_seconds = time.monotonic() - t1
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    history_seconds = time.monotonic() - t0

    # Everyone has been in their rooms before: no join notices during the run,
    # and last-read at the newest message.
    with transaction.atomic():
        visits = [
            Membership(room=r, user=bench, last_read_id=last_id(r))
            for r in (poll_room, small, big)
        ]
        for r in load_rooms:
            newest = last_id(r)
            visits += [
                Membership(room=r, user=u, last_read_id=newest)
                for u in [*senders, *readers]
            ]
        # The reaction room: everyone is in it (a busy room); its last change
        # is a reaction to a message every page holds.
        visits += [
            Membership(room=react_room, user=u, last_read_id=last_id(react_room))
            for u in [bench, *senders, *readers]
        ]
        Membership.objects.bulk_create(visits, batch_size=1000)
        reacted = Message.objects.filter(room=react_room).order_by("-id")[5]
        services.reaction_toggle(message=reacted, user=senders[0], emoji="👍")
        clients = make_sessions(readers, args.clients)
        for i, client in enumerate(clients):
            client["room"] = load_rooms[i % LOAD_ROOMS].slug
        sender_sessions = make_sessions(senders, LOAD_ROOMS)
        for r, s in zip(load_rooms, sender_sessions, strict=True):
            s["room"] = r.slug

    result = {
        "bench_user": BENCH_USER,
        "bench_password": BENCH_PASSWORD,
        "poll_room": poll_room.slug,
        "react_room": react_room.slug,
        "history_rooms": {
            "small": {"slug": small.slug, "messages": SMALL_HISTORY},
            "big": {"slug": big.slug, "messages": args.big},
        },
        "load_rooms": [r.slug for r in load_rooms],
        "clients": clients,
        "senders": sender_sessions,
        "users": len(names),
        "messages_total": Message.objects.count(),
        "seconds": {
            "total": round(time.monotonic() - started, 2),
            "history": round(history_seconds, 2),
            "big_room": round(big_seconds, 2),
        },
        "vendor": connection.vendor,
    }
    Path(args.out).write_text(json.dumps(result))
    print(
        f"seeded {len(names)} users, {result['messages_total']:,} messages "
        f"({args.big:,} in {big.slug} in {big_seconds:.1f} s), "
        f"{len(clients) + len(sender_sessions)} sessions "
        f"in {result['seconds']['total']:.1f} s"
    )


if __name__ == "__main__":
    main()
