"""The mentions inbox (/mentions/, chat.selectors.mentions_of): messages by
others that mention me, in rooms I may see and have not left, newest
first, unread ones marked, each linking to its permalink."""

import pytest

from chat import services
from chat.models import Room

pytestmark = pytest.mark.django_db

URL = "/mentions/"


def rows(page) -> list[int]:
    return [
        int(li["id"].removeprefix("mention-")) for li in page.select("#mentions li")
    ]


def test_lists_mentions_of_me_newest_first_with_their_permalinks(
    client_for, soup, room, user, bob
):
    first = services.message_create(room=room, author=bob, content="@alice one")
    services.message_create(room=room, author=bob, content="no mention")
    second = services.message_create(room=room, author=bob, content="hey @alice")
    services.message_create(room=room, author=user, content="@alice talking to me")
    page = soup(client_for(user, htmx=False).get(URL))
    assert rows(page) == [second.pk, first.pk]
    link = page.select_one(f"#mention-{second.pk} .mention-link")
    assert link["href"] == f"/rooms/{room.slug}/messages/{second.pk}/"
    assert link.get_text(strip=True) == "hey @alice"
    assert "General" in page.select_one(f"#mention-{second.pk}").get_text()


def test_each_mention_gives_the_author_s_handle_beside_a_display_name(
    client_for, soup, room, user, bob
):
    from accounts import services as profiles

    profiles.profile_update(user=bob, display_name="Bobby Tables")
    message = services.message_create(room=room, author=bob, content="@alice hi")
    page = soup(client_for(user, htmx=False).get(URL))
    assert page.select_one(f"#mention-{message.pk} .author-username").get_text() == (
        "@bob"
    )


def test_unread_mentions_are_marked_until_the_room_is_read(
    client_for, soup, room, user, bob
):
    alice = client_for(user, htmx=False)
    read = services.message_create(room=room, author=bob, content="@alice early")
    alice.get(room.get_absolute_url())  # read up to here
    unread = services.message_create(room=room, author=bob, content="@alice later")
    page = soup(alice.get(URL))
    assert page.select("li.mention-unread") == [
        page.select_one(f"#mention-{unread.pk}")
    ]
    assert "New" in page.select_one(f"#mention-{unread.pk}").get_text()
    assert "mention-unread" not in page.select_one(f"#mention-{read.pk}")["class"]
    alice.get(room.get_absolute_url())
    assert soup(alice.get(URL)).select("li.mention-unread") == []


def test_private_rooms_one_left_and_deleted_messages_are_not_listed(
    client_for, soup, make_room, user, bob
):
    private = make_room("Secret", created_by=bob)
    Room.objects.filter(pk=private.pk).update(kind=Room.Kind.PRIVATE)
    services.room_join(room=private, user=user)  # alice was a member
    gone = services.message_create(room=private, author=bob, content="@alice psst")
    services.room_leave(room=private, user=user)
    public = make_room("Open", created_by=bob)
    deleted = services.message_create(room=public, author=bob, content="@alice oops")
    services.message_delete(message=deleted, deleter=bob)
    kept = services.message_create(room=public, author=bob, content="@alice ok")
    page = soup(client_for(user, htmx=False).get(URL))
    assert rows(page) == [kept.pk]
    assert gone.pk not in rows(page)


def test_a_public_room_one_left_keeps_its_mentions_out_until_one_joins_again(
    client_for, soup, room, user, bob
):
    """Leaving is saying "not for me": the inbox and its badge drop the
    room's mentions, earlier and later ones alike, as the badge always did.
    Joining again brings them back, read (one joins caught up)."""
    alice = client_for(user, htmx=False)
    earlier = services.message_create(room=room, author=bob, content="@alice one")
    page = soup(alice.get(URL))
    assert rows(page) == [earlier.pk]
    assert page.select_one("#sidebar-mentions .mentions")["data-mentions"] == "1"
    services.room_leave(room=room, user=user)
    later = services.message_create(room=room, author=bob, content="@alice two")
    page = soup(alice.get(URL))
    assert rows(page) == []
    assert page.select_one("#sidebar-mentions .mentions") is None
    services.room_join(room=room, user=user)
    page = soup(alice.get(URL))
    assert rows(page) == [later.pk, earlier.pk]
    assert page.select("li.mention-unread") == []
    assert page.select_one("#sidebar-mentions .mentions") is None


def test_htmx_page_links_get_the_list_alone_and_bad_pages_are_harmless(
    client_for, soup, room, user, bob, settings, monkeypatch
):
    monkeypatch.setattr("chat.views.mentions.MENTIONS_PER_PAGE", 2)
    said = [
        services.message_create(room=room, author=bob, content=f"@alice {i}")
        for i in range(3)
    ]
    fragment = soup(client_for(user).get(URL + "?page=2"))
    assert fragment.select_one("#mentions") is not None
    assert fragment.select("h1") == []  # the list alone
    assert rows(fragment) == [said[0].pk]
    assert fragment.select_one(".mention-previous")["hx-get"] == "?page=1"
    for junk in ("abc", "-1", "999"):
        response = client_for(user, htmx=False).get(URL + f"?page={junk}")
        assert response.status_code == 200


def test_nothing_yet_and_signed_out(client, client_for, soup, user):
    page = soup(client_for(user, htmx=False).get(URL))
    assert page.select_one("#mentions .empty-note").get_text(strip=True) == (
        "No one has mentioned you yet."
    )
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_sidebar_badge_counts_unread_mentions_and_refreshes(
    client_for, soup, room, user, bob, make_room
):
    other = make_room("Other", created_by=bob)
    services.room_join(room=other, user=user)
    alice = client_for(user, htmx=False)
    page = soup(alice.get("/mentions/"))
    link = page.select_one("#sidebar-mentions")
    assert link["href"] == "/mentions/" and link.select_one(".mentions") is None
    refresh = page.select_one("#sidebar")["hx-get"]
    services.message_create(room=room, author=bob, content="@alice here")
    services.message_create(room=other, author=bob, content="and @alice there")
    services.message_create(room=other, author=bob, content="no mention")
    fresh = soup(client_for(user).get(refresh))
    assert fresh.select_one("#sidebar-mentions .mentions")["data-mentions"] == "2"
    alice.get(room.get_absolute_url())  # one room read: one mention left
    page = soup(alice.get("/mentions/"))
    assert page.select_one("#sidebar-mentions .mentions")["data-mentions"] == "1"
