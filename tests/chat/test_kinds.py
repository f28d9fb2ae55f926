import pytest
from django.test import Client

from chat.models import Membership, Message

pytestmark = pytest.mark.django_db


def test_me_becomes_an_action_rendered_with_the_name(htmx_client, room, soup):
    htmx_client.post(f"/rooms/{room.slug}/messages/", {"content": "/me waves"})
    msg = Message.objects.get()
    assert (msg.kind, msg.content) == ("action", "waves")
    el = soup(htmx_client.get(f"/rooms/{room.slug}/messages/?after=0")).select_one(
        f"#message-{msg.id}"
    )
    assert el["data-kind"] == "action"
    assert " ".join(el.select_one(".message-content").get_text().split()).startswith(
        "* alice waves"
    )


def test_bare_me_is_refused(htmx_client, room):
    response = htmx_client.post(f"/rooms/{room.slug}/messages/", {"content": "/me  "})
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_me_inside_a_sentence_is_an_ordinary_message(htmx_client, room):
    htmx_client.post(f"/rooms/{room.slug}/messages/", {"content": "ask /me later"})
    assert Message.objects.get().kind == "message"


def test_viewing_a_public_room_joins_nothing_and_join_is_a_post(
    room, client_for, other_user, soup
):
    bob = client_for(other_user, htmx=False)
    page = soup(bob.get(f"/rooms/{room.slug}/"))
    assert not Message.objects.exists()
    assert not Membership.objects.filter(user=other_user).exists()
    assert page.select_one("#join-form")["action"] == f"/rooms/{room.slug}/join/"
    assert page.select_one("#leave-form") is None
    assert bob.post(f"/rooms/{room.slug}/join/").status_code == 303
    assert bob.post(f"/rooms/{room.slug}/join/").status_code == 303  # once only
    joins = Message.objects.filter(kind="join")
    assert [(m.user, m.room) for m in joins] == [(other_user, room)]
    page = soup(bob.get(f"/rooms/{room.slug}/"))
    el = page.select_one(f"#message-{joins[0].id}")
    assert el["data-kind"] == "join"
    assert "bob joined the room" in " ".join(el.get_text().split())
    assert page.select_one("#join-form") is None
    assert page.select_one("#leave-form") is not None


def test_the_first_message_joins_a_public_room(room, client_for, other_user):
    bob = client_for(other_user, htmx=False)
    bob.post(f"/rooms/{room.slug}/messages/", {"content": "hi"})
    bob.post(f"/rooms/{room.slug}/messages/", {"content": "again"})
    kinds = list(Message.objects.values_list("kind", flat=True))
    assert kinds == ["join", "message", "message"]
    assert Membership.objects.filter(user=other_user, room=room).exists()


def test_creator_gets_no_join_notice(auth_client, room):
    auth_client.get(f"/rooms/{room.slug}/")
    assert not Message.objects.filter(kind="join").exists()


def test_leave_posts_a_notice_and_joining_again_another(room, client_for, other_user):
    bob = client_for(other_user, htmx=False)
    bob.post(f"/rooms/{room.slug}/join/")
    response = bob.post(f"/rooms/{room.slug}/leave/")
    assert response.status_code == 303 and response["Location"] == "/rooms/"
    assert not Membership.objects.filter(user=other_user, room=room).exists()
    bob.post(f"/rooms/{room.slug}/leave/")  # not a member: nothing to announce
    bob.post(f"/rooms/{room.slug}/join/")
    kinds = list(Message.objects.values_list("kind", flat=True))
    assert kinds == ["join", "leave", "join"]


def test_leaving_a_private_room_drops_membership(user, client_for, other_user):
    from chat import services

    room = services.room_create(name="Den", created_by=user, is_private=True)
    room.members.add(other_user)
    bob = client_for(other_user, htmx=False)
    assert bob.post(f"/rooms/{room.slug}/leave/").status_code == 303
    assert bob.get(f"/rooms/{room.slug}/").status_code == 404


def test_leave_is_post_only_and_needs_login(auth_client, room):
    assert auth_client.get(f"/rooms/{room.slug}/leave/").status_code == 405
    assert Client().post(f"/rooms/{room.slug}/leave/").status_code == 302


def test_adding_a_member_posts_a_system_notice(auth_client, user, other_user, soup):
    from chat import services

    room = services.room_create(name="Den", created_by=user, is_private=True)
    auth_client.post(f"/rooms/{room.slug}/members/", {"username": "bob"})
    notice = Message.objects.get(kind="system")
    assert notice.user is None
    assert notice.content == "bob was added by alice."
    el = soup(auth_client.get(f"/rooms/{room.slug}/")).select_one(
        f"#message-{notice.id}"
    )
    assert el["data-kind"] == "system"


@pytest.mark.parametrize("kind", ["message", "action", "join", "leave", "system"])
def test_each_kind_has_its_own_partial(kind):
    from django.template.loader import get_template

    assert get_template(f"chat/partials/kinds/{kind}.html")
