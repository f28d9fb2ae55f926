"""A real multi-worker gunicorn on a scratch database, seeded from outside."""

import json
import os
import random
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
    WriterLog,
    change_problems,
    delete,
    delivery_problems,
    hammer,
    open_page,
    poll_until,
    send_messages,
    send_one,
    write_changes,
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

    def state(self, room: str) -> dict:
        """The room as stored (tests.concurrency.dbstate)."""
        out = run(
            self.env, sys.executable, "-m", "tests.concurrency.dbstate", "--room", room
        )
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


def caught_up_to(target: list[int]) -> Callable[[PollerLog], bool]:
    """A poller is caught up once a quiet poll, sent after the writers
    stopped, carries the room's final change number (`target[0]`, set
    before they are told)."""
    return lambda log: bool(target) and log.seq >= target[0]


class CatchUp:
    """When pollers give up: a long while from the start, for a race that
    hangs, and, once the writers are done, a while from then. Measured from
    the end of the writes, not the start, so a machine busy enough to slow
    the writes down does not eat into the pollers' catching up."""

    def __init__(self, *, hang: float = 900, after: float = 120):
        self.at = time.monotonic() + hang
        self.after = after

    def writes_done(self) -> None:
        self.at = min(self.at, time.monotonic() + self.after)

    def __call__(self) -> float:
        return self.at


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
    deadline = CatchUp()
    poll_threads = [
        threading.Thread(
            target=poll_until,
            args=(b, room, log),
            kwargs={
                "done": done,
                "caught_up": caught_up_to(target),
                "deadline": deadline,
            },
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
    state = node.state(room)
    truth = sorted(int(i) for i in state["messages"])
    target.append(state["seq"])
    deadline.writes_done()
    done.set()
    for t in poll_threads:
        t.join()
    return Race(truth, poller_logs, sender_logs, time.monotonic() - started)


@dataclass
class ChangesRace:
    state: dict  # tests.concurrency.dbstate, once the writers stopped
    pollers: list[PollerLog]
    writers: list[WriterLog]
    seconds: float

    def problems(self) -> list[str]:
        """change_problems, and delivery_problems for what each poller held
        (a page opened late holds its newest messages only)."""
        truth = sorted(int(i) for i in self.state["messages"])
        problems = change_problems(self.state, self.pollers, self.writers)
        for log in self.pollers:
            held = [i for i in truth if i >= log.start]
            problems += delivery_problems(held, [log], [])
        return problems + delivery_problems(truth, [], self.writers)


def changes_race(
    node: Node,
    *,
    roles: dict[str, int] | None = None,
    actions: int = 30,
    pollers: int = 4,
    late: int = 2,
    seed: int | None = None,
) -> ChangesRace:
    """Writers (`roles`: how many of each of harness.write_changes's roles,
    each taking `actions` actions) change one room while `pollers` pages
    follow it from its first message and `late` more open the room page
    once it has history, then follow it. What each page ended up showing,
    and what the room stored."""
    room = "changes"
    # The moderator first: the first user seeded creates the room.
    roles = roles or {
        "moderator": 1,
        "sender": 3,
        "editor": 3,
        "deleter": 2,
        "reactor": 3,
    }
    rng = random.Random(seed)
    names = [f"{role}-{i}" for role, n in roles.items() for i in range(n)]
    watchers = [f"poller-{i}" for i in range(pollers)]
    watchers += [f"late-{i}" for i in range(late)]
    # One seeding for everyone: each costs a Django start-up.
    tabs = node.browsers(room, names + watchers)
    write_tabs, watch_tabs = tabs[: len(names)], tabs[len(names) :]
    writer_logs = [WriterLog(b.user, role=b.user.split("-")[0]) for b in write_tabs]
    poller_logs = [PollerLog(b.user) for b in watch_tabs]
    pool: list[int] = []  # every message sent so far: what reactors pick from
    sent, done, target = threading.Event(), threading.Event(), []
    started = time.monotonic()
    deadline = CatchUp()

    def watch(browser: Browser, log: PollerLog) -> None:
        url = None
        if log.user.startswith("late-"):
            # Opens the page mid-race, once there is more than a page of it.
            while len(pool) < 40 and not done.is_set():
                time.sleep(0.05)
            url = open_page(browser, room, log)
            if url is None:
                return
        poll_until(
            browser,
            room,
            log,
            done=done,
            caught_up=caught_up_to(target),
            deadline=deadline,
            url=url,
        )

    poll_threads = [
        threading.Thread(target=watch, args=(b, log))
        for b, log in zip(watch_tabs, poller_logs, strict=True)
    ]
    write_threads = [
        threading.Thread(
            target=write_changes,
            args=(b, room, log),
            kwargs={
                "count": actions,
                "pool": pool,
                "rng": random.Random(rng.random()),
                "sent": sent,
            },
        )
        for b, log in zip(write_tabs, writer_logs, strict=True)
    ]
    for t in poll_threads + write_threads:
        t.start()
    # Once no more messages can come, those who change others' stop waiting.
    for t, log in zip(write_threads, writer_logs, strict=True):
        if log.role not in ("reactor", "moderator"):
            t.join()
    sent.set()
    for t in write_threads:
        t.join()
    state = node.state(room)
    target.append(state["seq"])
    deadline.writes_done()
    done.set()
    for t in poll_threads:
        t.join()
    return ChangesRace(state, poller_logs, writer_logs, time.monotonic() - started)


def tombstone_race(
    node: Node,
    *,
    messages: int = 20,
    editors: int = 2,
    reactors: int = 3,
    pollers: int = 2,
    seed: int | None = None,
) -> ChangesRace:
    """An author posts `messages` messages; then the room's creator deletes
    them one by one while the author (in `editors` tabs) edits and
    `reactors` users react to the next ones to go, and `pollers` pages
    follow. What each page ended up showing, and what the room stored."""
    room = "tombstones"
    rng = random.Random(seed)
    watchers = [f"poller-{i}" for i in range(pollers)]
    reacting = [f"reactor-{i}" for i in range(reactors)]
    tabs = node.browsers(room, ["moderator", "author", *reacting, *watchers])
    moderator, author = tabs[0], tabs[1]
    react_tabs, watch_tabs = tabs[2 : 2 + reactors], tabs[2 + reactors :]
    author_log = WriterLog(author.user, role="editor")
    cursor = [0]
    targets = [
        send_one(author, room, author_log, f"author-{i}", cursor)
        for i in range(messages)
    ]
    moderator_log = WriterLog(moderator.user, role="moderator")
    edit_logs = [WriterLog(author.user, role="editor") for _ in range(editors)]
    react_logs = [WriterLog(b.user, role="reactor") for b in react_tabs]
    poller_logs = [PollerLog(b.user) for b in watch_tabs]
    progress, stop, done, target = [0], threading.Event(), threading.Event(), []
    started = time.monotonic()
    deadline = CatchUp(after=60)

    def moderate() -> None:
        for message in targets:
            # A moment for the others to pile onto the next message to go.
            time.sleep(rng.uniform(0.01, 0.03))
            delete(moderator, room, moderator_log, message)
            progress[0] += 1
        stop.set()

    poll_threads = [
        threading.Thread(
            target=poll_until,
            args=(b, room, log),
            kwargs={
                "done": done,
                "caught_up": caught_up_to(target),
                "deadline": deadline,
            },
        )
        for b, log in zip(watch_tabs, poller_logs, strict=True)
    ]
    hammer_threads = [
        threading.Thread(
            target=hammer,
            args=(b, room, log),
            kwargs={
                "targets": targets,
                "progress": progress,
                "stop": stop,
                "rng": random.Random(rng.random()),
            },
        )
        for b, log in [
            *[(author.on(node.server.url), log) for log in edit_logs],
            *zip(react_tabs, react_logs, strict=True),
        ]
    ]
    write_threads = [threading.Thread(target=moderate), *hammer_threads]
    for t in poll_threads + write_threads:
        t.start()
    for t in write_threads:
        t.join()
    state = node.state(room)
    target.append(state["seq"])
    deadline.writes_done()
    done.set()
    for t in poll_threads:
        t.join()
    writers = [author_log, moderator_log, *edit_logs, *react_logs]
    return ChangesRace(state, poller_logs, writers, time.monotonic() - started)
