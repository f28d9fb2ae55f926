import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from chat import services
from chat.models import Message, Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_room(user) -> Room:
    return services.room_create(name="Secret plans", created_by=user, is_private=True)


@pytest.fixture
def outsider(make_user, client_for) -> Client:
    client = client_for(make_user("mallory"), htmx=False)
    return client


def endpoints(room: Room, message_id: int) -> list[tuple[str, str, dict]]:
    base = f"/rooms/{room.slug}"
    return [
        ("get", f"{base}/", {}),
        ("get", f"{base}/?before={message_id}", {}),
        ("get", f"{base}/messages/?after=0", {}),
        ("get", f"{base}/messages/?before={message_id + 1}", {}),
        ("post", f"{base}/messages/", {"content": "let me in", "after": 0}),
        ("post", f"{base}/members/", {"username": "mallory"}),
    ]


@pytest.mark.parametrize("htmx", [False, True])
def test_non_member_gets_404_on_every_endpoint(
    private_room, outsider, make_messages, htmx
):
    msg = make_messages(private_room, 1)[0]
    headers = {"HX-Request": "true"} if htmx else {}
    for method, url, data in endpoints(private_room, msg.id):
        response = getattr(outsider, method)(url, data, headers=headers)
        assert response.status_code == 404, (method, url)
        assert b"Secret plans" not in response.content
    assert Message.objects.count() == 1
    assert not private_room.members.filter(username="mallory").exists()


def test_member_can_use_every_endpoint(private_room, htmx_client, make_messages):
    msg = make_messages(private_room, 1)[0]
    # Page, history page, poll (one message), history fragment, send.
    statuses = [
        getattr(htmx_client, method)(url, data).status_code
        for method, url, data in endpoints(private_room, msg.id)[:-1]
    ]
    assert statuses == [200, 200, 200, 200, 200]


def test_private_rooms_are_absent_from_other_users_lists(
    private_room, outsider, auth_client, make_room, soup
):
    make_room("Lobby")
    theirs = [a.get_text() for a in soup(outsider.get("/rooms/")).select("#rooms a")]
    assert theirs == ["Lobby"]
    mine = {a.get_text() for a in soup(auth_client.get("/rooms/")).select("#rooms a")}
    assert mine == {"Lobby", "Secret plans"}


def test_creating_a_private_room_makes_the_creator_a_member(auth_client, user):
    auth_client.post("/rooms/", {"name": "Hidden", "private": "on"})
    room = Room.objects.get(name="Hidden")
    assert room.is_private
    assert list(room.members.all()) == [user]


def test_private_room_name_does_not_leak_through_the_duplicate_check(
    private_room, outsider
):
    response = outsider.post("/rooms/", {"name": "Secret plans"})
    assert response.status_code == 303
    assert Room.objects.filter(name="Secret plans").count() == 2


def test_creator_adds_a_member_by_username(
    private_room, client_for, auth_client, make_user, soup
):
    bob = make_user("bobby")
    response = auth_client.post(
        f"/rooms/{private_room.slug}/members/", {"username": "bobby"}
    )
    assert response.status_code == 303
    assert private_room.members.filter(pk=bob.pk).exists()
    bob_client = client_for(bob, htmx=False)
    assert bob_client.get(f"/rooms/{private_room.slug}/").status_code == 200
    page = soup(auth_client.get(f"/rooms/{private_room.slug}/"))
    assert "bobby" in [
        m.select_one("bdi").get_text() for m in page.select("#members .member")
    ]


def test_adding_an_unknown_username_is_a_form_error(private_room, auth_client, soup):
    response = auth_client.post(
        f"/rooms/{private_room.slug}/members/", {"username": "nobody"}
    )
    assert response.status_code == 400
    assert "No user" in soup(response).select_one("#member-error").get_text()


def test_members_who_did_not_create_the_room_cannot_add(
    private_room, client_for, make_user, soup
):
    member = make_user("member")
    private_room.members.add(member)
    client = client_for(member, htmx=False)
    page = soup(client.get(f"/rooms/{private_room.slug}/"))
    assert page.select("#member-form") == []
    response = client.post(
        f"/rooms/{private_room.slug}/members/", {"username": "member"}
    )
    assert response.status_code == 403


def test_dm_starts_with_a_post_and_is_one_shared_room(
    auth_client, client_for, user, other_user, soup
):
    page = auth_client.get(f"/dm/{other_user.username}/")
    assert page.status_code == 200
    assert not Room.objects.exists()  # looking is not starting
    form = soup(page).select_one("#direct-start form")
    assert form["method"] == "post" and form["action"] == f"/dm/{other_user.username}/"
    response = auth_client.post(f"/dm/{other_user.username}/")
    room = Room.objects.get(kind=Room.Kind.DIRECT)
    assert response.status_code == 303
    assert response["Location"] == f"/rooms/{room.slug}/"
    assert room.is_private and room.is_direct
    assert set(room.members.all()) == {user, other_user}
    bob = client_for(other_user, htmx=False)
    # Once it exists, the GET goes there; a second POST finds the same room.
    assert bob.get(f"/dm/{user.username}/")["Location"] == f"/rooms/{room.slug}/"
    assert bob.post(f"/dm/{user.username}/")["Location"] == f"/rooms/{room.slug}/"
    assert Room.objects.filter(kind=Room.Kind.DIRECT).count() == 1


def test_dm_is_invisible_to_a_third_user(auth_client, other_user, outsider):
    auth_client.post(f"/dm/{other_user.username}/")
    room = Room.objects.get(kind=Room.Kind.DIRECT)
    assert outsider.get(f"/rooms/{room.slug}/").status_code == 404
    assert outsider.get(f"/rooms/{room.slug}/messages/?after=0").status_code == 404
    assert outsider.get(f"/dm/{other_user.username}/").status_code == 200
    assert outsider.post(f"/dm/{other_user.username}/")["Location"] != (
        f"/rooms/{room.slug}/"
    )


def test_dm_with_unknown_user_is_404_and_with_self_is_400(auth_client, user):
    assert auth_client.get("/dm/nobody/").status_code == 404
    assert auth_client.post("/dm/nobody/").status_code == 404
    assert auth_client.get(f"/dm/{user.username}/").status_code == 400
    assert auth_client.post(f"/dm/{user.username}/").status_code == 400
    assert not Room.objects.exists()


def test_no_new_dm_with_a_closed_account_but_an_old_one_stays_open(
    auth_client, make_user, other_user, soup
):
    auth_client.post(f"/dm/{other_user.username}/")
    room = Room.objects.get(kind=Room.Kind.DIRECT)
    carol = make_user("carol")
    for closed in (other_user, carol):
        closed.is_active = False
        closed.save()
    # bob's conversation was started before: it still opens.
    assert auth_client.get("/dm/bob/")["Location"] == f"/rooms/{room.slug}/"
    assert auth_client.post("/dm/bob/")["Location"] == f"/rooms/{room.slug}/"
    # carol's would be new: refused with the reason, and nothing stored.
    for response in (auth_client.get("/dm/carol/"), auth_client.post("/dm/carol/")):
        assert response.status_code == 400
        assert "carol's account is closed" in soup(response).get_text()
    assert Room.objects.filter(kind=Room.Kind.DIRECT).count() == 1


def test_dm_requires_login(client, other_user):
    assert client.get(f"/dm/{other_user.username}/").status_code == 302
    assert client.post(f"/dm/{other_user.username}/").status_code == 302


def test_a_dm_never_gains_a_third_member(auth_client, user, other_user, outsider):
    """The probe's privacy bug: the DM's creator POSTed a third username and
    that user could then read the whole conversation."""
    auth_client.post(f"/dm/{other_user.username}/")
    room = Room.objects.get(kind=Room.Kind.DIRECT)
    services.message_create(room=room, author=user, content="just us")
    response = auth_client.post(f"/rooms/{room.slug}/members/", {"username": "mallory"})
    assert response.status_code == 403
    assert "direct conversation" in response.content.decode()
    assert set(room.members.all()) == {user, other_user}
    assert outsider.get(f"/rooms/{room.slug}/").status_code == 404
    assert outsider.get(f"/api/rooms/{room.slug}/messages/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.room_member_add(room=room, added_by=user, username="mallory")
    # The page offers no add form for a DM (the template asks the same rule).
    page = auth_client.get(f"/rooms/{room.slug}/")
    assert b'id="member-form"' not in page.content


def test_private_and_direct_slugs_say_nothing_of_their_names(
    user, client_for, other_user, make_user, auth_client
):
    secret = services.room_create(name="Launch", created_by=user, is_private=True)
    dm = services.direct_room_get_or_create(user=user, other=other_user)
    assert "launch" not in secret.slug and len(secret.slug) >= 16
    assert str(user.pk) not in dm.slug.split("-") and len(dm.slug) >= 16
    # A public room of the same name gets the plain slug: the private room's
    # existence changes nothing an outsider can see.
    mallory = client_for(make_user("mallory"), htmx=False)
    assert mallory.post("/rooms/", {"name": "Launch"})["Location"] == "/rooms/launch/"
