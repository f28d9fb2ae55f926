"""Permalinks: the room page opened around a message (`?around=`), the
message highlighted, "Load older" above and "Load newer" below until the
newest, where the poller takes over and nothing is lost or sent twice."""

from urllib.parse import parse_qs, urlsplit

import pytest

from chat import selectors, services
from chat.models import Membership, Message
from tests.conftest import appended_ids, ids

pytestmark = pytest.mark.django_db


def around_url(room, message_id) -> str:
    return f"/rooms/{room.slug}/?around={message_id}"


def permalink(room, message_id) -> str:
    return f"/rooms/{room.slug}/messages/{message_id}/"


def plain(client_for, user):
    return client_for(user, htmx=False)


def log(page):
    return page.select_one("#messages")


def top_level(page) -> list:
    """The elements htmx swaps in place of the target (out of band apart)."""
    return [el for el in page.find_all(recursive=False) if not el.get("hx-swap-oob")]


def out_of_band_messages(page) -> list[int]:
    return [int(el["data-id"]) for el in page.select("article[hx-swap-oob]")]


def inline_messages(page) -> list[int]:
    return [int(el["data-id"]) for el in top_level(page) if el.name == "article"]


def load_newer(client, soup, page, answer=None):
    """Click "Load newer" as htmx does: the control of the room page (or of
    the last answer) and the start its #load-older holds."""
    link = (answer or page).select_one("#load-newer a")
    start = page.select_one("#load-older input[name=start]")
    url = link["hx-get"] + (f"&start={start['value']}" if start else "")
    response = client.get(url)
    assert response.status_code == 200
    return soup(response)


def test_around_page_shows_the_message_in_a_window_highlighted(
    user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 60)
    target = msgs[30]
    response = plain(client_for, user).get(around_url(room, target.id))
    assert response.status_code == 200
    page = soup(response)
    # Half a page before it, the message, the rest of the page after it.
    assert ids(log(page)) == [m.id for m in msgs[18:43]]
    marked = page.select("[data-highlight]")
    assert [el["id"] for el in marked] == [f"message-{target.id}"]
    assert marked[0]["aria-current"] == "true"
    children = log(page).find_all(recursive=False)
    # Older messages exist: "Load older" above, from the window's first.
    assert children[0]["id"] == "load-older"
    assert children[0].select_one("input[name=start]")["value"] == str(msgs[18].id)
    # Short of the newest: "Load newer" below, and no poller.
    assert children[-1]["id"] == "load-newer"
    assert page.select("#poller") == []
    # (The sidebar still refreshes: it is not the room's poller.)
    assert page.select("#main [hx-trigger*=every]") == []


def test_around_window_fills_from_the_other_side_near_the_ends(
    user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 60)
    client = plain(client_for, user)
    first = soup(client.get(around_url(room, msgs[1].id)))
    assert ids(log(first)) == [m.id for m in msgs[:25]]
    assert first.select("#load-older") == []
    assert first.select_one("#load-newer") is not None
    last = soup(client.get(around_url(room, msgs[-3].id)))
    assert ids(log(last)) == [m.id for m in msgs[-25:]]
    assert last.select_one("#load-older") is not None
    assert last.select("#load-newer") == []


def test_around_a_recent_message_is_the_live_page(
    user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 30)
    page = soup(plain(client_for, user).get(around_url(room, msgs[-5].id)))
    assert ids(log(page)) == [m.id for m in msgs[-25:]]
    assert page.select("#load-newer") == []
    poller = log(page).find_all(recursive=False)[-1]
    assert poller["id"] == "poller"
    assert "every 2s" in poller["hx-trigger"]
    assert poller.select_one("input[name=after]")["value"] == str(msgs[-1].id)
    assert page.select_one(f"#message-{msgs[-5].id}").has_attr("data-highlight")


def test_load_older_above_the_window_brings_the_page_before_it(
    user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 60)
    page = soup(plain(client_for, user).get(around_url(room, msgs[40].id)))
    link = page.select_one("#load-older a")
    older = soup(client_for(user).get(link["hx-get"]))
    assert appended_ids(older) == [m.id for m in msgs[3:28]]
    assert older.select_one("#load-older input[name=start]")["value"] == str(msgs[3].id)


def test_load_newer_with_htmx_walks_to_the_newest_then_gives_the_poller(
    user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 80)
    page = soup(plain(client_for, user).get(around_url(room, msgs[20].id)))
    assert ids(log(page)) == [m.id for m in msgs[8:33]]
    link = page.select_one("#load-newer a")
    assert link["hx-target"] == "#load-newer"
    assert link["hx-swap"] == f"outerHTML show:#message-{msgs[33].id}:top"
    assert (link["hx-include"], link["hx-params"]) == (
        "#load-older, #load-newer",
        "start",
    )
    htmx = client_for(user)
    second = load_newer(htmx, soup, page)
    assert ids(second) == [m.id for m in msgs[33:58]]
    swapped = top_level(second)
    assert swapped[-1]["id"] == "load-newer"
    assert second.select("#poller") == []
    # The page now ends at msgs[57]: the next control says so.
    control = second.select_one("#load-newer")
    assert control.select_one("input[name=after]")["value"] == str(msgs[57].id)
    third = load_newer(htmx, soup, page, second)
    assert ids(third) == [m.id for m in msgs[58:]]
    assert third.select("#load-newer") == []
    poller = top_level(third)[-1]
    assert poller["id"] == "poller"
    assert "every 2s" in poller["hx-trigger"]
    assert poller.select_one("input[name=after]")["value"] == str(msgs[-1].id)
    # The page turns live as the room page is: its grant, its activity, its
    # read receipts.
    assert "t" in parse_qs(urlsplit(poller["hx-get"]).query)
    assert {el["id"] for el in third.select("[hx-swap-oob]")} == {
        "presence",
        "typing",
        "receipts",
    }
    assert page.select_one("#receipts") is not None  # its target is there


def test_load_newer_without_script_opens_the_room_page_after_the_window(
    user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 80)
    client = plain(client_for, user)
    page = soup(client.get(around_url(room, msgs[20].id)))
    href = page.select_one("#load-newer a")["href"]
    assert href == f"/rooms/{room.slug}/?newer={msgs[32].id}#message-{msgs[33].id}"
    response = client.get(href)
    assert response.status_code == 200
    second = soup(response)
    assert ids(log(second)) == [m.id for m in msgs[33:58]]
    assert second.select("#poller") == []
    assert second.select_one("#load-older input[name=start]")["value"] == str(
        msgs[33].id
    )
    third = soup(client.get(second.select_one("#load-newer a")["href"]))
    assert ids(log(third)) == [m.id for m in msgs[58:]]
    assert third.select("#load-newer") == []
    assert third.select_one("#poller") is not None
    # The fragment URL, asked without htmx, sends to that same page.
    response = client.get(f"/rooms/{room.slug}/messages/?newer={msgs[57].id}&seq=1")
    assert response.status_code == 302
    assert response["Location"] == f"/rooms/{room.slug}/?newer={msgs[57].id}"


def test_newer_than_the_newest_is_the_newest_page(
    user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 30)
    page = soup(plain(client_for, user).get(f"/rooms/{room.slug}/?newer={msgs[-1].id}"))
    assert ids(log(page)) == [m.id for m in msgs[-25:]]
    assert page.select_one("#poller input[name=after]")["value"] == str(msgs[-1].id)


def test_changes_between_the_page_and_load_newer_come_out_of_band_once(
    user, other_user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 60)
    page = soup(plain(client_for, user).get(around_url(room, msgs[30].id)))
    assert ids(log(page)) == [m.id for m in msgs[18:43]]
    # Meanwhile: two messages the page holds change, one older than it and
    # one after it too.
    services.message_edit(message=msgs[20], editor=user, content="edited 20")
    services.reaction_toggle(message=msgs[25], user=other_user, emoji="👍")
    services.message_edit(message=msgs[10], editor=user, content="edited 10")
    services.message_edit(message=msgs[50], editor=user, content="edited 50")
    htmx = client_for(user)
    answer = load_newer(htmx, soup, page)
    assert inline_messages(answer) == [m.id for m in msgs[43:]]
    # The held ones, once each, out of band, as they are now.
    assert out_of_band_messages(answer) == [msgs[20].id, msgs[25].id]
    edited = answer.select_one(f"#message-{msgs[20].id}")
    assert "edited 20" in edited.select_one(".message-content").text
    assert answer.select_one(f"#message-{msgs[25].id} [data-emoji]") is not None
    # Not yet loaded: new, inline, as it is now.
    inline = answer.select_one(f"#message-{msgs[50].id}")
    assert not inline.get("hx-swap-oob")
    assert "edited 50" in inline.select_one(".message-content").text
    poller = answer.select_one("#poller")
    start = page.select_one("#load-older input[name=start]")["value"]
    poll_url = f"{poller['hx-get']}&start={start}"
    # Nothing since: the next poll has nothing to send again.
    assert htmx.get(poll_url).status_code == 204
    # Then something new and a held message changed: both, once.
    services.message_edit(message=msgs[22], editor=user, content="edited 22")
    fresh = services.message_create(room=room, author=user, content="fresh")
    polled = soup(htmx.get(poll_url))
    assert inline_messages(polled) == [fresh.id]
    assert out_of_band_messages(polled) == [msgs[22].id]


def test_load_newer_short_of_the_newest_brings_held_changes_too(
    user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 80)
    page = soup(plain(client_for, user).get(around_url(room, msgs[20].id)))
    services.message_edit(message=msgs[9], editor=user, content="edited 9")
    htmx = client_for(user)
    second = load_newer(htmx, soup, page)
    assert out_of_band_messages(second) == [msgs[9].id]
    assert second.select_one("#load-newer") is not None
    # Its control carries the change number it has seen: not sent again.
    third = load_newer(htmx, soup, page, second)
    assert out_of_band_messages(third) == []
    assert ids(third) == [m.id for m in msgs[58:]]


def test_a_change_racing_load_newer_comes_with_the_next_answer_once(
    user, client_for, room, make_messages, soup, monkeypatch
):
    msgs = make_messages(room, 40)
    page = soup(plain(client_for, user).get(around_url(room, msgs[5].id)))
    assert ids(log(page)) == [m.id for m in msgs[:25]]
    read = selectors.messages_newer

    def racing(**kwargs):
        # After the view read the room's change number, before the messages.
        services.message_edit(message=msgs[30], editor=user, content="raced")
        monkeypatch.setattr(selectors, "messages_newer", read)
        return read(**kwargs)

    monkeypatch.setattr(selectors, "messages_newer", racing)
    htmx = client_for(user)
    second = load_newer(htmx, soup, page)
    # It stops short of the message changed past its change number...
    assert inline_messages(second) == [m.id for m in msgs[25:30]]
    assert second.select("#poller") == []
    # ...which the next answer brings, as it is now, with the poller.
    third = load_newer(htmx, soup, page, second)
    assert inline_messages(third) == [m.id for m in msgs[30:]]
    assert "raced" in third.select_one(f"#message-{msgs[30].id}").text
    assert out_of_band_messages(third) == []
    assert htmx.get(third.select_one("#poller")["hx-get"]).status_code == 204


def test_a_send_short_of_the_newest_takes_the_place_of_load_newer(
    user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 60)
    page = soup(plain(client_for, user).get(around_url(room, msgs[30].id)))
    form = page.select_one("#send-form")
    # As htmx reads the form: its target, and the cursors it includes.
    assert page.select_one(form["hx-target"])["id"] == "load-newer"
    data = {"content": "from history"}
    for holder in page.select(form["hx-include"]):
        for field in holder.find_all("input", recursive=False):
            data[field["name"]] = field["value"]
    assert data["after"] == str(msgs[42].id) and data["start"] == str(msgs[18].id)
    answer = soup(client_for(user).post(form["hx-post"], data))
    mine = Message.objects.get(content="from history")
    # What followed the page, then the sender's message, then the poller.
    assert inline_messages(answer) == [m.id for m in msgs[43:]] + [mine.id]
    assert top_level(answer)[-1]["id"] == "poller"


def test_the_permalink_redirects_to_the_room_around_the_message(
    user, client_for, room, make_messages, soup
):
    msgs = make_messages(room, 60)
    client = plain(client_for, user)
    response = client.get(permalink(room, msgs[3].id))
    assert response.status_code == 302
    location = f"/rooms/{room.slug}/?around={msgs[3].id}#message-{msgs[3].id}"
    assert response["Location"] == location
    page = soup(client.get(location))
    assert page.select_one(f"#message-{msgs[3].id}").has_attr("data-highlight")


def test_a_deleted_message_stays_linkable(user, client_for, room, make_messages, soup):
    msgs = make_messages(room, 40)
    services.message_delete(message=msgs[5], deleter=user)
    client = plain(client_for, user)
    page = soup(client.get(client.get(permalink(room, msgs[5].id))["Location"]))
    tombstone = page.select_one(f"#message-{msgs[5].id}")
    assert tombstone["data-kind"] == "deleted"
    assert tombstone.has_attr("data-highlight")


def test_the_highlight_stays_on_its_page(user, client_for, room, make_messages, soup):
    msgs = make_messages(room, 30)
    client = plain(client_for, user)
    client.get(around_url(room, msgs[-2].id))
    # The same message drawn for the room page (the rendering is cached).
    page = soup(client.get(f"/rooms/{room.slug}/"))
    assert page.select_one(f"#message-{msgs[-2].id}") is not None
    assert page.select("[data-highlight]") == []


def test_an_outsider_gets_404_for_a_private_rooms_permalinks(
    inner_room, make_user, client_for, make_messages
):
    said = make_messages(inner_room.room, 3)
    carol = make_user("carol")
    for client in (client_for(carol), client_for(carol, htmx=False)):
        room = inner_room.room
        assert client.get(around_url(room, said[1].id)).status_code == 404
        assert client.get(permalink(room, said[1].id)).status_code == 404
        newer = f"/rooms/{room.slug}/messages/?newer={said[0].id}&seq=0"
        assert client.get(newer).status_code == 404
    # A member follows them.
    member = client_for(inner_room.member, htmx=False)
    assert member.get(around_url(inner_room.room, said[1].id)).status_code == 200


def test_a_message_of_another_room_is_404(
    user, client_for, room, make_room, make_messages
):
    elsewhere = make_messages(make_room("Elsewhere"), 1)[0]
    make_messages(room, 3)
    for client in (client_for(user), client_for(user, htmx=False)):
        assert client.get(around_url(room, elsewhere.id)).status_code == 404
        assert client.get(permalink(room, elsewhere.id)).status_code == 404


@pytest.mark.parametrize(
    "query",
    ["around=abc", "around=-1", "around=1.5", "around=1&around=2", "around="],
)
def test_a_malformed_around_is_400(user, client_for, room, make_messages, query):
    make_messages(room, 2)
    response = client_for(user, htmx=False).get(f"/rooms/{room.slug}/?{query}")
    assert response.status_code == 400
    assert "around" in response.content.decode()


def test_an_unknown_around_is_404(user, client_for, room, make_messages):
    msgs = make_messages(room, 2)
    client = client_for(user, htmx=False)
    assert client.get(around_url(room, msgs[-1].id + 100)).status_code == 404
    assert client.get(around_url(room, 0)).status_code == 404


@pytest.mark.parametrize(
    "query", ["around={id}&before={id}", "around={id}&newer={id}", "newer=x"]
)
def test_clashing_or_malformed_room_cursors_are_400(
    user, client_for, room, make_messages, query
):
    msg = make_messages(room, 2)[0]
    url = f"/rooms/{room.slug}/?{query.format(id=msg.id)}"
    assert client_for(user, htmx=False).get(url).status_code == 400


@pytest.mark.parametrize(
    "query", ["newer=x", "newer=1&after=1", "newer=1&before=5", "newer=1&seq=-2"]
)
def test_malformed_load_newer_is_400(user, client_for, room, make_messages, query):
    make_messages(room, 2)
    response = client_for(user).get(f"/rooms/{room.slug}/messages/?{query}")
    assert response.status_code == 400


@pytest.fixture
def bob_reading(room, other_user, client_for):
    """bob, a member who has read everything so far, and his read mark."""
    services.room_join(room=room, user=other_user)

    def mark() -> int:
        return Membership.objects.get(room=room, user=other_user).last_read_id

    return client_for(other_user, htmx=False), mark


def test_a_permalink_into_old_history_marks_nothing_read(
    room, make_messages, bob_reading, client_for, other_user, soup
):
    bob, mark = bob_reading
    before = mark()
    msgs = make_messages(room, 60)
    page = soup(bob.get(around_url(room, msgs[5].id)))
    assert mark() == before
    # Nor does "Load newer" short of the newest...
    htmx = client_for(other_user)
    second = load_newer(htmx, soup, page)
    assert second.select_one("#load-newer") is not None
    assert mark() == before
    # ...until it reaches the newest: then the page is read, as the room page.
    load_newer(htmx, soup, page, second)
    assert mark() == msgs[-1].id


def test_a_permalink_that_reaches_the_newest_marks_read(
    room, make_messages, bob_reading
):
    bob, mark = bob_reading
    msgs = make_messages(room, 30)
    bob.get(around_url(room, msgs[-3].id))
    assert mark() == msgs[-1].id


def test_an_older_page_without_script_leads_on_to_newer_ones(
    auth_client, room, make_messages, soup, settings
):
    """A `?before=` page (Load older without script) has "Load newer" below,
    which is also where a send from it goes."""
    settings.CHAT_PAGE_SIZE = 3
    msgs = make_messages(room, 8)
    page = soup(auth_client.get(f"/rooms/{room.slug}/?before={msgs[3].id}"))
    control = page.select_one("#load-newer")
    assert control.select_one("input[name=after]")["value"] == str(msgs[2].id)
    assert page.select_one("#send-form")["hx-target"] == "#poller, #load-newer"
    assert page.select_one("#poller") is None
