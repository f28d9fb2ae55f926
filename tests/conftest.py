"""Fixtures for fragment tests: a logged-in client, an htmx client, soup."""

import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.test import Client

from chat import presence, services
from chat.live import batches, throttle
from chat.models import Message, Room

PASSWORD = "a-long-test-password"


def _forget() -> None:
    for alias in caches:  # the shared cache and the rendered messages
        caches[alias].clear()
    presence.forget_local()
    throttle.forget()
    batches.forget()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and the like must not leak from test to test."""
    _forget()
    yield
    _forget()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Uploads (avatars, attachments) go to a fresh folder per test, never
    MEDIA_ROOT."""
    folder = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = str(folder)
    return folder


@pytest.fixture
def make_user(db) -> Callable:
    def make(username: str = "alice"):
        return get_user_model().objects.create_user(
            username=username, password=PASSWORD
        )

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("bob")


@pytest.fixture
def make_room(user) -> Callable[..., Room]:
    def make(name: str = "General", created_by=None) -> Room:
        return services.room_create(name=name, created_by=created_by or user)

    return make


@pytest.fixture
def room(make_room) -> Room:
    return make_room("General")


@pytest.fixture
def inner_room(user, make_user) -> SimpleNamespace:
    """A private room of alice's with bob as a member: .room, .member (bob),
    .client (bob's, logged in, every request from htmx)."""
    room = services.room_create(name="Inner", created_by=user, is_private=True)
    bob = make_user("bob")
    room.members.add(bob)
    client = Client(headers={"HX-Request": "true"})
    client.force_login(bob)
    return SimpleNamespace(room=room, member=bob, client=client)


@pytest.fixture
def make_messages(user) -> Callable[..., list[Message]]:
    """make_messages(room, n, author=user): n messages "message 1".."message n"."""

    def make(room: Room, n: int, author=None, prefix: str = "message") -> list:
        return [
            services.message_create(
                room=room, author=author or user, content=f"{prefix} {i}"
            )
            for i in range(1, n + 1)
        ]

    return make


@pytest.fixture
def auth_client(client: Client, user) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def htmx_client(user) -> Client:
    """A logged-in client whose every request says it comes from htmx."""
    client = Client(headers={"HX-Request": "true"})
    client.force_login(user)
    return client


@pytest.fixture
def anon_htmx_client() -> Client:
    return Client(headers={"HX-Request": "true"})


@pytest.fixture
def soup() -> Callable[..., BeautifulSoup]:
    def parse(response) -> BeautifulSoup:
        return BeautifulSoup(response.content.decode(), "html.parser")

    return parse


@pytest.fixture
def poller_url(soup) -> Callable:
    """poller_url(client, room): the poller URL (grant included) that the room
    page gives that client, as a tab would poll it."""

    def url(client: Client, room: Room) -> str:
        page = soup(client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
        return page.select_one("#poller")["hx-get"]

    return url


@pytest.fixture
def later(monkeypatch) -> Callable[[float], None]:
    """later(seconds): move the clock the poll grants see forward."""

    def move(seconds: float) -> None:
        now = time.time() + seconds
        monkeypatch.setattr("chat.live.grants.time.time", lambda: now)

    return move


@pytest.fixture
def client_for() -> Callable[..., Client]:
    """client_for(user, htmx=True): a client logged in as `user`, its every
    request from htmx unless htmx=False."""

    def make(user, *, htmx: bool = True) -> Client:
        client = Client(headers={"HX-Request": "true"} if htmx else {})
        client.force_login(user)
        return client

    return make


@pytest.fixture
def driver_statements(db) -> Iterator[list[str]]:
    """Every statement the database driver runs while the test does, sent
    through Django's cursor or the poll's own (chat/live/query.py), read
    from the driver's own hooks: SQLite's trace callback, psycopg's cursor
    class."""
    statements: list[str] = []
    connection.ensure_connection()
    raw = connection.connection
    if connection.vendor == "sqlite":
        raw.set_trace_callback(statements.append)
        yield statements
        raw.set_trace_callback(None)
        return
    original = raw.cursor_factory

    class Recording(original):
        def execute(self, query, params=None, **kwargs):
            statements.append(str(query))
            return super().execute(query, params, **kwargs)

    raw.cursor_factory = Recording
    yield statements
    raw.cursor_factory = original


def ids(soup: BeautifulSoup) -> list[int]:
    """The data-id of every message element, in document order."""
    return [int(el["data-id"]) for el in soup.select("[id^=message-][data-id]")]


def appended_ids(soup: BeautifulSoup) -> list[int]:
    """The data-id of each message a poll appends (not swapped out of band)."""
    return [
        int(el["data-id"])
        for el in soup.select("[id^=message-][data-id]")
        if not el.get("hx-swap-oob")
    ]


def swapped_ids(soup: BeautifulSoup) -> list[int]:
    """The data-id of each message a poll swaps in place, out of band."""
    return [
        int(el["data-id"])
        for el in soup.select("[id^=message-][data-id]")
        if el.get("hx-swap-oob") == "true"
    ]


@pytest.fixture
def one_window(monkeypatch):
    """Every request of the test falls in one window of the rate limits: on
    a slow machine a test's requests can straddle a window's edge, and the
    one over the limit would then rightly be allowed."""
    monkeypatch.setattr("chat.ratelimit.time.time", lambda: 1_000_000.5)
