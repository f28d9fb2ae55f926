"""The tab's title: "(N) " before the page's own title while messages wait
in one's other rooms ("(N @) " when one of them mentions the reader), on
every full page and in the sidebar's changed refresh (a top-level <title>,
which htmx puts in the tab), so that a message elsewhere shows in the tab
within one refresh."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chat import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(user, client_for) -> Client:
    return client_for(user, htmx=False)


@pytest.fixture
def rooms(user, other_user, make_room):
    """General and Random, alice's; bob in both, his join notices read."""
    general, random = make_room("General"), make_room("Random")
    for room in (general, random):
        services.room_join(room=room, user=other_user)
        notice = room.messages.last()
        services.room_mark_read(room=room, user_id=user.pk, message_id=notice.pk)
    return general, random


def title_of(response, soup) -> str:
    return soup(response).select_one("head title").get_text()


def refresh(client: Client, page, **headers):
    """The sidebar's refresh as htmx sends it from `page`: its hx-get and
    its grant."""
    sidebar = page.select_one("#sidebar")
    grant = sidebar.select_one("#sidebar-grant")["value"]
    return client.get(
        f"{sidebar['hx-get']}&t={grant}", headers={"HX-Request": "true", **headers}
    )


def top_title(response, soup) -> str | None:
    """The text of the answer's top-level <title> (what htmx puts in the
    tab); None without one."""
    titles = [
        t for t in soup(response).find_all("title") if t.parent.name == "[document]"
    ]
    assert len(titles) <= 1
    return titles[0].get_text() if titles else None


def test_the_page_title_counts_what_waits_in_ones_rooms(
    alice, user, other_user, rooms, soup
):
    general, random = rooms
    assert title_of(alice.get("/rooms/"), soup) == "Rooms · Chat"
    services.message_create(room=random, author=other_user, content="one")
    services.message_create(room=random, author=other_user, content="two")
    services.message_create(room=general, author=other_user, content="three")
    assert title_of(alice.get("/rooms/"), soup) == "(3) Rooms · Chat"
    # One's own messages wait for no one.
    services.message_create(room=random, author=user, content="mine")
    assert title_of(alice.get("/people/"), soup) == "(3) People · Chat"
    # A mention adds the mark.
    services.message_create(room=random, author=other_user, content="@alice look")
    assert title_of(alice.get("/mentions/"), soup) == "(4 @) Mentions · Chat"
    # In a room, its own messages are read (opening it reads them): the
    # others still count.
    assert title_of(alice.get(f"/rooms/{general.slug}/"), soup) == (
        "(3 @) General · Chat"
    )
    # Everything read: no prefix at all.
    alice.get(f"/rooms/{random.slug}/")
    assert title_of(alice.get(f"/rooms/{random.slug}/"), soup) == "Random · Chat"
    assert title_of(alice.get("/rooms/"), soup) == "Rooms · Chat"


def test_a_boosted_switch_brings_the_title_with_the_prefix(
    alice, other_user, rooms, soup
):
    """A sidebar link (hx-boost) gets the whole page: htmx takes its
    <title> into the tab."""
    general, random = rooms
    services.message_create(room=general, author=other_user, content="hi")
    response = alice.get(
        f"/rooms/{random.slug}/",
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    page = soup(response)
    assert page.select_one("head title").get_text() == "(1) Random · Chat"
    # The sidebar that comes with it (hx-select-oob) refreshes for this page.
    services.message_create(room=general, author=other_user, content="again")
    assert top_title(refresh(alice, page), soup) == "(2) Random · Chat"


@pytest.mark.parametrize(
    "path, title",
    [
        ("/rooms/", "Rooms · Chat"),
        ("/people/", "People · Chat"),
        ("/mentions/", "Mentions · Chat"),
        ("/search/?q=caf%C3%A9+%22x%22", '“café "x"”: search · Chat'),
        ("/rooms/random/", "Random · Chat"),
        ("/accounts/settings/", "Settings · Chat"),
    ],
)
def test_the_refresh_brings_the_new_title_of_the_page_it_refreshes(
    path, title, alice, user, other_user, rooms, soup
):
    general = rooms[0]
    page = soup(alice.get(path))
    assert page.select_one("head title").get_text() == title
    # Unchanged: 204 on the fast path, the page's title in the URL or not
    # (it needs a plain query string: nothing escaped).
    with CaptureQueriesContext(connection) as queries:
        assert refresh(alice, page).status_code == 204
    assert not any("auth_user" in q["sql"] for q in queries.captured_queries)
    services.message_create(room=general, author=other_user, content="news")
    response = refresh(alice, page)
    assert response.status_code == 200
    assert top_title(response, soup) == f"(1) {title}"
    # The <title> is beside the sidebar, not in it (htmx only reads it there).
    assert soup(response).select_one("#sidebar title") is None
    services.message_create(room=general, author=other_user, content="@alice hey")
    assert top_title(refresh(alice, page), soup) == f"(2 @) {title}"
    # Read: the prefix goes.
    services.room_mark_read(
        room=general, user_id=user.pk, message_id=general.messages.last().pk
    )
    assert top_title(refresh(alice, page), soup) == title


def test_the_rooms_own_messages_never_count_in_its_title(
    alice, other_user, rooms, soup
):
    """Its poll reads them within seconds; counted meanwhile, every message
    in the room one is reading would flash "(1)" in the tab."""
    general = rooms[0]
    page = soup(alice.get(f"/rooms/{general.slug}/"))
    services.message_create(room=general, author=other_user, content="@alice here")
    response = refresh(alice, page)
    fresh = soup(response)
    # The badge counts it (until the poll reads it); the title does not.
    assert fresh.select_one(f"#sidebar-{general.slug} .unread")["data-unread"] == "1"
    assert top_title(response, soup) == "General · Chat"


def test_the_title_is_text_never_markup(alice, user, other_user, rooms, soup):
    random = rooms[1]
    odd = services.room_create(name="<b>x</b> & 'y'", created_by=user)
    page = soup(alice.get(f"/rooms/{odd.slug}/"))
    assert page.select_one("head title").get_text() == "<b>x</b> & 'y' · Chat"
    services.message_create(room=random, author=other_user, content="hi")
    response = refresh(alice, page)
    assert (
        b"<title>(1) &lt;b&gt;x&lt;/b&gt; &amp; &#x27;y&#x27; \xc2\xb7 Chat</title>"
        in (response.content)
    )
    assert top_title(response, soup) == "(1) <b>x</b> & 'y' · Chat"
    assert soup(response).select("b") == []


def test_a_refresh_draws_a_title_only_from_one_it_can_read(
    alice, other_user, rooms, soup
):
    general = rooms[0]
    services.message_create(room=general, author=other_user, content="hi")
    page = soup(alice.get("/rooms/"))
    url = page.select_one("#sidebar")["hx-get"].replace("v=", "v=old")
    response = alice.get(url, headers={"HX-Request": "true"})
    assert top_title(response, soup) == "(1) Rooms · Chat"
    for title in (
        "",
        "%%%",
        "not base64!",
        "_w",  # one byte: not UTF-8
        "A" * 4000,  # longer than any title
    ):
        response = alice.get(
            f"/sidebar/?v=old&title={title}", headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert soup(response).select_one("#sidebar") is not None
        assert top_title(response, soup) is None, title
    # Without htmx, the refresh's URL is still the room list's way.
    response = alice.get(page.select_one("#sidebar")["hx-get"])
    assert response.status_code == 302 and response["Location"] == "/rooms/"


def test_the_page_reads_the_sidebar_once_for_its_title_and_the_sidebar(
    alice, other_user, rooms, soup
):
    general = rooms[0]
    services.message_create(room=general, author=other_user, content="@alice hi")
    with CaptureQueriesContext(connection) as queries:
        response = alice.get("/rooms/")
    assert title_of(response, soup) == "(1 @) Rooms · Chat"
    mentions = [q for q in queries.captured_queries if "chat_mention" in q["sql"]]
    assert len(mentions) == 1
