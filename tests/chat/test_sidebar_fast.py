"""The sidebar's unchanged refresh on its grant (chat/live/): answered 204
before the session and the user are read, in one statement that also
proves the session alive and the user active. Anything else (a change, a
grant that aged, no longer counts or is not this session's) takes the full
path, chat.views.sidebar."""

from importlib import import_module

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import services as profiles
from chat import services
from chat.live import grants
from tests.headers import assert_same_security_headers

pytestmark = pytest.mark.django_db


@pytest.fixture
def nav(soup):
    """nav(client): the sidebar a full page gives that client."""

    def get(client: Client):
        page = client.get("/rooms/", headers={"HX-Request": ""})
        return soup(page).select_one("#sidebar")

    return get


def url_of(sidebar) -> str:
    """What the sidebar's refresh asks, as htmx builds it: its hx-get, and
    its grant (hx-include="#sidebar-grant", sent as `t`)."""
    assert sidebar["hx-include"] == "#sidebar-grant"
    grant = sidebar.select_one("input#sidebar-grant[type=hidden][name=t]")
    return f"{sidebar['hx-get']}&t={grant['value']}"


def full_path(client: Client, url: str, **kwargs):
    """The response, and whether the full path read the session's user."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kwargs)
    return response, any("auth_user" in q["sql"] for q in queries.captured_queries)


def test_an_unchanged_refresh_is_one_statement_without_session_or_user(
    user, room, make_room, htmx_client, nav, driver_statements
):
    services.room_join(room=make_room("Joined"), user=user)
    url = url_of(nav(htmx_client))
    driver_statements.clear()
    response = htmx_client.get(url)
    assert response.status_code == 204 and response.content == b""
    [sql] = driver_statements  # nothing else: no session data, no user row
    assert "django_session" in sql and "is_active" in sql and "chat_room" in sql
    assert "session_data" not in sql and "password" not in sql


def test_a_change_takes_the_full_path_and_is_drawn_with_a_new_grant(
    user, other_user, room, client_for, nav, soup
):
    bob = client_for(other_user)
    services.room_join(room=room, user=other_user)
    sidebar = nav(bob)
    assert bob.get(url_of(sidebar)).status_code == 204
    services.message_create(room=room, author=user, content="news")
    response, read_user = full_path(bob, url_of(sidebar))
    assert response.status_code == 200 and read_user
    fresh = soup(response).select_one("#sidebar")
    assert fresh.select_one(f"#sidebar-{room.slug} .unread")["data-unread"] == "1"
    assert url_of(fresh) != url_of(sidebar)
    assert bob.get(url_of(fresh)).status_code == 204


def test_a_partners_new_name_is_drawn_at_the_next_refresh(
    user, other_user, htmx_client, nav, soup
):
    room = services.direct_room_get_or_create(user=user, other=other_user)
    sidebar = nav(htmx_client)
    assert htmx_client.get(url_of(sidebar)).status_code == 204
    profiles.profile_update(user=other_user, display_name="Bobby Tables")
    response = htmx_client.get(url_of(sidebar))
    assert response.status_code == 200
    row = soup(response).select_one(f"#sidebar-{room.slug}")
    assert row.select_one(".partner-name bdi").get_text() == "Bobby Tables"


def test_an_aged_grant_is_replaced_alone(htmx_client, room, nav, soup, later):
    url = url_of(nav(htmx_client))
    later(31)  # past any grant's share of the window: the full path
    response, read_user = full_path(htmx_client, url)
    assert response.status_code == 200 and read_user
    # Not the sidebar drawn again: the grant, swapped in the old one's place.
    assert response["HX-Retarget"] == "#sidebar-grant"
    assert response["HX-Reswap"] == "outerHTML"
    page = soup(response)
    assert page.select_one("#sidebar") is None
    renewed = page.select_one("input#sidebar-grant[name=t]")["value"]
    assert f"t={renewed}" not in url
    fresh = url.split("&t=")[0] + f"&t={renewed}"
    fast, read_user = full_path(htmx_client, fresh)
    assert fast.status_code == 204 and not read_user


def test_logging_out_ends_it_at_once(htmx_client, room, nav):
    url = url_of(nav(htmx_client))
    assert htmx_client.get(url).status_code == 204
    htmx_client.post("/accounts/logout/")
    response = htmx_client.get(url)
    assert response.has_header("HX-Redirect")
    assert b"sidebar" not in response.content


def test_a_session_deleted_server_side_ends_it_at_once(htmx_client, room, nav):
    url = url_of(nav(htmx_client))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    store(session_key=htmx_client.cookies[settings.SESSION_COOKIE_NAME].value).delete()
    response = htmx_client.get(url)
    assert response.has_header("HX-Redirect")
    assert b"sidebar" not in response.content


def test_a_deactivated_user_is_sent_to_login_at_once(user, htmx_client, room, nav):
    url = url_of(nav(htmx_client))
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = htmx_client.get(url)
    assert response.has_header("HX-Redirect")
    assert b"sidebar" not in response.content


def test_someone_removed_from_a_private_room_no_longer_sees_it(inner_room, nav, soup):
    client, room = inner_room.client, inner_room.room
    sidebar = nav(client)
    assert sidebar.select_one(f"#sidebar-{room.slug}")
    assert client.get(url_of(sidebar)).status_code == 204
    room.members.remove(inner_room.member)
    response = client.get(url_of(sidebar))
    assert response.status_code == 200
    assert soup(response).select_one(f"#sidebar-{room.slug}") is None
    assert room.slug not in response.content.decode()


def test_the_grant_needs_its_own_session(user, room, htmx_client, nav, soup):
    url = url_of(nav(htmx_client))
    other = Client(headers={"HX-Request": "true"})
    other.force_login(user)  # the same user, another session
    response, read_user = full_path(other, url)
    # Unchanged, so nothing drawn: a grant of its own in the copied one's place.
    assert read_user and response["HX-Retarget"] == "#sidebar-grant"
    assert Client(headers={"HX-Request": "true"}).get(url).has_header("HX-Redirect")


def test_a_poll_grant_is_no_sidebar_grant_and_the_reverse(
    room, htmx_client, nav, poller_url
):
    sidebar_url = url_of(nav(htmx_client))
    poll_url = poller_url(htmx_client, room)
    poll_grant = poll_url.split("t=")[1].split("&")[0]
    sidebar_grant = sidebar_url.split("&t=")[1]
    response, read_user = full_path(
        htmx_client, sidebar_url.replace(sidebar_grant, poll_grant)
    )
    assert read_user and response["HX-Retarget"] == "#sidebar-grant"
    response, read_user = full_path(
        htmx_client, poll_url.replace(poll_grant, sidebar_grant)
    )
    assert read_user and response.status_code == 200  # the poll's full path


@pytest.mark.parametrize("token", ["garbage", "", "a.b.c"])
def test_a_forged_grant_takes_the_full_path(htmx_client, anon_htmx_client, token):
    url = f"/sidebar/?v=1.1.0.0.0.0&room=&t={token}"
    assert anon_htmx_client.get(url).has_header("HX-Redirect")
    _response, read_user = full_path(htmx_client, url)
    assert read_user


def test_a_boosted_or_plain_request_is_sent_to_the_room_list(htmx_client, room, nav):
    url = url_of(nav(htmx_client))
    boosted = htmx_client.get(url, headers={"HX-Boosted": "true"})
    plain = htmx_client.get(url, headers={"HX-Request": ""})
    assert boosted.status_code == plain.status_code == 302


def test_the_fast_204_carries_the_headers_of_the_full_stack(
    user, htmx_client, room, nav
):
    sidebar = nav(htmx_client)
    fast, read_user = full_path(htmx_client, url_of(sidebar))
    slow, read_slow = full_path(htmx_client, sidebar["hx-get"])  # no grant
    assert fast.status_code == slow.status_code == 204
    assert not read_user and read_slow
    assert_same_security_headers(fast, slow)


def test_without_session_rows_the_full_path_answers_and_renews_nothing(
    settings, user, room, client_for, nav
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    client = client_for(user)
    url = url_of(nav(client))
    response, read_user = full_path(client, url)
    # Still correct, on the full path; the grant it has is as good as new.
    assert response.status_code == 204 and read_user


def test_the_grant_names_the_sidebar_its_user_and_session(user, htmx_client, nav):
    url = url_of(nav(htmx_client))
    grant = grants.verify(url.split("&t=")[1], slug=grants.SIDEBAR)
    session_key = htmx_client.cookies[settings.SESSION_COOKIE_NAME].value
    assert (grant.user_id, grant.room_id, grant.membership_id) == (user.pk, 0, 0)
    assert grant.session == grants.session_hash(session_key)
