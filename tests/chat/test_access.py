"""The room access rule, every case down every path.

The rule is stated once (chat.selectors.rooms_visible_to); the empty poll's
hand-written query (chat/live/query.py) checks what a grant issued under it
depends on. Each case here starts with a viewer who had access and a poller
grant, changes one thing, and asks every way in: the ORM selector, the page,
the full poll, the API, a send, an attachment's file, and the grant-carrying
poll, empty and delivering. A new rule (bans, say) is a new case: any path
that misses it fails here.
"""

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client

from chat import presence, selectors, services
from chat.models import Membership, Message, Room
from tests.accounts.images import png_upload

pytestmark = pytest.mark.django_db


@dataclass
class World:
    room: Room
    viewer: object
    client: Client  # the viewer's, every request from htmx
    author: object  # someone who stays in the room


def _private(user, make_user) -> World:
    room = services.room_create(name="Inner", created_by=user, is_private=True)
    viewer = make_user("vera")
    room.members.add(viewer)
    return World(room, viewer, None, user)


def _public(user, make_user) -> World:
    room = services.room_create(name="Lobby", created_by=user)
    return World(room, make_user("vera"), None, user)


def _direct(user, make_user) -> World:
    viewer = make_user("vera")
    room = services.direct_room_get_or_create(user=user, other=viewer)
    return World(room, viewer, None, user)


def _leave(world: World) -> None:
    services.room_leave(room=world.room, user=world.viewer)


def _removed(world: World) -> None:
    Membership.objects.filter(room=world.room, user=world.viewer).delete()


def _deactivated(world: World) -> None:
    world.viewer.is_active = False
    world.viewer.save(update_fields=["is_active"])


def _logged_out(world: World) -> None:
    world.client.post("/accounts/logout/")


def _joins_then_leaves(world: World) -> None:
    services.room_join(room=world.room, user=world.viewer)
    _leave(world)


# (room, what happens after the grant was issued, what the viewer gets
# then: "seen", "404" (signed in, no access) or "login" (no longer signed
# in). Logging out ends the session, not the rule: the selector, which knows
# users and not sessions, still says yes; every request says no.
CASES = {
    "private member stays": (_private, None, "seen"),
    "private member leaves": (_private, _leave, "404"),
    "private member removed": (_private, _removed, "404"),
    "private member deactivated": (_private, _deactivated, "login"),
    "private member logs out": (_private, _logged_out, "login"),
    "public viewer stays": (_public, None, "seen"),
    "public member leaves": (_public, _joins_then_leaves, "seen"),
    "public viewer deactivated": (_public, _deactivated, "login"),
    "direct member stays": (_direct, None, "seen"),
    "direct member removed": (_direct, _removed, "404"),
}


def refused(response, answer: str, *, htmx: bool = True) -> bool:
    """Whether `response` is the refusal `answer` names, exactly."""
    if answer == "404":
        return response.status_code == 404
    if htmx:  # htmx is sent to the login page as a page
        return response.status_code == 200 and response.has_header("HX-Redirect")
    return response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.fixture(params=list(CASES), ids=list(CASES))
def case(request, client_for, user, make_user, poller_url):
    make, change, answer = CASES[request.param]
    world = make(user, make_user)
    world.client = client_for(world.viewer)
    url = poller_url(world.client, world.room)
    assert "t=" in url
    newest = Message.objects.order_by("-id").values_list("id", flat=True).first()
    if change:
        change(world)
    # Joining and leaving post notices: then the poll has something new.
    world.changed = Message.objects.filter(id__gt=newest or 0).exists()
    world.answer = answer
    return world, url, answer == "seen"


def test_the_selector(case, request):
    world, _url, visible = case
    visible_rooms = selectors.rooms_visible_to(user=world.viewer)
    found = visible_rooms.filter(pk=world.room.pk).first()
    by_rule = visible or "logs out" in request.node.callspec.id
    assert (found == world.room) is by_rule


def test_the_grant_carrying_empty_poll(case):
    world, url, visible = case
    response = world.client.get(url)
    if visible:
        assert response.status_code == (200 if world.changed else 204)
    else:
        # Not "nothing new": the full path answers, as it would to anyone.
        assert refused(response, world.answer)


def test_the_grant_carrying_delivering_poll(case):
    world, url, visible = case
    services.message_create(room=world.room, author=world.author, content="psst")
    response = world.client.get(url)
    assert (b"psst" in response.content) is visible
    if not visible:
        assert refused(response, world.answer)


def test_the_full_paths(case):
    world, _url, visible = case
    msg = services.message_create(room=world.room, author=world.author, content="x")
    base = f"/rooms/{world.room.slug}"
    page = world.client.get(f"{base}/", headers={"HX-Request": ""})
    poll = world.client.get(f"{base}/messages/?after=0")
    history = world.client.get(f"{base}/messages/?before={msg.id + 1}")
    api = world.client.get(f"/api/rooms/{world.room.slug}/messages/")
    before = Message.objects.count()
    send = world.client.post(f"{base}/messages/", {"content": "hello"})
    if visible:
        assert [page.status_code, poll.status_code, history.status_code] == [200] * 3
        assert api.status_code == 200 and send.status_code == 200
    else:
        assert refused(page, world.answer, htmx=False)
        for response in (poll, history, send):
            assert refused(response, world.answer)
        assert api.status_code == (404 if world.answer == "404" else 401)
        assert Message.objects.count() == before


def test_the_files(case):
    """An attachment and its thumbnail follow the rule of the room they
    were sent in, the URL known or not."""
    world, _url, visible = case
    sent = services.message_create(
        room=world.room, author=world.author, content="", files=[png_upload()]
    )
    attachment = sent.attachments.get()
    base = f"/rooms/{world.room.slug}/files/{attachment.pk}"
    for url in (f"{base}/{attachment.name}", f"{base}/thumb/{attachment.thumb_name}"):
        response = world.client.get(url)
        if visible:
            assert response.status_code == 200, url
        else:
            assert refused(response, world.answer), url


def test_presence_is_recorded_only_for_a_grant_that_counts(case):
    """Others see who is here; a poll with a grant that no longer counts must
    not put its user back on that list."""
    world, url, visible = case
    cache.delete(f"chat:present:{world.room.pk}")
    presence.forget_local()
    world.client.get(url)
    here = presence.current(room_id=world.room.pk, user_id=world.author.pk).present
    assert (world.viewer.get_username() in here) is visible


@pytest.mark.parametrize("name", list(CASES))
def test_the_sidebars_refresh_on_its_grant(name, client_for, user, make_user, soup):
    """The sidebar lists the rooms one sees, and its unchanged refresh is
    answered on a grant (chat/live/): it must never hide a room one lost
    behind a 204, nor answer anyone signed out with a sidebar."""
    make, change, answer = CASES[name]
    world = make(user, make_user)
    world.client = client_for(world.viewer)
    page = world.client.get("/rooms/", headers={"HX-Request": ""})
    sidebar = soup(page).select_one("#sidebar")
    url = f"{sidebar['hx-get']}&t={sidebar.select_one('#sidebar-grant')['value']}"
    assert world.client.get(url).status_code == 204
    if change:
        change(world)
    response = world.client.get(url)
    listed = f'id="sidebar-{world.room.slug}"' in response.content.decode()
    if answer == "login":
        assert refused(response, answer) and b"sidebar" not in response.content
    elif answer == "404":
        assert response.status_code == 200 and not listed
    else:
        assert response.status_code == 204 or listed
