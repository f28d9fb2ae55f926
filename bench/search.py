"""Search over the benchmark's history (part search): chat.search's
message_search in one process, for a few realistic queries, beside the same
query as an unindexed scan (`content__icontains`, newest first, one page).
Run by bench/run.py with the chat's environment, after bench/seed.py; prints
JSON.

    python bench/search.py USERNAME BIG_ROOM SMALL_ROOM BIG_COUNT [--runs N]

The seeded history reads "history message number <n>", n counting up in
each room: a number above the small rooms' counts is a rare word (one
message of the big room), "message" is in every message, and a number's
first digits are a prefix of a hundred-odd words.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from chat import search, selectors  # noqa: E402
from chat.models import Message, Room  # noqa: E402


def queries(big: int, big_room: Room, small_room: Room) -> list[dict]:
    rare = str(big * 2 // 3 + 7)
    middle = str(big // 2 + 3)
    return [
        {"name": "rare word", "query": rare, "scan": rare},
        {"name": "common word", "query": "message", "scan": "message"},
        {
            "name": "phrase",
            "query": f'"message number {middle}"',
            "scan": f"message number {middle}",
        },
        {"name": "prefix", "query": f"{rare[:4]}*", "scan": rare[:4]},
        {
            # A word of every message, in a small room beside a big one.
            "name": "common word, one small room",
            "query": "message",
            "scan": "message",
            "room": small_room,
        },
        {
            "name": "rare word, the big room",
            "query": rare,
            "scan": rare,
            "room": big_room,
        },
    ]


def timed(fn) -> tuple[float, int]:
    started = time.perf_counter()
    count = fn()
    return (time.perf_counter() - started) * 1000, count


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("username")
    parser.add_argument("big_room")
    parser.add_argument("small_room")
    parser.add_argument("big", type=int)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--scan-runs", type=int, default=10)
    args = parser.parse_args()
    user = get_user_model().objects.get(username=args.username)
    big_room = Room.objects.get(slug=args.big_room)
    small_room = Room.objects.get(slug=args.small_room)
    cases = queries(args.big, big_room, small_room)

    def indexed(case: dict):
        return lambda: len(
            search.message_search(
                user=user, query=case["query"], room=case.get("room")
            ).results
        )

    def scan(case: dict):
        # The same page without the index: the visible rooms' messages whose
        # text holds the words, newest first.
        rooms = selectors.rooms_visible_to(user=user)
        if case.get("room"):
            rooms = rooms.filter(pk=case["room"].pk)
        found = Message.objects.filter(
            room__in=rooms.values("pk"),
            kind__in=search.KINDS,
            deleted_at__isnull=True,
            content__icontains=case["scan"],
        ).order_by("-id")
        return lambda: len(list(found.select_related("room", "user")[:20]))

    for case in cases:  # warm: caches, the connection, SQLite's pages
        for _ in range(3):
            indexed(case)()
        scan(case)()
    times: dict[str, list[float]] = {c["name"]: [] for c in cases}
    scans: dict[str, list[float]] = {c["name"]: [] for c in cases}
    counts: dict[str, tuple[int, int]] = {}
    # Round after round, every query in turn: a noisy moment touches all.
    for n in range(args.runs):
        for case in cases:
            ms, found = timed(indexed(case))
            times[case["name"]].append(ms)
            if n < args.scan_runs:
                scan_ms, scanned = timed(scan(case))
                scans[case["name"]].append(scan_ms)
                counts[case["name"]] = (found, scanned)
    rows = []
    for case in cases:
        name = case["name"]
        p50 = statistics.median(times[name])
        scan_p50 = statistics.median(scans[name])
        rows.append(
            {
                "name": name,
                "query": case["query"],
                "room": case["room"].slug if case.get("room") else None,
                "results": counts[name][0],
                "scan_results": counts[name][1],
                "p50_ms": round(p50, 3),
                "p99_ms": round(percentile(times[name], 0.99), 3),
                "max_ms": round(max(times[name]), 3),
                "scan_p50_ms": round(scan_p50, 3),
                "ratio": round(scan_p50 / p50, 1),
            }
        )
    print(
        json.dumps(
            {
                "queries": rows,
                "runs": args.runs,
                "scan_runs": args.scan_runs,
                "messages": Message.objects.count(),
                "vendor": connection.vendor,
            }
        )
    )


if __name__ == "__main__":
    main()
