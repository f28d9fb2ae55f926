"""chat.transient: a poll meets a passing lock with a retry or a 503, never
a 500; other errors and writes are left as they are."""

import sqlite3

import psycopg.errors
import pytest
from django.db import OperationalError

from chat import selectors, transient
from chat.live import query

pytestmark = pytest.mark.django_db


def _wrapped(cause: Exception) -> OperationalError:
    """`cause` as Django raises it: its OperationalError, from the driver's."""
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as error:
        return error


def _sqlite_error(sql: str, setup) -> sqlite3.OperationalError:
    try:
        setup()
        raise AssertionError(f"{sql} ran")
    except sqlite3.OperationalError as error:
        return error


def test_a_shared_cache_table_lock_is_transient():
    """The lock the browser suite met: two connections to one shared-cache
    in-memory database, one writing, the other reading the same table."""
    name = "file:transient-test?mode=memory&cache=shared"
    writer = sqlite3.connect(name, uri=True, isolation_level=None)
    reader = sqlite3.connect(name, uri=True, isolation_level=None)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN")
    writer.execute("INSERT INTO t VALUES (1)")
    error = _sqlite_error(
        "SELECT", lambda: reader.execute("SELECT * FROM t").fetchall()
    )
    writer.close(), reader.close()
    assert "table is locked" in str(error)
    assert transient.is_transient(_wrapped(error))


def test_a_busy_database_file_is_transient(tmp_path):
    path = tmp_path / "busy.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    error = _sqlite_error("BEGIN", lambda: waiter.execute("BEGIN IMMEDIATE"))
    holder.close(), waiter.close()
    assert "locked" in str(error)
    assert transient.is_transient(_wrapped(error))


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.errors.LockNotAvailable("lock timeout"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.SerializationFailure("could not serialize access"),
    ],
)
def test_postgresql_lock_and_conflict_errors_are_transient(cause):
    assert transient.is_transient(_wrapped(cause))


@pytest.mark.parametrize(
    "cause",
    [
        sqlite3.OperationalError("no such table: chat_room"),
        psycopg.errors.UndefinedTable('relation "chat_room" does not exist'),
        ValueError("not a database error"),
    ],
)
def test_other_errors_are_not(cause):
    assert not transient.is_transient(_wrapped(cause))


def _locked() -> OperationalError:
    error = sqlite3.OperationalError("database table is locked: chat_room")
    error.sqlite_errorcode = 6  # what SQLite sets on the real one
    return _wrapped(error)


class Flaky:
    """A stand-in for a read that meets a lock its first `failures` times."""

    def __init__(self, read, failures: int):
        self.read, self.failures, self.calls = read, failures, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise _locked()
        return self.read(*args, **kwargs)


# As a request runs: outside any transaction (none is retried inside one).
outside_transaction = pytest.mark.django_db(transaction=True)


def test_nothing_is_tried_again_inside_a_transaction():
    """The test's own transaction: a lock inside it is raised at once."""
    read = Flaky(lambda: "rows", failures=1)
    with pytest.raises(OperationalError):
        transient.retried(read)
    assert read.calls == 1


@outside_transaction
def test_a_read_is_tried_until_it_passes_then_given_up(monkeypatch):
    monkeypatch.setattr(transient, "PAUSE", 0)
    read = Flaky(lambda: "rows", failures=transient.ATTEMPTS - 1)
    assert transient.retried(read) == "rows"
    never = Flaky(lambda: "rows", failures=transient.ATTEMPTS)
    with pytest.raises(OperationalError):
        transient.retried(never)
    assert never.calls == transient.ATTEMPTS


@pytest.fixture
def no_pause(monkeypatch):
    monkeypatch.setattr(transient, "PAUSE", 0)


@outside_transaction
def test_the_empty_poll_tries_a_locked_read_again(
    htmx_client, poller_url, room, make_messages, monkeypatch, no_pause
):
    make_messages(room, 3)
    url = poller_url(htmx_client, room)
    flaky = Flaky(query.poll_check, failures=transient.ATTEMPTS - 1)
    monkeypatch.setattr("chat.live.query.poll_check", flaky)
    response = htmx_client.get(url)
    assert response.status_code == 204
    assert flaky.calls == transient.ATTEMPTS


@outside_transaction
def test_a_poll_that_stays_locked_is_answered_503_with_retry_after(
    htmx_client, poller_url, room, make_messages, monkeypatch, no_pause
):
    make_messages(room, 3)
    url = poller_url(htmx_client, room)
    fast = Flaky(query.poll_check, failures=100)
    full = Flaky(selectors.room_get, failures=100)
    monkeypatch.setattr("chat.live.query.poll_check", fast)
    monkeypatch.setattr("chat.selectors.room_get", full)
    response = htmx_client.get(url)
    # The hot path tried, then the full path tried: a 503 htmx does not
    # swap, so the poller stays and its next tick asks again.
    assert fast.calls == transient.ATTEMPTS
    assert full.calls == transient.ATTEMPTS
    assert response.status_code == 503
    assert response["Retry-After"] == str(transient.RETRY_AFTER)
    assert "busy" in response.content.decode()


@outside_transaction
def test_a_lock_that_passes_on_the_full_path_delivers(
    htmx_client, room, make_messages, monkeypatch, no_pause
):
    messages = make_messages(room, 3)
    full = Flaky(selectors.room_get, failures=transient.ATTEMPTS - 1)
    monkeypatch.setattr("chat.selectors.room_get", full)
    response = htmx_client.get(
        f"/rooms/{room.slug}/messages/", {"after": messages[0].id}
    )
    assert response.status_code == 200
    assert f'id="message-{messages[-1].id}"' in response.content.decode()


@outside_transaction
def test_the_sidebar_refresh_survives_a_lock(htmx_client, room, monkeypatch, no_pause):
    version = selectors.sidebar_version
    locked = Flaky(version, failures=100)
    monkeypatch.setattr("chat.selectors.sidebar_version", locked)
    response = htmx_client.get("/sidebar/", {"v": "x"})
    assert response.status_code == 503
    assert locked.calls == transient.ATTEMPTS


@outside_transaction
def test_a_send_is_never_tried_again(htmx_client, room, monkeypatch, no_pause):
    """A POST that met a lock may have stored its message: the page decides
    whether to send again, not the server."""
    full = Flaky(selectors.room_get, failures=100)
    monkeypatch.setattr("chat.selectors.room_get", full)
    with pytest.raises(OperationalError):
        htmx_client.post(f"/rooms/{room.slug}/messages/", {"content": "hello"})
    assert full.calls == 1


def test_an_error_that_is_no_lock_is_not_hidden(
    htmx_client, room, monkeypatch, no_pause
):
    calls = []

    def broken(**kwargs):
        calls.append(kwargs)
        raise _wrapped(sqlite3.OperationalError("no such column: chat_room.x"))

    monkeypatch.setattr("chat.selectors.room_get", broken)
    with pytest.raises(OperationalError):
        htmx_client.get(f"/rooms/{room.slug}/messages/", {"after": 0})
    assert len(calls) == 1
