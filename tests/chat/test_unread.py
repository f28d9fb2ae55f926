import pytest
from django.test import Client

from chat import services
from chat.models import Membership

pytestmark = pytest.mark.django_db


def unread(client, soup) -> dict[str, int]:
    page = soup(client.get("/rooms/", headers={"HX-Request": "true"}))
    return {
        li["id"].removeprefix("room-"): int(li.select_one(".unread")["data-unread"])
        if li.select_one(".unread")
        else 0
        for li in page.select("#rooms li[id]")
    }


@pytest.fixture
def bob(other_user, client_for) -> Client:
    client = client_for(other_user, htmx=False)
    return client


def test_unread_counts_others_messages_after_last_read(
    room, user, other_user, bob, make_messages, soup
):
    bob.post(f"/rooms/{room.slug}/join/")  # reads everything so far
    assert unread(bob, soup) == {room.slug: 0}
    make_messages(room, 3, author=user)
    make_messages(room, 2, author=other_user)  # own messages never count
    assert unread(bob, soup) == {room.slug: 3}


def test_loading_the_page_marks_read(room, user, bob, make_messages, soup):
    bob.post(f"/rooms/{room.slug}/join/")
    make_messages(room, 4, author=user)
    bob.get(f"/rooms/{room.slug}/")
    assert unread(bob, soup) == {room.slug: 0}


def test_a_poll_that_returns_messages_marks_read(
    room, user, other_user, bob, make_messages, soup
):
    bob.post(f"/rooms/{room.slug}/join/")
    visit = Membership.objects.get(user=other_user, room=room)
    make_messages(room, 2, author=user)
    bob.get(
        f"/rooms/{room.slug}/messages/?after={visit.last_read_id}",
        headers={"HX-Request": "true"},
    )
    assert unread(bob, soup) == {room.slug: 0}


def test_only_rooms_one_belongs_to_count_unread(
    make_room, user, bob, make_messages, soup
):
    room = make_room("Fresh")
    make_messages(room, 5, author=user)
    assert unread(bob, soup) == {room.slug: 0}  # seen in the list, not joined
    bob.post(f"/rooms/{room.slug}/join/")
    make_messages(room, 2, author=user)
    assert unread(bob, soup) == {room.slug: 2}


def test_room_list_fragment_polls_itself(auth_client, room, soup):
    page = soup(auth_client.get("/rooms/"))
    rooms = page.select_one("#rooms")
    assert rooms["hx-get"] == "/rooms/" and rooms["hx-trigger"] == "every 5s"
    assert rooms["hx-swap"] == "outerHTML"
    fragment = auth_client.get("/rooms/", headers={"HX-Request": "true"})
    assert soup(fragment).find("html") is None
    assert soup(fragment).select_one("#rooms") is not None
    assert "HX-Request" in fragment["Vary"]


def test_mark_read_never_goes_backwards(room, user, make_messages):
    msgs = make_messages(room, 3)
    services.room_mark_read(room=room, user_id=user.pk, message_id=msgs[2].id)
    services.room_mark_read(room=room, user_id=user.pk, message_id=msgs[0].id)
    assert Membership.objects.get(user=user, room=room).last_read_id == msgs[2].id
