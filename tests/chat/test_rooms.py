import pytest

from chat.models import Room

pytestmark = pytest.mark.django_db


def test_room_list_shows_rooms_with_last_activity(
    auth_client, make_room, make_messages, soup
):
    quiet = make_room("Quiet")
    busy = make_room("Busy")
    make_messages(busy, 1)
    page = soup(auth_client.get("/rooms/"))
    rows = page.select("#rooms li")
    assert [r.select_one("a").get_text() for r in rows] == ["Busy", "Quiet"]
    assert all(r.select_one("time[datetime]") for r in rows)
    assert rows[0].select_one("a")["href"] == f"/rooms/{busy.slug}/"
    assert quiet.slug == "quiet"


def test_create_room_derives_a_slug_and_redirects(auth_client, user):
    response = auth_client.post("/rooms/", {"name": "  Café Talk  "})
    room = Room.objects.get()
    assert room.name == "Café Talk"
    assert room.slug == "cafe-talk"
    assert room.created_by == user
    assert response.status_code == 303
    assert response["Location"] == "/rooms/cafe-talk/"


def test_names_that_slugify_alike_get_distinct_slugs(auth_client):
    auth_client.post("/rooms/", {"name": "Fun!"})
    auth_client.post("/rooms/", {"name": "fun?"})
    auth_client.post("/rooms/", {"name": "日本"})
    assert sorted(Room.objects.values_list("slug", flat=True)) == [
        "fun",
        "fun-2",
        "room",
    ]


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_room_name_is_a_form_error(auth_client, name, soup):
    response = auth_client.post("/rooms/", {"name": name})
    assert response.status_code == 400
    assert soup(response).select_one("#room-name-error").get_text(strip=True)
    assert not Room.objects.exists()


def test_duplicate_room_name_is_a_form_error(auth_client, make_room, soup):
    make_room("General")
    response = auth_client.post("/rooms/", {"name": "general"})
    assert response.status_code == 400
    assert "already exists" in soup(response).select_one("#room-name-error").get_text()
    assert Room.objects.count() == 1


def test_room_list_requires_login(client, db):
    assert client.get("/rooms/")["Location"] == "/accounts/login/?next=/rooms/"
    assert client.post("/rooms/", {"name": "x"}).status_code == 302
    assert not Room.objects.exists()


def test_room_name_is_escaped(auth_client, soup):
    auth_client.post("/rooms/", {"name": "<b>bold</b>"})
    response = auth_client.get("/rooms/")
    assert b"<b>bold</b>" not in response.content
    assert soup(response).select_one("#rooms a").get_text() == "<b>bold</b>"


def test_seed_demo_creates_rooms_once(db):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")
    assert sorted(Room.objects.values_list("slug", flat=True)) == [
        "general",
        "help",
        "random",
    ]


def test_the_admin_cannot_change_a_rooms_kind(client, user, room, soup):
    """A grant issued in a public room to someone who has not joined it
    counts on the room staying public."""
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    page = soup(client.get(f"/admin/chat/room/{room.pk}/change/"))
    assert page.select_one("form#room_form") is not None
    assert page.select_one("[name=kind]") is None
    assert soup(client.get("/admin/chat/room/add/")).select_one("[name=kind]")
