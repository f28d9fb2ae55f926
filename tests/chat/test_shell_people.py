"""People in the app shell: the avatar and the display name (else the
username) wherever the shell lists someone: the sidebar's direct
conversations, the header's link to one's settings, a private room's
members, the people page. The username stays the handle (links,
data-username); lists of any length cost no query per row."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import selectors as accounts
from accounts import services as profiles
from chat import selectors, services
from tests.accounts.images import png_upload

pytestmark = pytest.mark.django_db


def avatar_src(user) -> str:
    """The picture's URL, read afresh (the instance may hold an old profile)."""
    fresh = get_user_model().objects.select_related("profile").get(pk=user.pk)
    return accounts.avatar_of(fresh).url


def shown(element) -> str:
    """The name printed in an element: its <bdi>, as |display_name gives it."""
    return element.select_one("bdi").get_text()


@pytest.fixture
def bob(other_user):
    """bob, with a display name and a picture."""
    profiles.profile_update(user=other_user, display_name="Bobby Tables")
    profiles.avatar_set(user=other_user, upload=png_upload())
    return other_user


def count_queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


# --- the sidebar's direct conversations ---


def test_a_direct_conversation_shows_the_other_persons_avatar_and_name(
    user, bob, make_user, htmx_client, soup
):
    with_bob = services.direct_room_get_or_create(user=user, other=bob)
    carol = make_user("carol")
    with_carol = services.direct_room_get_or_create(user=user, other=carol)
    sidebar = soup(htmx_client.get("/rooms/", headers={"HX-Request": ""}))
    row = sidebar.select_one(f"#sidebar-direct #sidebar-{with_bob.slug}")
    assert row["data-username"] == "bob"
    assert shown(row.select_one(".partner-name")) == "Bobby Tables"
    assert row.select_one("img.avatar")["src"] == avatar_src(bob)
    assert row.select_one("a")["href"] == with_bob.get_absolute_url()
    # Without a display name or a picture: the username, and its initial.
    row = sidebar.select_one(f"#sidebar-{with_carol.slug}")
    assert shown(row.select_one(".partner-name")) == "carol"
    initials = row.select_one(".avatar-initials")
    assert initials.get_text() == "C" and row.select_one("img") is None


def test_a_direct_conversation_shows_the_handle_beside_a_display_name(
    user, bob, make_user, htmx_client, soup
):
    """A display name may look like someone else's: "@bob" tells them
    apart. carol, shown by her username, needs no second one."""
    with_bob = services.direct_room_get_or_create(user=user, other=bob)
    with_carol = services.direct_room_get_or_create(user=user, other=make_user("carol"))
    sidebar = soup(htmx_client.get("/rooms/", headers={"HX-Request": ""}))
    row = sidebar.select_one(f"#sidebar-{with_bob.slug}")
    assert row.select_one(".partner-username").get_text() == "@bob"
    assert " ".join(row.select_one("a").get_text().split()).startswith(
        "Bobby Tables @bob"
    )
    assert sidebar.select_one(f"#sidebar-{with_carol.slug} .partner-username") is None


def test_direct_conversations_are_in_the_order_of_the_names_shown(
    user, bob, make_user, htmx_client, soup
):
    zed = make_user("zed")
    profiles.profile_update(user=zed, display_name="aaron")
    for other in (make_user("carol"), bob, zed):
        services.direct_room_get_or_create(user=user, other=other)
    sidebar = soup(htmx_client.get("/rooms/", headers={"HX-Request": ""}))
    rows = sidebar.select("#sidebar-direct li[id]")
    assert [shown(row) for row in rows] == ["aaron", "Bobby Tables", "carol"]
    assert [row["data-username"] for row in rows] == ["zed", "bob", "carol"]


def test_someone_who_is_gone_leaves_a_plain_note(user, bob, htmx_client, soup):
    room = services.direct_room_get_or_create(user=user, other=bob)
    bob.delete()
    sidebar = soup(htmx_client.get("/rooms/", headers={"HX-Request": ""}))
    row = sidebar.select_one(f"#sidebar-{room.slug}")
    assert "someone who left" in row.get_text()
    assert row.select_one(".avatar") is None and not row.has_attr("data-username")


def test_the_sidebar_draws_any_number_of_partners_in_the_same_queries(user, make_user):
    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            other = make_user(f"person{i}")
            profiles.profile_update(user=other, display_name=f"Person {i}")
            if i % 2:
                profiles.avatar_set(user=other, upload=png_upload())
            services.direct_room_get_or_create(user=user, other=other)

    add(1, 0)
    few = count_queries(lambda: selectors.sidebar(user=user))
    add(6, 1)
    drawn = selectors.sidebar(user=user)
    assert count_queries(lambda: selectors.sidebar(user=user)) == few
    assert len(drawn.direct) == 7
    # Drawing them asks nothing more: no profile read per row.
    from django.template.loader import render_to_string

    context = {"sidebar": drawn, "current_slug": "", "sidebar_grant": "x"}
    assert (
        count_queries(lambda: render_to_string("chat/partials/sidebar.html", context))
        == 0
    )


# --- the header ---


def test_the_header_shows_ones_own_avatar_and_name(user, auth_client, soup):
    link = soup(auth_client.get("/rooms/")).select_one("#account-link")
    assert link["href"] == "/accounts/settings/"
    assert shown(link.select_one(".account-name")) == "alice"
    assert link.select_one(".avatar-initials").get_text() == "A"
    profiles.profile_update(user=user, display_name="Ada Lovelace")
    profiles.avatar_set(user=user, upload=png_upload())
    link = soup(auth_client.get("/rooms/")).select_one("#account-link")
    assert shown(link.select_one(".account-name")) == "Ada Lovelace"
    assert link.select_one("img.avatar")["src"] == avatar_src(user)


def test_the_header_reads_the_profile_once_per_page(user, make_room, auth_client):
    profiles.profile_update(user=user, display_name="Ada Lovelace")
    few = count_queries(lambda: auth_client.get("/rooms/"))
    for n in range(5):
        make_room(f"Room {n}")
    assert count_queries(lambda: auth_client.get("/rooms/")) == few


# --- a private room's members ---


def test_members_show_their_avatars_and_names(inner_room, auth_client, soup):
    bob = inner_room.member
    profiles.profile_update(user=bob, display_name="Bobby Tables")
    profiles.avatar_set(user=bob, upload=png_upload())
    page = soup(auth_client.get(f"/rooms/{inner_room.room.slug}/"))
    members = {m["data-username"]: m for m in page.select("#members .member")}
    assert list(members) == ["alice", "bob"]  # by the name shown
    assert shown(members["bob"]) == "Bobby Tables"
    assert members["bob"].select_one("img.avatar")["src"] == avatar_src(bob)
    link = members["bob"].select_one("a.member-message")
    assert link["href"] == "/dm/bob/"
    assert link["aria-label"] == "Message Bobby Tables"
    assert shown(members["alice"]) == "alice"  # oneself: no link
    assert members["alice"].select_one(".avatar-initials").get_text() == "A"
    assert members["alice"].select_one("a") is None


def test_members_are_listed_by_the_name_shown(user, make_user, auth_client, soup):
    room = services.room_create(name="Inner", created_by=user, is_private=True)
    for name, shown_as in (("zoe", "Abigail"), ("bea", ""), ("al", "Zack")):
        member = make_user(name)
        if shown_as:
            profiles.profile_update(user=member, display_name=shown_as)
        room.members.add(member)
    page = soup(auth_client.get(f"/rooms/{room.slug}/"))
    names = [shown(m) for m in page.select("#members .member")]
    assert names == ["Abigail", "alice", "bea", "Zack"]


def test_members_cost_no_query_each(user, make_user, auth_client):
    room = services.room_create(name="Inner", created_by=user, is_private=True)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            member = make_user(f"member{i}")
            profiles.profile_update(user=member, display_name=f"Member {i}")
            room.members.add(member)

    add(1, 0)
    auth_client.get(f"/rooms/{room.slug}/")  # the read mark, once
    few = count_queries(lambda: auth_client.get(f"/rooms/{room.slug}/"))
    add(6, 1)
    assert count_queries(lambda: auth_client.get(f"/rooms/{room.slug}/")) == few


# --- the people page ---


def test_people_rows_show_avatars_names_and_usernames(
    user, bob, make_user, htmx_client, soup
):
    make_user("carol")
    rows = {
        row["data-username"]: row
        for row in soup(htmx_client.get("/people/")).select("#people li[id]")
    }
    assert list(rows) == ["bob", "carol"]
    assert rows["bob"]["id"] == f"person-{bob.pk}"
    assert shown(rows["bob"].select_one(".person-name")) == "Bobby Tables"
    # The handle one searches by, under a display name.
    assert rows["bob"].select_one(".person-username").get_text() == "@bob"
    assert rows["bob"].select_one("img.avatar")["src"] == avatar_src(bob)
    button = rows["bob"].select_one(".person-message button")
    assert button["aria-label"] == "Message Bobby Tables"
    assert rows["bob"].select_one("form.person-message")["action"] == "/dm/bob/"
    assert shown(rows["carol"].select_one(".person-name")) == "carol"
    assert rows["carol"].select_one(".person-username") is None
    assert rows["carol"].select_one(".avatar-initials").get_text() == "C"


def test_people_cost_no_query_each(user, make_user, htmx_client):
    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            person = make_user(f"person{i}")
            profiles.profile_update(user=person, display_name=f"Person {i}")
            if i % 2:
                profiles.avatar_set(user=person, upload=png_upload())

    add(1, 0)
    few = count_queries(lambda: htmx_client.get("/people/"))
    add(8, 1)
    assert count_queries(lambda: htmx_client.get("/people/")) == few


# --- a direct conversation's title ---


def test_a_direct_conversation_is_titled_with_the_name_shown(
    user, bob, auth_client, soup
):
    room = services.direct_room_get_or_create(user=user, other=bob)
    page = soup(auth_client.get(f"/rooms/{room.slug}/"))
    assert page.select_one("h1 bdi").get_text() == "Bobby Tables"
    assert page.select_one("title").get_text().startswith("Bobby Tables")


def test_a_direct_conversation_s_title_gives_the_handle_beside_the_name(
    user, bob, make_user, auth_client, soup
):
    room = services.direct_room_get_or_create(user=user, other=bob)
    page = soup(auth_client.get(f"/rooms/{room.slug}/"))
    assert page.select_one("h1 .partner-username").get_text() == "@bob"
    assert page.select_one("title").get_text() == "Bobby Tables (@bob) · Chat"
    carol = services.direct_room_get_or_create(user=user, other=make_user("carol"))
    page = soup(auth_client.get(f"/rooms/{carol.slug}/"))
    assert page.select_one("h1 .partner-username") is None
    assert page.select_one("title").get_text() == "carol · Chat"
