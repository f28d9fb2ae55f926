import pytest
from django.test import Client

from chat import presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """clock.now: the time the presence module sees; move it with +=."""

    class Clock:
        now = 1_000_000.0

    monkeypatch.setattr("chat.presence.time.time", lambda: Clock.now)
    return Clock


@pytest.fixture
def bob(other_user, client_for) -> Client:
    client = client_for(other_user)
    return client


def names(page, selector) -> list[str]:
    return [el.get_text() for el in page.select(selector)]


def test_room_page_lists_who_is_here(htmx_client, poller_url, bob, room, soup, clock):
    poller_url(bob, room)
    page = soup(htmx_client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
    assert names(page, "#presence .present-user") == ["alice", "bob"]


def test_arrival_reaches_an_open_page_through_its_next_poll(
    htmx_client, poller_url, bob, room, soup, clock
):
    url = poller_url(htmx_client, room)
    assert htmx_client.get(url).status_code == 204
    clock.now += 1
    poller_url(bob, room)  # bob opens the room
    response = htmx_client.get(url)
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#presence")["hx-swap-oob"] == "true"
    assert names(page, "#presence .present-user") == ["alice", "bob"]
    # The new poller knows what the page shows: quiet again.
    assert htmx_client.get(page.select_one("#poller")["hx-get"]).status_code == 204


def test_users_who_stop_polling_drop_off_after_ten_seconds(
    htmx_client, poller_url, bob, room, soup, clock
):
    poller_url(bob, room)
    url = poller_url(htmx_client, room)
    for _ in range(5):  # alice keeps polling every 2 s, bob has gone
        clock.now += 2
        response = htmx_client.get(url)
        if response.status_code == 200:
            url = soup(response).select_one("#poller")["hx-get"]
    clock.now += 2
    page = soup(htmx_client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
    assert names(page, "#presence .present-user") == ["alice"]


def test_typing_shows_to_others_not_to_oneself(
    htmx_client, poller_url, bob, room, soup, clock
):
    url = poller_url(htmx_client, room)
    bob_url = poller_url(bob, room)
    assert (
        bob.post(f"/rooms/{room.slug}/typing/", {"content": "hel"}).status_code == 204
    )
    page = soup(htmx_client.get(url))
    typing = " ".join(page.select_one("#typing").get_text().split())
    assert typing == "bob is typing…"
    bob_page = soup(bob.get(bob_url))
    assert bob_page.select_one("#typing") is None or not bob_page.select_one(
        "#typing"
    ).get_text(strip=True)


def test_typing_fades_after_a_few_seconds(htmx_client, bob, room, soup, clock):
    bob.post(f"/rooms/{room.slug}/typing/", {"content": "hel"})
    clock.now += presence.TYPING_FOR + 0.1
    page = soup(htmx_client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
    assert page.select_one("#typing").get_text(strip=True) == ""


def test_sending_or_clearing_ends_typing(htmx_client, bob, room, soup, clock):
    bob.post(f"/rooms/{room.slug}/typing/", {"content": "hel"})
    bob.post(f"/rooms/{room.slug}/messages/", {"content": "hello", "after": 0})
    page = soup(htmx_client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
    assert page.select_one("#typing").get_text(strip=True) == ""
    bob.post(f"/rooms/{room.slug}/typing/", {"content": "again"})
    bob.post(f"/rooms/{room.slug}/typing/", {"content": ""})
    page = soup(htmx_client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
    assert page.select_one("#typing").get_text(strip=True) == ""


def test_typing_reports_are_throttled(bob, room, clock, other_user):
    from django.core.cache import cache

    bob.post(f"/rooms/{room.slug}/typing/", {"content": "h"})
    first = cache.get(f"chat:typing:{room.pk}")[other_user.pk]
    clock.now += 1
    bob.post(f"/rooms/{room.slug}/typing/", {"content": "he"})
    assert cache.get(f"chat:typing:{room.pk}")[other_user.pk] == first
    clock.now += presence.THROTTLE_TYPING
    bob.post(f"/rooms/{room.slug}/typing/", {"content": "hel"})
    assert cache.get(f"chat:typing:{room.pk}")[other_user.pk] != first


def test_send_input_reports_typing_with_htmx_alone(auth_client, room, soup):
    field = soup(auth_client.get(f"/rooms/{room.slug}/")).select_one("#send-content")
    assert field["hx-post"] == f"/rooms/{room.slug}/typing/"
    assert field["hx-trigger"] == "keyup changed delay:500ms"
    assert field["hx-swap"] == "none"


def test_typing_endpoint_guards(make_user, client_for, user, room):
    from chat import services

    secret = services.room_create(name="Den", created_by=user, is_private=True)
    mallory = client_for(make_user("mallory"), htmx=False)
    assert (
        mallory.post(f"/rooms/{secret.slug}/typing/", {"content": "x"}).status_code
        == 404
    )
    assert mallory.get(f"/rooms/{room.slug}/typing/").status_code == 405
    assert Client().post(f"/rooms/{room.slug}/typing/").status_code == 302


def test_presence_costs_no_database_query_on_the_hot_path(
    htmx_client, poller_url, bob, room, soup, clock, driver_statements
):
    url = poller_url(htmx_client, room)
    driver_statements.clear()
    assert htmx_client.get(url).status_code == 204
    assert len(driver_statements) == 1
