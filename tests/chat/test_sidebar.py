"""The sidebar: its lists, badges and highlight, and its refresh, which
answers 204 while nothing it shows has changed."""

import pytest
from django.test import Client

from accounts import services as profiles
from chat import selectors, services
from chat.models import Mention
from tests.accounts.images import png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(other_user, client_for) -> Client:
    return client_for(other_user, htmx=False)


def sidebar_of(client: Client, soup, room_slug: str = ""):
    """The sidebar as the full room list page draws it."""
    page = soup(client.get("/rooms/"))
    return page.select_one("#sidebar")


def refresh(client: Client, sidebar) -> tuple[int, object]:
    """What the sidebar's own poll answers, as htmx sends it: its hx-get and
    its grant (hx-include="#sidebar-grant")."""
    grant = sidebar.select_one("#sidebar-grant")["value"]
    url = f"{sidebar['hx-get']}&t={grant}"
    response = client.get(url, headers={"HX-Request": "true"})
    return response.status_code, response


def badges(sidebar) -> dict[str, tuple[int, int]]:
    """(unread, mentions) per room slug."""
    out = {}
    for li in sidebar.select("li[id^=sidebar-]"):
        unread = li.select_one(".unread")
        mentions = li.select_one(".mentions")
        out[li["id"].removeprefix("sidebar-")] = (
            int(unread["data-unread"]) if unread else 0,
            int(mentions["data-mentions"]) if mentions else 0,
        )
    return out


def test_sections_list_joined_public_and_direct_rooms(
    user, other_user, make_room, bob, soup
):
    general = make_room("General")
    make_room("Lobby")
    services.room_join(room=general, user=other_user)
    dm = services.direct_room_get_or_create(user=other_user, other=user)
    sidebar = sidebar_of(bob, soup)
    assert [li["id"] for li in sidebar.select("#sidebar-rooms li[id]")] == [
        "sidebar-general"
    ]
    assert [li["id"] for li in sidebar.select("#sidebar-public li[id]")] == [
        "sidebar-lobby"
    ]
    direct = sidebar.select_one(f"#sidebar-direct #sidebar-{dm.slug}")
    # The other person's name, not the conversation's generated one.
    assert direct.select_one("bdi").get_text() == "alice"
    assert dm.name not in direct.get_text()


def test_unread_and_mentions_per_room(user, other_user, room, bob, make_messages, soup):
    bob.post(f"/rooms/{room.slug}/join/")
    make_messages(room, 2, author=user)
    services.message_create(room=room, author=user, content="@bob look")
    services.message_create(room=room, author=user, content="and @bob again")
    # One's own mention of oneself is no mention to wait for.
    services.message_create(room=room, author=other_user, content="me, @bob")
    assert badges(sidebar_of(bob, soup))[room.slug] == (4, 2)
    bob.get(f"/rooms/{room.slug}/")  # read: both go
    assert badges(sidebar_of(bob, soup))[room.slug] == (0, 0)


def test_an_edit_or_a_delete_takes_its_mention_away(user, room, bob, soup):
    bob.post(f"/rooms/{room.slug}/join/")
    named = services.message_create(room=room, author=user, content="@bob hi")
    other = services.message_create(room=room, author=user, content="@bob two")
    assert badges(sidebar_of(bob, soup))[room.slug][1] == 2
    services.message_edit(message=named, editor=user, content="hi all")
    assert badges(sidebar_of(bob, soup))[room.slug][1] == 1
    services.message_delete(message=other, deleter=user)
    assert badges(sidebar_of(bob, soup))[room.slug][1] == 0
    assert not Mention.objects.exists()


def test_the_rooms_page_highlights_the_room_it_shows(room, auth_client, soup):
    page = soup(auth_client.get(f"/rooms/{room.slug}/"))
    current = page.select("#sidebar a[aria-current=page]")
    assert [a["href"] for a in current] == [room.get_absolute_url()]
    assert f"room={room.slug}" in page.select_one("#sidebar")["hx-get"]


def test_private_rooms_are_never_listed_for_outsiders(
    user, make_user, inner_room, client_for, soup
):
    outsider = client_for(make_user("mallory"), htmx=False)
    sidebar = sidebar_of(outsider, soup)
    assert inner_room.room.slug not in str(sidebar)
    assert "Inner" not in sidebar.get_text()
    # The member sees it, with its lock.
    member = sidebar_of(client_for(inner_room.member, htmx=False), soup)
    assert member.select_one(f"#sidebar-rooms #sidebar-{inner_room.room.slug}")


def test_refresh_is_204_until_something_changes(user, room, bob, soup):
    bob.post(f"/rooms/{room.slug}/join/")
    sidebar = sidebar_of(bob, soup)
    status, _ = refresh(bob, sidebar)
    assert status == 204
    services.message_create(room=room, author=user, content="news")
    status, response = refresh(bob, sidebar)
    assert status == 200
    fresh = soup(response).select_one("#sidebar")
    assert badges(fresh)[room.slug] == (1, 0)
    # The new drawing carries the new version: quiet again.
    assert refresh(bob, fresh)[0] == 204


@pytest.mark.parametrize(
    "change",
    [
        "edit",
        "read",
        "new public room",
        "join",
        "invited to a private room",
        "removed from a private room",
        "partner's display name",
        "partner's avatar",
        "partner's avatar removed",
        "partner gone",
    ],
)
def test_each_change_the_sidebar_shows_moves_its_version(
    change, user, other_user, room, make_room, make_messages
):
    services.room_join(room=room, user=other_user)
    [message] = make_messages(room, 1, author=user)
    inner = services.room_create(name="Inner", created_by=user, is_private=True)
    inner.members.add(other_user)
    services.direct_room_get_or_create(user=user, other=other_user)
    profiles.avatar_set(user=user, upload=png_upload())
    before = selectors.sidebar_version(user=other_user)
    if change == "removed from a private room":
        inner.members.remove(other_user)
    elif change == "partner's display name":
        profiles.profile_update(user=user, display_name="Ada")
    elif change == "partner's avatar":
        profiles.avatar_set(user=user, upload=png_upload())
    elif change == "partner's avatar removed":
        profiles.avatar_remove(user=user)
    elif change == "partner gone":
        user.delete()
    elif change == "edit":
        services.message_edit(message=message, editor=user, content="@bob now")
    elif change == "read":
        services.room_mark_read(room=room, user_id=other_user.pk, message_id=message.pk)
    elif change == "new public room":
        make_room("Another")
    elif change == "join":
        services.room_join(room=make_room("Another"), user=other_user)
    else:
        private = services.room_create(name="P", created_by=user, is_private=True)
        private.members.add(other_user)
    assert selectors.sidebar_version(user=other_user) != before


def test_refresh_without_htmx_goes_to_the_room_list(bob):
    response = bob.get("/sidebar/")
    assert response.status_code == 302
    assert response["Location"] == "/rooms/"


def test_refresh_needs_a_login(client):
    response = client.get("/sidebar/?v=x", headers={"HX-Request": "true"})
    assert response["HX-Redirect"].startswith("/accounts/login/")
    assert b"sidebar" not in response.content


def test_an_unchanged_refresh_reads_one_query_past_the_session(
    user, room, htmx_client, django_assert_max_num_queries
):
    version = selectors.sidebar_version(user=user)
    # Session and user, then the one aggregate.
    with django_assert_max_num_queries(3):
        response = htmx_client.get(f"/sidebar/?v={version}")
    assert response.status_code == 204


def test_the_sidebar_is_drawn_in_three_queries_however_many_rooms(
    user, make_room, make_messages, django_assert_num_queries
):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            selectors.sidebar(user=user)
        return len(queries)

    make_room("One")
    few = count()
    for n in range(8):
        make_messages(make_room(f"Room {n}"), 2)
    assert count() == few == 3
