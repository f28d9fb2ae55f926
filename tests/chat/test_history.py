import pytest

from tests.conftest import appended_ids, ids

pytestmark = pytest.mark.django_db


def test_room_page_shows_last_25_oldest_first_then_poller_then_form(
    auth_client, room, make_messages, soup
):
    msgs = make_messages(room, 60)
    response = auth_client.get(f"/rooms/{room.slug}/")
    assert response.status_code == 200
    page = soup(response)
    log = page.select_one("#messages")
    assert log["aria-live"] == "polite"
    assert ids(log) == [m.id for m in msgs[-25:]]
    children = log.find_all(recursive=False)
    assert children[-1]["id"] == "poller"
    assert children[0]["id"] == "load-older"
    assert page.select_one("#poller input[name=after]")["value"] == str(msgs[-1].id)
    form = page.select_one("#send-form")
    assert form is not None
    # The form comes after the log in the page.
    assert form.find_previous(id="messages") is not None
    # Every message carries its time.
    assert len(log.select("article time[datetime]")) == 25


def test_load_older_walks_back_to_the_first_message_without_gaps(
    htmx_client, room, make_messages, soup
):
    msgs = make_messages(room, 60)
    seen: list[int] = []
    before = msgs[-25].id
    pages = 0
    while before is not None:
        response = htmx_client.get(f"/rooms/{room.slug}/messages/?before={before}")
        assert response.status_code == 200
        page = soup(response)
        assert page.select("#poller") == []
        batch = appended_ids(page)
        assert len(batch) <= 25
        seen = batch + seen
        control = page.select_one("#load-older a")
        before = int(control["hx-get"].split("before=")[1]) if control else None
        pages += 1
    assert seen == [m.id for m in msgs[:35]]
    assert pages == 2


def test_load_older_control_is_absent_at_the_beginning(
    auth_client, room, make_messages, soup
):
    make_messages(room, 25)
    page = soup(auth_client.get(f"/rooms/{room.slug}/"))
    assert page.select("#load-older") == []
    assert len(ids(page)) == 25


def test_plain_history_link_shows_older_page_without_poller(
    auth_client, room, make_messages, soup
):
    msgs = make_messages(room, 30)
    response = auth_client.get(f"/rooms/{room.slug}/messages/?before={msgs[5].id}")
    assert response.status_code == 302
    response = auth_client.get(response["Location"])
    page = soup(response)
    assert ids(page) == [m.id for m in msgs[:5]]
    assert page.select("#poller") == []
    assert page.select_one("#send-form") is not None


def test_unknown_room_is_404_page(auth_client, soup):
    response = auth_client.get("/rooms/no-such-room/")
    assert response.status_code == 404


def test_room_page_requires_login(client, room):
    response = client.get(f"/rooms/{room.slug}/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/rooms/{room.slug}/"


def test_own_messages_are_marked_apart(
    auth_client, room, user, other_user, make_messages, soup
):
    mine = make_messages(room, 1, author=user)[0]
    theirs = make_messages(room, 1, author=other_user)[0]
    page = soup(auth_client.get(f"/rooms/{room.slug}/"))
    assert "message-own" in page.select_one(f"#message-{mine.id}")["class"]
    assert "message-own" not in page.select_one(f"#message-{theirs.id}")["class"]
