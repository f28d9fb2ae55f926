"""Bidirectional text cannot reorder the page around it: room names refuse
the bidi control characters; messages keep them, and every piece of user text
is isolated (<bdi>, or dir="auto" on the message text)."""

from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.template.loader import render_to_string

from chat import services
from chat.models import Message, Room
from tests.chat.test_fuzz import BIDI_CONTROLS

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: what follows it is drawn backwards


@pytest.mark.parametrize("control", list(BIDI_CONTROLS))
def test_a_room_name_with_a_bidi_control_is_400_and_stores_nothing(
    auth_client, soup, control
):
    response = auth_client.post("/rooms/", {"name": f"txt.{control}exe"})
    assert response.status_code == 400
    error = soup(response).select_one("#room-name-error").get_text(strip=True)
    assert "direction" in error
    assert not Room.objects.exists()


def test_joiners_stay_allowed_in_room_names(auth_client):
    # Zero-width (non-)joiners are format characters too, but emoji sequences
    # and Persian spelling need them ("I want", with a ZWNJ after its prefix).
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    for name in ("👩\u200d💻 devs", persian):
        assert auth_client.post("/rooms/", {"name": name}).status_code == 303
    assert Room.objects.count() == 2


def poll(client, room, soup):
    return soup(client.get(f"/rooms/{room.slug}/messages/?after=0"))


def test_message_text_with_an_override_is_isolated(htmx_client, room, user, soup):
    message = services.message_create(
        room=room, author=user, content=f"{RLO}gnp.exe harmless"
    )
    article = poll(htmx_client, room, soup).select_one(f"#message-{message.id}")
    content = article.select_one(".message-content")
    assert content["dir"] == "auto"
    assert content.get_text() == f"{RLO}gnp.exe harmless"
    assert article.select_one(".message-author bdi").get_text() == "alice"


def test_every_kind_isolates_names_and_text(htmx_client, room, user, soup):
    action = services.message_create(room=room, author=user, content=f"/me {RLO}waves")
    join = Message.objects.create(room=room, user=user, kind="join")
    leave = Message.objects.create(room=room, user=user, kind="leave")
    notice = services.system_notice_create(room=room, text=f"{RLO}a notice")
    page = poll(htmx_client, room, soup)
    for message in (action, join, leave, notice):
        content = page.select_one(f"#message-{message.id} .message-content")
        assert content["dir"] == "auto", message.kind
    names = page.select(f"#message-{action.id} bdi")
    assert [n.get_text() for n in names] == ["alice", f"{RLO}waves"]
    for message in (join, leave):
        name = page.select_one(f"#message-{message.id} .message-content > bdi")
        assert name.get_text() == "alice"
    notice_text = page.select_one(f"#message-{notice.id} .message-content > bdi")
    assert notice_text.get_text() == f"{RLO}a notice"


def test_room_names_are_isolated_in_the_list_and_the_page(auth_client, make_room, soup):
    room = make_room("שלום 2")
    listed = soup(auth_client.get("/rooms/")).select_one("#rooms a bdi")
    assert listed.get_text() == "שלום 2"
    page = soup(auth_client.get(f"/rooms/{room.slug}/"))
    assert page.select_one("h1 bdi").get_text() == "שלום 2"


def test_usernames_are_isolated_in_members_and_activity(
    auth_client, user, make_user, soup
):
    room = services.room_create(name="Inner", created_by=user, is_private=True)
    room.members.add(make_user("דנה"))
    page = soup(auth_client.get(f"/rooms/{room.slug}/"))
    members = [m.select_one("bdi").get_text() for m in page.select("#members .member")]
    assert "דנה" in members
    present = page.select("#presence .present-user bdi")
    assert [p.get_text() for p in present] == ["alice"]


@pytest.mark.parametrize("typing", [["דנה"], ["דנה", "bob"]])
def test_who_is_typing_is_isolated_name_by_name(typing):
    activity = SimpleNamespace(present=(), typing=typing, version="1")
    html = render_to_string("chat/partials/activity.html", {"activity": activity})
    names = BeautifulSoup(html, "html.parser").select("#typing bdi")
    assert [n.get_text() for n in names] == typing
