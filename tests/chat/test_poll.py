from urllib.parse import parse_qs

import pytest

from tests.conftest import ids

pytestmark = pytest.mark.django_db


def poll_url(room, after):
    return f"/rooms/{room.slug}/messages/?after={after}"


def test_poll_returns_messages_after_cursor_in_order_and_a_new_poller(
    htmx_client, room, make_messages, soup
):
    msgs = make_messages(room, 5)
    response = htmx_client.get(poll_url(room, msgs[1].id))
    assert response.status_code == 200
    page = soup(response)
    assert ids(page) == [m.id for m in msgs[2:]]
    poller = page.select("#poller")
    assert len(poller) == 1
    assert poller[0].select_one("input[name=after]")["value"] == str(msgs[-1].id)
    path, query = poller[0]["hx-get"].split("?")
    assert path == f"/rooms/{room.slug}/messages/"
    assert parse_qs(query)["after"] == [str(msgs[-1].id)]
    assert poller[0]["hx-trigger"] == "every 2s"
    assert poller[0]["hx-swap"] == "outerHTML"
    # The poller is the last swapped element, so messages go in before it;
    # out-of-band parts (presence, typing) are taken out by htmx first.
    swapped = [el for el in page.find_all(recursive=False) if not el.get("hx-swap-oob")]
    assert swapped[-1]["id"] == "poller"
    assert {el["id"] for el in page.select("[hx-swap-oob]")} == {
        "presence",
        "typing",
        "receipts",
    }
    # A fragment, not a page.
    assert page.find("html") is None and page.find("body") is None


def test_poll_with_nothing_new_is_204_with_empty_body(htmx_client, room, make_messages):
    msgs = make_messages(room, 2)
    response = htmx_client.get(poll_url(room, msgs[-1].id))
    assert response.status_code == 204
    assert response.content == b""


def test_poll_of_empty_room_is_204(htmx_client, room):
    assert htmx_client.get(poll_url(room, 0)).status_code == 204


def test_poll_returns_at_most_100_and_fires_again_at_once(
    htmx_client, room, make_messages, soup
):
    msgs = make_messages(room, 105)
    page = soup(htmx_client.get(poll_url(room, 0)))
    assert ids(page) == [m.id for m in msgs[:100]]
    poller = page.select_one("#poller")
    assert poller.select_one("input[name=after]")["value"] == str(msgs[99].id)
    assert poller["hx-trigger"].startswith("load")
    rest = soup(htmx_client.get(poll_url(room, msgs[99].id)))
    assert ids(rest) == [m.id for m in msgs[100:]]
    assert rest.select_one("#poller")["hx-trigger"] == "every 2s"


def test_poll_only_returns_messages_of_its_room(
    htmx_client, make_room, make_messages, soup
):
    one, two = make_room("One"), make_room("Two")
    make_messages(two, 3)
    mine = make_messages(one, 2)
    assert ids(soup(htmx_client.get(poll_url(one, 0)))) == [m.id for m in mine]


def test_plain_poll_redirects_to_the_room_page(auth_client, room, make_messages):
    make_messages(room, 2)
    response = auth_client.get(poll_url(room, 0))
    assert response.status_code == 302
    assert response["Location"] == f"/rooms/{room.slug}/"


def test_poll_varies_on_hx_request(htmx_client, room, make_messages):
    make_messages(room, 1)
    response = htmx_client.get(poll_url(room, 0))
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    "query",
    [
        "after=-1",
        "after=abc",
        "after=1.5",
        "after=",
        "after=99999999999999999999999",
        "after=1&after=2",
        "before=-3",
        "before=x",
        "after=1&before=2",
        "",
    ],
)
def test_malformed_cursor_is_400_with_a_message(htmx_client, room, query):
    response = htmx_client.get(f"/rooms/{room.slug}/messages/?{query}")
    assert response.status_code == 400
    assert response.content.strip()
    assert b"Traceback" not in response.content


def test_poll_of_unknown_room_is_404(htmx_client, db):
    assert htmx_client.get("/rooms/nope/messages/?after=0").status_code == 404


def test_anonymous_plain_poll_redirects_to_login(client, room):
    response = client.get(poll_url(room, 0))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_htmx_poll_gets_hx_redirect_back_to_the_room(anon_htmx_client, room):
    response = anon_htmx_client.get(
        poll_url(room, 0),
        headers={"HX-Current-URL": f"http://testserver/rooms/{room.slug}/"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/accounts/login/?next=%2Frooms%2F{room.slug}%2F"
    assert response.content == b""
