"""A real multi-worker gunicorn on a scratch database, seeded from outside."""

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.concurrency.harness import (
    Browser,
    PollerLog,
    SenderLog,
    poll_until,
    send_messages,
)
from tests.servers import (
    Gunicorn,
    collectstatic,
    migrate,
    production_env,
    run,
    scratch_database,
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/concurrency/" in str(item.fspath):
            item.add_marker(pytest.mark.concurrency)


@dataclass
class Node:
    server: Gunicorn
    env: dict

    def chatdb(self, *args: str):
        out = run(self.env, sys.executable, "-m", "tests.chatdb", *args)
        return json.loads(out.strip().splitlines()[-1])

    def browsers(self, room: str, users: list[str]) -> list[Browser]:
        seeded = self.chatdb("seed", "--room", room, "--users", *users)
        cookies = {"session": seeded["session_cookie"], "csrf": seeded["csrf_cookie"]}
        return [Browser(self.server.url, s, cookies) for s in seeded["sessions"]]


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("static") / "root"
    collectstatic(root)
    return root


@pytest.fixture
def start_node(tmp_path, static_root) -> Iterator[Callable[..., Node]]:
    """start_node(**env): gunicorn with the project's gunicorn.conf.py in
    production mode on a migrated scratch database (a new PostgreSQL database
    when DATABASE_URL names one, else SQLite). start_node(share_with=node)
    starts a second node on another port with the same database, cache and
    secret key, as docs/deploy.md describes."""
    stack = ExitStack()

    def start(share_with: Node | None = None, **extra: str) -> Node:
        if share_with is not None:
            env = share_with.env
        else:
            database_url = stack.enter_context(
                scratch_database(tmp_path, os.environ.get("DATABASE_URL"))
            )
            env = production_env(
                database_url,
                tmp_path / "cache",
                DJANGO_STATIC_ROOT=str(static_root),
                **extra,
            )
            migrate(env)
        n = len(list(tmp_path.glob("gunicorn-*.log")))
        server = Gunicorn(env, tmp_path / f"gunicorn-{n}.log")
        stack.enter_context(server)
        return Node(server=server, env=env)

    with stack:
        yield start


@dataclass
class Race:
    truth: list[int]
    pollers: list[PollerLog]
    senders: list[SenderLog]
    seconds: float


def race(
    node: Node, *, senders: int = 16, messages: int = 100, pollers: int = 8
) -> Race:
    """`senders` users post `messages` each into one room while `pollers`
    users follow it; what each saw, and what the room stored."""
    room = "race"
    send_tabs = node.browsers(room, [f"sender-{i}" for i in range(senders)])
    poll_tabs = node.browsers(room, [f"poller-{i}" for i in range(pollers)])
    sender_logs = [SenderLog(b.user) for b in send_tabs]
    poller_logs = [PollerLog(b.user) for b in poll_tabs]
    done, target = threading.Event(), []
    started = time.monotonic()
    deadline = started + 180
    poll_threads = [
        threading.Thread(
            target=poll_until,
            args=(b, room, log),
            kwargs={"done": done, "target": target, "deadline": deadline},
        )
        for b, log in zip(poll_tabs, poller_logs, strict=True)
    ]
    send_threads = [
        threading.Thread(
            target=send_messages,
            args=(b, room, log),
            kwargs={"count": messages, "tag": log.user},
        )
        for b, log in zip(send_tabs, sender_logs, strict=True)
    ]
    for t in poll_threads + send_threads:
        t.start()
    for t in send_threads:
        t.join()
    truth = node.chatdb("ids", "--room", room)
    target.append(max(truth, default=0))
    done.set()
    for t in poll_threads:
        t.join()
    return Race(truth, poller_logs, sender_logs, time.monotonic() - started)
