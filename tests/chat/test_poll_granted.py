"""Polls that deliver on their grant: new messages without session or user
reads (chat.views.messages on chat.live's grant), exactly as the full path
would draw them."""

import re

import pytest
from django.conf import settings
from django.test import Client

from chat import services
from chat.models import Membership
from tests.conftest import ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def reads(monkeypatch) -> dict:
    """How often a request read session data or looked the user up, with any
    session engine (cached_db reads the cache, not the database)."""
    from importlib import import_module

    from django.contrib import auth

    counts = {"session": 0, "user": 0}
    store = import_module(settings.SESSION_ENGINE).SessionStore
    load, get_user = store.load, auth.get_user

    def counted_load(self):
        counts["session"] += 1
        return load(self)

    def counted_get_user(request):
        counts["user"] += 1
        return get_user(request)

    monkeypatch.setattr(store, "load", counted_load)
    monkeypatch.setattr(auth, "get_user", counted_get_user)
    return counts


def _bookkeeping(sql: str) -> bool:
    """Transaction statements the driver runs around a write (SQLite's
    BEGIN, savepoints): not queries of the poll's own."""
    return sql.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT"))


def grantless(url: str) -> str:
    """The same poll without its grant: the full path answers it."""
    path, _, query = url.partition("?")
    kept = [p for p in query.split("&") if not p.startswith(("t=", "v="))]
    return f"{path}?{'&'.join(kept)}"


def test_delivers_without_reading_the_session_or_the_user(
    htmx_client,
    poller_url,
    room,
    other_user,
    make_messages,
    soup,
    driver_statements,
    reads,
):
    services.room_join(room=room, user=other_user)
    url = poller_url(htmx_client, room)
    sent = make_messages(room, 2, author=other_user)
    reads.update(session=0, user=0)
    driver_statements.clear()
    response = htmx_client.get(url)
    assert response.status_code == 200
    assert ids(soup(response)) == [m.id for m in sent]
    assert reads == {"session": 0, "user": 0}
    # The grant's check, the room, the messages, the read mark. (No read
    # receipts: the newest message is not alice's, so she sees none.)
    sqls = [s for s in driver_statements if not _bookkeeping(s)]
    assert len(sqls) == 4
    assert not any("session_data" in sql for sql in sqls)
    assert sqls[-1].lstrip().upper().startswith("UPDATE")


@pytest.fixture
def mixed_batch(room, user, other_user, make_messages):
    """One of each look: own, another's, one mentioning the viewer, /me, a
    system notice (no author), a join notice."""
    make_messages(room, 1)
    make_messages(room, 1, author=other_user)
    services.message_create(room=room, author=other_user, content="hi @alice")
    services.message_create(room=room, author=other_user, content="/me waves")
    services.system_notice_create(room=room, text="The room was renamed.")
    services.room_join(room=room, user=other_user)


@pytest.fixture
def mixed_batch_after(htmx_client, poller_url, room, soup, request):
    """The poller's URL from before the mixed batch was sent."""
    url = poller_url(htmx_client, room)
    request.getfixturevalue("mixed_batch")
    return url


def test_draws_every_kind_of_message_as_the_full_path_does(
    htmx_client, room, soup, mixed_batch_after, reads
):
    url = mixed_batch_after
    reads.update(session=0, user=0)
    granted = soup(htmx_client.get(url))
    assert reads == {"session": 0, "user": 0}
    full = soup(htmx_client.get(grantless(url)))
    assert reads["user"] == 1
    assert len(granted.select("article")) == 6
    assert [str(a) for a in granted.select("article")] == [
        str(a) for a in full.select("article")
    ]
    # Who is here and typing is what the page shows: not sent again.
    assert granted.select_one("#presence") is None
    assert granted.select_one("#typing") is None
    assert granted.select_one("#poller input")["value"] == str(ids(full)[-1])


def test_new_messages_bring_who_is_here_when_that_changed_too(
    htmx_client, client_for, poller_url, room, other_user, soup
):
    url = poller_url(htmx_client, room)
    bob = client_for(other_user)
    bob.post(f"/rooms/{room.slug}/join/")  # bob joins: a notice
    poller_url(bob, room)  # and is here
    granted = soup(htmx_client.get(url))
    assert [a["data-kind"] for a in granted.select("article")] == ["join"]
    full = soup(htmx_client.get(grantless(url)))
    for hook in ("#presence", "#typing"):
        assert granted.select_one(hook)["hx-swap-oob"] == "true"
        assert str(granted.select_one(hook)) == str(full.select_one(hook))
    assert [e.get_text() for e in granted.select(".present-user")] == ["alice", "bob"]


def test_draws_them_in_the_viewers_language(
    htmx_client, room, other_user, soup, mixed_batch_after
):
    spanish = {"Accept-Language": "es"}
    granted = soup(htmx_client.get(mixed_batch_after, headers=spanish))
    full = soup(htmx_client.get(grantless(mixed_batch_after), headers=spanish))
    joined = granted.select_one("[data-kind=join]").get_text(" ", strip=True)
    assert "bob" in joined and "joined" not in joined
    assert str(granted.select_one("[data-kind=join]")) == str(
        full.select_one("[data-kind=join]")
    )


def test_carries_the_headers_of_the_full_path(
    htmx_client, poller_url, room, make_messages, soup
):
    url = poller_url(htmx_client, room)
    make_messages(room, 1)
    granted = htmx_client.get(url)
    full = htmx_client.get(grantless(url))
    assert granted.status_code == full.status_code == 200
    for name in (
        "Content-Type",
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Content-Language",
    ):
        assert granted[name] == full[name], name
    vary = {v.strip() for v in granted["Vary"].split(",")}
    assert vary == {v.strip() for v in full["Vary"].split(",")}
    assert {"HX-Request", "Cookie", "Accept-Language"} <= vary


def test_marks_what_it_delivered_as_read(
    htmx_client, poller_url, user, room, other_user, soup
):
    url = poller_url(htmx_client, room)
    sent = services.message_create(room=room, author=other_user, content="new")
    assert htmx_client.get(url).status_code == 200
    visit = Membership.objects.get(room=room, user=user)
    assert visit.last_read_id == sent.id


def test_hands_the_cursor_on_and_the_next_poll_is_empty(
    htmx_client, poller_url, room, make_messages, soup
):
    url = poller_url(htmx_client, room)
    make_messages(room, 2)
    page = soup(htmx_client.get(url))
    again = htmx_client.get(page.select_one("#poller")["hx-get"])
    assert again.status_code == 204


def test_a_full_batch_fires_the_next_poll_at_once(
    htmx_client, poller_url, room, make_messages, soup, settings
):
    settings.CHAT_POLL_LIMIT = 3
    url = poller_url(htmx_client, room)
    sent = make_messages(room, 5)
    page = soup(htmx_client.get(url))
    assert ids(page) == [m.id for m in sent[:3]]
    poller = page.select_one("#poller")
    assert poller["hx-trigger"].startswith("load")
    rest = soup(htmx_client.get(poller["hx-get"]))
    assert ids(rest) == [m.id for m in sent[3:]]
    assert not rest.select_one("#poller")["hx-trigger"].startswith("load")


def test_a_deactivated_user_gets_nothing_new_even_with_a_young_grant(
    htmx_client, poller_url, user, room, other_user, soup
):
    url = poller_url(htmx_client, room)
    user.is_active = False
    user.save(update_fields=["is_active"])
    services.message_create(room=room, author=other_user, content="secret")
    response = htmx_client.get(url)
    assert response.has_header("HX-Redirect")
    assert b"secret" not in response.content


def test_a_removed_member_gets_nothing_new_even_with_a_young_grant(
    inner_room, poller_url, user, soup
):
    room, client = inner_room.room, inner_room.client
    url = poller_url(client, room)
    room.members.remove(inner_room.member)
    services.message_create(room=room, author=user, content="secret")
    response = client.get(url)
    assert response.status_code == 404
    assert b"secret" not in response.content


def test_a_member_of_a_private_room_gets_its_messages(
    inner_room, poller_url, user, soup, reads
):
    room, client = inner_room.room, inner_room.client
    url = poller_url(client, room)
    sent = services.message_create(room=room, author=user, content="for members")
    reads.update(session=0, user=0)
    page = soup(client.get(url))
    assert ids(page) == [sent.id]
    assert reads == {"session": 0, "user": 0}


def test_logout_ends_delivery_at_once(htmx_client, poller_url, room, other_user, soup):
    url = poller_url(htmx_client, room)
    htmx_client.post("/accounts/logout/")
    services.message_create(room=room, author=other_user, content="secret")
    response = htmx_client.get(url, headers={"HX-Current-URL": "http://t/rooms/x/"})
    assert response.has_header("HX-Redirect")
    assert b"secret" not in response.content


def test_another_sessions_cookie_takes_the_full_path(
    htmx_client, poller_url, user, room, other_user, soup, reads
):
    services.room_join(room=room, user=other_user)
    url = poller_url(htmx_client, room)
    sent = services.message_create(room=room, author=other_user, content="new")
    other = Client(headers={"HX-Request": "true"})
    other.force_login(user)  # the same user, another session
    reads.update(session=0, user=0)
    page = soup(other.get(url))
    assert ids(page) == [sent.id]
    assert reads["session"] >= 1 and reads["user"] == 1
    # The full path's grant is the other session's own.
    assert page.select_one("#poller")["hx-get"].split("t=")[1] != url.split("t=")[1]


def test_a_password_change_ends_other_sessions_grants_within_half_their_life(
    htmx_client, poller_url, user, room, other_user, soup, monkeypatch
):
    """Django ends a session whose user changed password when it next reads
    it; the grant does not read it, so the documented window applies."""
    import time

    url = poller_url(htmx_client, room)
    user.set_password("a-new-long-password")
    user.save()
    services.message_create(room=room, author=other_user, content="first")
    assert htmx_client.get(url).status_code == 200  # within the window
    services.message_create(room=room, author=other_user, content="second")
    later = time.time() + settings.CHAT_POLL_TOKEN_MAX_AGE / 2 + 1
    monkeypatch.setattr("chat.live.grants.time.time", lambda: later)
    response = htmx_client.get(url, headers={"HX-Current-URL": "http://t/rooms/x/"})
    assert response.has_header("HX-Redirect")
    assert b"second" not in response.content


def test_a_change_in_who_is_typing_is_answered_on_the_grant(
    htmx_client, client_for, poller_url, room, other_user, soup, reads,
    driver_statements,
):  # fmt: skip
    bob = client_for(other_user)
    poller_url(bob, room)  # bob is in the room (and has joined it)
    url = poller_url(htmx_client, room)
    assert htmx_client.get(url).status_code == 204
    bob.post(f"/rooms/{room.slug}/typing/", {"content": "hel"})
    reads.update(session=0, user=0)
    driver_statements.clear()
    page = soup(htmx_client.get(url))
    assert reads == {"session": 0, "user": 0}
    # The grant's check and the room: no message query, no read mark.
    assert len(driver_statements) == 2
    assert page.select("article") == []
    assert page.select_one("#typing")["hx-swap-oob"] == "true"
    assert "bob" in page.select_one("#typing").get_text()
    poller = page.select_one("#poller")["hx-get"]
    assert poller.split("t=")[1].split("&")[0] == url.split("t=")[1].split("&")[0]
    assert htmx_client.get(poller).status_code == 204  # the page is current again


def test_a_removed_member_sees_no_change_in_who_is_here(
    inner_room, client_for, poller_url, make_user, soup
):
    room, client = inner_room.room, inner_room.client
    carol = make_user("carol")
    room.members.add(carol)
    url = poller_url(client, room)
    room.members.remove(inner_room.member)
    other = client_for(carol)
    poller_url(other, room)  # carol arrives
    response = client.get(url)
    assert response.status_code == 404
    assert b"carol" not in response.content


def test_polls_at_the_same_cursor_share_one_read(
    htmx_client, poller_url, room, other_user, make_user, client_for, soup,
    driver_statements,
):  # fmt: skip
    """A hundred tabs asking for the same new message cost one read of it per
    process (chat.live.batches); each still has its grant checked and its
    read mark moved."""
    carol = client_for(make_user("carol"))
    services.room_join(room=room, user=other_user)
    alice_url, carol_url = poller_url(htmx_client, room), poller_url(carol, room)
    cursor = re.compile(r"after=(\d+)")
    assert cursor.search(alice_url)[1] == cursor.search(carol_url)[1]
    sent = services.message_create(room=room, author=other_user, content="hi")
    # The grant's check, the room, the messages, the read mark.
    driver_statements.clear()
    first = htmx_client.get(alice_url)
    assert len([s for s in driver_statements if not _bookkeeping(s)]) == 4
    # The grant's check and the read mark: the batch is shared.
    driver_statements.clear()
    second = carol.get(carol_url)
    assert len([s for s in driver_statements if not _bookkeeping(s)]) == 2
    assert ids(soup(first)) == ids(soup(second)) == [sent.id]
    assert Membership.objects.get(room=room, user__username="alice").last_read_id == (
        sent.id
    )
