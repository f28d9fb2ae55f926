"""Each user's language and time zone (accounts.middleware), kept in the
session from login on: no query per request."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import preferences, services
from chat import services as chat
from chat.models import Message
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NOON_UTC = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MIDDLEWARE = "accounts.middleware.PreferencesMiddleware"


def nav_rooms(page) -> str:
    # The header's way to the room list (on phones; the sidebar beside it).
    return page.select_one("#home-link .home-label").get_text(strip=True)


def save(client, **fields):
    data = {"read_receipts": "on", "language": "", "time_zone": "", **fields}
    response = client.post("/accounts/settings/", data)
    assert response.status_code == 303
    return response


def test_a_profile_language_overrides_accept_language(client_for, user, soup):
    client = client_for(user, htmx=False)
    save(client, language="es")
    response = client.get("/rooms/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    page = soup(response)
    assert nav_rooms(page) == "Salas"
    assert page.html["lang"] == "es"
    assert response["Content-Language"] == "es"
    assert "Cookie" in response["Vary"]
    # Back to the browser's.
    save(client, language="")
    response = client.get("/rooms/", HTTP_ACCEPT_LANGUAGE="en")
    assert nav_rooms(soup(response)) == "Rooms"
    response = client.get("/rooms/", HTTP_ACCEPT_LANGUAGE="es")
    assert nav_rooms(soup(response)) == "Salas"


def test_the_language_comes_with_the_login(client, user, soup):
    services.profile_update(user=user, language="es")
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302
    page = soup(client.get("/rooms/", HTTP_ACCEPT_LANGUAGE="en"))
    assert nav_rooms(page) == "Salas"


def test_english_user_with_a_spanish_browser(client_for, user, soup):
    client = client_for(user, htmx=False)
    save(client, language="en")
    page = soup(client.get("/rooms/", HTTP_ACCEPT_LANGUAGE="es"))
    assert nav_rooms(page) == "Rooms"


def message_time(page, message: Message) -> str:
    return page.select_one(f"#message-{message.id} time").get_text(strip=True)


def test_times_show_in_each_viewers_zone(client_for, user, other_user, room, soup):
    said = chat.message_create(room=room, author=user, content="hello")
    Message.objects.filter(pk=said.pk).update(created_at=NOON_UTC)
    alice, bob = client_for(user, htmx=False), client_for(other_user, htmx=False)
    save(alice, time_zone="Asia/Tokyo")
    url = f"/rooms/{room.slug}/"
    # Each in turn: a thread's zone and a cached rendering must not leak
    # from one viewer to the next.
    assert message_time(soup(alice.get(url)), said) == "21:00"
    assert message_time(soup(bob.get(url)), said) == "12:00"
    assert message_time(soup(alice.get(url)), said) == "21:00"
    save(alice, time_zone="America/New_York")
    assert message_time(soup(alice.get(url)), said) == "07:00"


def test_a_poll_on_its_grant_uses_the_cookie(
    client_for, user, other_user, room, poller_url, soup
):
    alice = client_for(user)
    save(alice, time_zone="Asia/Tokyo", language="es")
    assert alice.cookies[preferences.COOKIE_NAME].value
    url = poller_url(alice, room)
    said = chat.message_create(room=room, author=other_user, content="hi")
    Message.objects.filter(pk=said.pk).update(created_at=NOON_UTC)
    response = alice.get(url)
    assert response.status_code == 200
    assert message_time(soup(response), said) == "21:00"
    assert response["Content-Language"] == "es"


def test_a_forged_cookie_is_ignored(
    client_for, user, other_user, room, poller_url, soup
):
    alice = client_for(user)
    url = poller_url(alice, room)
    alice.cookies[preferences.COOKIE_NAME] = "xx|Not:AZone"
    said = chat.message_create(room=room, author=other_user, content="hi")
    Message.objects.filter(pk=said.pk).update(created_at=NOON_UTC)
    response = alice.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert message_time(soup(response), said) == "12:00"
    assert response["Content-Language"] == "en"


def test_logging_out_drops_the_cookie(client_for, user):
    alice = client_for(user, htmx=False)
    save(alice, language="es")
    assert alice.cookies[preferences.COOKIE_NAME].value
    alice.post("/accounts/logout/")
    assert alice.cookies[preferences.COOKIE_NAME].value == ""  # expired


def test_a_request_without_a_session_reads_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/accounts/login/")
    assert response.status_code == 200


def test_the_middleware_adds_no_query(client_for, user, room, settings):
    services.profile_update(user=user, language="es", time_zone="Asia/Tokyo")
    url = f"/rooms/{room.slug}/"

    def count() -> int:
        client = client_for(user, htmx=False)  # logs in: the session holds them
        client.get(url)  # anything once-only out of the way
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries.captured_queries)

    with_it = count()
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    assert with_it == count()
