"""No message lost: 16 senders x 100 messages into one room through a real
multi-worker gunicorn while 8 pollers follow ?after=, on SQLite and (when
DATABASE_URL names one) PostgreSQL. See docs/deploy.md for why it holds."""

import os
from collections import Counter

import pytest

from tests.concurrency.conftest import race
from tests.concurrency.harness import PollerLog, SenderLog, delivery_problems
from tests.servers import is_postgres

ON_POSTGRES = is_postgres(os.environ.get("DATABASE_URL"))


@pytest.mark.parametrize("atomic_requests", ["1", "0"])
def test_every_poller_sees_every_message_once_in_order(start_node, atomic_requests):
    node = start_node(DJANGO_ATOMIC_REQUESTS=atomic_requests)
    result = race(node, senders=16, messages=100, pollers=8)

    problems = delivery_problems(result.truth, result.pollers, result.senders)
    assert not problems, "\n".join(problems)
    assert sum(len(s.acked) for s in result.senders) == 1600
    assert len(result.truth) == 1600
    # Every poller saw the same sequence: the stored one.
    assert all(p.ids == result.truth for p in result.pollers)
    # Empty polls were answered too (the 204 path was part of the race).
    assert sum(p.statuses[204] for p in result.pollers) > 0


def test_the_race_test_fails_when_the_send_path_loses_its_guards(start_node):
    """The test of the test. The same race against the send path with its
    ordering guarantee removed (the room's change number read, and written
    back after the insert, without the room's lock in between; on SQLite,
    deferred instead of immediate transactions) must be caught, while the
    same slowed-down send path with its guards kept passes. A few
    milliseconds of extra work after the insert, in the same transaction,
    stand for whatever else a send transaction does and make the window wide
    enough to hit every time."""
    settings = "tests.concurrency.unguarded.settings"
    common = {
        "DJANGO_SETTINGS_MODULE": settings,
        "DJANGO_ATOMIC_REQUESTS": "1",
        "CHAT_TEST_SEND_DELAY_MS": "4",
    }
    guarded = race(start_node(**common, CHAT_TEST_GUARDS="1"), messages=40)
    problems = delivery_problems(guarded.truth, guarded.pollers, guarded.senders)
    assert not problems, "\n".join(problems)

    unguarded = race(start_node(**common, CHAT_TEST_GUARDS="0"), messages=40)
    problems = delivery_problems(unguarded.truth, unguarded.pollers, unguarded.senders)
    assert problems, "the race went unnoticed without the send path's guards"
    if ON_POSTGRES:
        # Ids committed out of order: some pollers skipped some messages.
        assert any("never saw" in p for p in problems), problems
    else:
        # Lock upgrades fail: "database is locked" answered as 500.
        assert any("500" in p for p in problems), problems


def test_the_checker_names_each_kind_of_failure():
    truth = [1, 2, 3, 4]
    ok = PollerLog("ok", ids=[1, 2, 3, 4], statuses=Counter({200: 3, 204: 9}))
    assert delivery_problems(truth, [ok], []) == []

    gap = PollerLog("gap", ids=[1, 2, 4])
    twice = PollerLog("twice", ids=[1, 2, 2, 3, 4])
    swapped = PollerLog("swapped", ids=[1, 3, 2, 4])
    failed = PollerLog("failed", ids=[1, 2, 3, 4], statuses=Counter({500: 1}))
    sender = SenderLog("sender", acked={"hello": 5})
    problems = delivery_problems(truth, [gap, twice, swapped, failed], [sender])

    assert "poller gap never saw 1: [3]" in problems
    assert "poller twice saw twice: [2]" in problems
    assert "poller swapped saw ids out of order" in problems
    assert "failed: HTTP statuses {500: 1}" in problems
    assert "sender: acknowledged but not stored: ['hello']" in problems
