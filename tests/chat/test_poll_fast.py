"""The empty poll's hot path: the poller's signed grant skips session and user."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from chat import services
from chat.live import grants
from tests.chat.helpers import without_grant
from tests.headers import assert_same_security_headers

pytestmark = pytest.mark.django_db


def test_empty_poll_with_grant_is_one_query_and_no_session_or_user_read(
    htmx_client, poller_url, room, make_messages, soup, driver_statements
):
    make_messages(room, 3)
    url = poller_url(htmx_client, room)
    assert "t=" in url
    driver_statements.clear()
    response = htmx_client.get(url)
    assert response.status_code == 204
    assert response.content == b""
    [sql] = driver_statements  # one statement, nothing else
    # Whether the session's row, the user and the membership are there, never
    # the session's data or the user's row.
    assert "chat_room" in sql and "django_session" in sql
    assert "chat_membership" in sql and "is_active" in sql
    assert "session_data" not in sql and "password" not in sql


def test_the_grant_needs_its_own_session_cookie(
    htmx_client, poller_url, user, room, soup
):
    """A grant copied out of a page (or a log) is worthless without the
    session it was issued to: another session takes the full path."""
    url = poller_url(htmx_client, room)
    other = Client(headers={"HX-Request": "true"})
    other.force_login(user)  # the same user, another session
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        # The full path renews a poller that came with a grant: 200.
        assert other.get(url).status_code == 200
    assert any("auth_user" in q["sql"] for q in queries.captured_queries)
    anonymous = Client(headers={"HX-Request": "true"})
    assert anonymous.get(url).has_header("HX-Redirect")


@pytest.mark.parametrize(
    "expires_in, answer", [(-0.001, "login"), (0, "login"), (2, 204), (3600, 204)]
)
def test_the_session_row_expiry_decides(
    htmx_client, poller_url, room, expires_in, answer
):
    """The query reads the expiry by the database's clock, to the
    millisecond."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.core.cache import cache
    from django.utils import timezone

    url = poller_url(htmx_client, room)
    assert htmx_client.get(url).status_code == 204
    key = htmx_client.cookies[settings.SESSION_COOKIE_NAME].value
    expiry = timezone.now() + timedelta(seconds=expires_in)
    Session.objects.filter(session_key=key).update(expire_date=expiry)
    cache.clear()  # cached_db would otherwise still hold the session
    response = htmx_client.get(url)
    if answer == 204:
        assert response.status_code == 204
    else:
        assert response.has_header("HX-Redirect")


@pytest.mark.parametrize(
    "tamper, status",
    [
        (lambda url: url + "&after=1", 400),  # a repeated name: "give it once"
        (lambda url: url.replace("after=", "after=%30"), 200),  # an escape
        (lambda url: url.replace("after=", "after=+"), 200),  # a space
    ],
)
def test_an_unusual_query_takes_the_full_path(
    htmx_client, poller_url, room, soup, tamper, status
):
    from django.test.utils import CaptureQueriesContext

    url = tamper(poller_url(htmx_client, room))
    with CaptureQueriesContext(connection) as queries:
        response = htmx_client.get(url)
    assert response.status_code == status
    assert any("auth_user" in q["sql"] for q in queries.captured_queries)


def test_grants_are_signed_as_djangos_signer_would(settings):
    from django.core import signing

    token = grants.issue(
        user_id=1, room_id=2, slug="x", username="a", membership_id=0, session_key="s"
    )
    plain = signing.Signer(salt=grants.SALT, sep=".")
    assert plain.unsign_object(token)["r"] == 2
    assert token == plain.sign_object(plain.unsign_object(token))


def test_the_fast_204_carries_the_headers_of_the_full_stack(
    htmx_client, poller_url, room, soup
):
    """It is answered ahead of most middleware (chat.live), so it must
    add what they would: the strict policy, framing and cache keys."""
    url = poller_url(htmx_client, room)
    fast = htmx_client.get(url)
    # The same cursor without its grant: the full path.
    slow = htmx_client.get(without_grant(url))
    assert fast.status_code == slow.status_code == 204
    assert_same_security_headers(fast, slow)
    assert "'unsafe-inline'" not in fast["Content-Security-Policy"]


def test_over_https_the_fast_204_carries_hsts_and_plain_http_is_redirected(
    settings, client_for, user, room, soup
):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_SSL_REDIRECT = True
    client = client_for(user)
    page = client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}, secure=True)
    url = soup(page).select_one("#poller")["hx-get"]
    fast = client.get(url, secure=True)
    assert fast.status_code == 204
    assert fast["Strict-Transport-Security"] == "max-age=3600"
    assert client.get(url, secure=False).status_code == 301


def test_a_grant_for_another_room_or_without_htmx_takes_the_full_path(
    htmx_client, poller_url, room, make_room, soup
):
    from django.test.utils import CaptureQueriesContext

    url = poller_url(htmx_client, room)
    other = make_room(name="Other")
    foreign = url.replace(f"/rooms/{room.slug}/", f"/rooms/{other.slug}/")
    with CaptureQueriesContext(connection) as queries:
        response = htmx_client.get(foreign)
    assert response.status_code == 200  # the full path renews the poller
    # The full path: the user is read (the session too, from the database or
    # from the cache in front of it).
    assert any("auth_user" in q["sql"] for q in queries.captured_queries)
    plain = htmx_client.get(url, headers={"HX-Request": ""})
    assert plain.status_code == 302  # not htmx: the page it belongs to


def test_the_hot_path_writes_nothing(htmx_client, poller_url, room, driver_statements):
    url = poller_url(htmx_client, room)
    driver_statements.clear()
    for _ in range(5):
        assert htmx_client.get(url).status_code == 204
    assert len(driver_statements) == 5
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in driver_statements)


def test_new_messages_take_the_full_path_and_renew_the_grant(
    htmx_client, poller_url, room, user, make_messages, soup
):
    url = poller_url(htmx_client, room)
    msg = make_messages(room, 1)[0]
    page = soup(htmx_client.get(url))
    assert [int(a["data-id"]) for a in page.select("article")] == [msg.id]
    new_url = page.select_one("#poller")["hx-get"]
    assert new_url != url and "t=" in new_url


def test_a_delivering_poll_hands_its_grant_back_and_only_the_full_path_renews_it(
    htmx_client, poller_url, room, make_messages, soup, later
):
    from urllib.parse import parse_qs, urlsplit

    def grant(url: str) -> str:
        return parse_qs(urlsplit(url).query)["t"][0]

    url = poller_url(htmx_client, room)
    make_messages(room, 1)
    reused = soup(htmx_client.get(url)).select_one("#poller")["hx-get"]
    assert reused != url  # a new cursor...
    assert grant(reused) == grant(url)  # ...with the same grant: no signing
    later(14)  # within the shortest life a grant gets (a quarter of the window)
    make_messages(room, 1)
    kept = soup(htmx_client.get(reused)).select_one("#poller")["hx-get"]
    # The grant's word is not enough to extend it: no session or user was read.
    assert grant(kept) == grant(url)
    later(31)  # past half its life: the full path reads both and renews it
    make_messages(room, 1)
    renewed = soup(htmx_client.get(kept)).select_one("#poller")["hx-get"]
    assert grant(renewed) != grant(url)


def test_an_aging_grant_is_renewed_with_a_bare_poller(
    htmx_client, poller_url, room, soup, later
):
    url = poller_url(htmx_client, room)
    later(31)
    response = htmx_client.get(url)
    assert response.status_code == 200
    page = soup(response)
    assert page.select("article") == []
    renewed = page.select_one("#poller")["hx-get"]
    assert renewed != url
    assert htmx_client.get(renewed).status_code == 204


def test_logout_ends_the_grant_at_once(htmx_client, poller_url, room, soup):
    url = poller_url(htmx_client, room)
    assert htmx_client.get(url).status_code == 204
    htmx_client.post("/accounts/logout/")
    response = htmx_client.get(url, headers={"HX-Current-URL": "http://t/rooms/x/"})
    assert response.has_header("HX-Redirect")


def test_session_deleted_server_side_ends_the_grant_at_once(
    htmx_client, poller_url, room, soup
):
    from importlib import import_module

    from django.conf import settings

    url = poller_url(htmx_client, room)
    assert htmx_client.get(url).status_code == 204
    # As an administrator or a clean-up job would, through the session engine
    # (database rows, and the cache in front of them with cached_db).
    store = import_module(settings.SESSION_ENGINE).SessionStore
    store(session_key=htmx_client.cookies[settings.SESSION_COOKIE_NAME].value).delete()
    assert htmx_client.get(url).has_header("HX-Redirect")


def test_a_grant_past_half_its_life_takes_the_full_path(
    htmx_client, poller_url, room, soup, later
):
    # Past half its life a grant is never enough, even with a live session.
    url = poller_url(htmx_client, room)
    later(31)
    assert htmx_client.get(url).status_code == 200


def test_user_who_lost_access_is_refused_at_once(inner_room, poller_url, soup):
    room, client = inner_room.room, inner_room.client
    url = poller_url(client, room)
    room.members.remove(inner_room.member)
    assert client.get(url).status_code == 404


def test_deactivated_user_is_sent_to_login_at_once(
    htmx_client, poller_url, user, room, soup
):
    url = poller_url(htmx_client, room)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert htmx_client.get(url).has_header("HX-Redirect")


@pytest.mark.parametrize("token", ["garbage", "", "a:b:c"])
def test_forged_grant_takes_the_full_path(client, anon_htmx_client, room, token):
    response = anon_htmx_client.get(f"/rooms/{room.slug}/messages/?after=0&t={token}")
    assert response.has_header("HX-Redirect")


def test_grant_for_one_room_does_not_open_another(
    htmx_client, client_for, poller_url, make_room, user, soup
):
    one = make_room("One")
    other = services.room_create(name="Two", created_by=user, is_private=True)
    url = poller_url(htmx_client, one)
    stolen = url.replace(f"/rooms/{one.slug}/", f"/rooms/{other.slug}/")
    mallory = get_user_model().objects.create_user("mallory")
    client = client_for(mallory)
    assert client.get(stolen).status_code == 404


def test_grant_is_signed_with_the_secret_key(settings):
    token = grants.issue(
        user_id=1, room_id=2, slug="x", username="a", membership_id=0, session_key="s"
    )
    assert grants.verify(token, slug="x") is not None
    settings.SECRET_KEY = "another-key-" * 5
    assert grants.verify(token, slug="x") is None


def test_plain_poll_without_grant_is_unchanged(htmx_client, room, make_messages):
    [message] = make_messages(room, 1)
    url = f"/rooms/{room.slug}/messages/?after={message.id}"
    assert htmx_client.get(url).status_code == 204


def test_without_session_rows_every_poll_takes_the_full_path(
    settings, client_for, poller_url, user, room, soup
):
    """The hot path sees a session end by its database row; an engine without
    rows (cookies, cache only) keeps polls on the full path, still correct."""
    from django.test.utils import CaptureQueriesContext

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    client = client_for(user)
    url = poller_url(client, room)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200  # the full path renews the poller
    assert soup(response).select_one("#poller")
    assert any("auth_user" in q["sql"] for q in queries.captured_queries)


def test_each_grant_counts_for_its_own_share_of_the_window(settings, monkeypatch):
    """Between a quarter and half of CHAT_POLL_TOKEN_MAX_AGE, so that tabs
    opened together do not all take the full path in the same second."""

    def at(moment: float) -> None:
        monkeypatch.setattr("chat.live.grants.time.time", lambda: moment)

    now = float(int(time.time()))  # grants carry whole seconds
    at(now)
    tokens = [
        grants.issue(
            user_id=n,
            room_id=1,
            slug="x",
            username="a",
            membership_id=0,
            session_key="s",
        )
        for n in range(200)
    ]
    lives = []
    for token in tokens:
        life = grants.honoured_for(grants.verify(token, slug="x"))
        assert life >= settings.CHAT_POLL_TOKEN_MAX_AGE / 4
        assert life < settings.CHAT_POLL_TOKEN_MAX_AGE / 2
        lives.append(life)
        at(now + life - 0.01)
        assert grants.verify(token, slug="x") is not None
        at(now + life + 0.01)
        assert grants.verify(token, slug="x") is None
        at(now)
    # Spread over the whole quarter, not bunched: every 3 s slice has some.
    quarter = settings.CHAT_POLL_TOKEN_MAX_AGE / 4
    slices = {int((life - quarter) // 3) for life in lives}
    assert slices == set(range(int(quarter // 3)))
