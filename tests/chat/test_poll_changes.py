"""Messages that change after they are stored reach every open page through
the same poll: each held message changed since the page's change number
comes back once, out of band, as it is now (chat.selectors.page_changes)."""

import pytest
from bs4 import BeautifulSoup

from chat import selectors, services
from chat.models import Message, Room

pytestmark = pytest.mark.django_db


def inline(page: BeautifulSoup) -> list[int]:
    """Messages appended to the log, in order."""
    return [
        int(el["data-id"])
        for el in page.select("article[data-id]")
        if not el.has_attr("hx-swap-oob")
    ]


def swapped(page: BeautifulSoup) -> dict[int, BeautifulSoup]:
    """Messages swapped in place, by id."""
    found = {}
    for el in page.select("article[data-id][hx-swap-oob]"):
        assert el["hx-swap-oob"] == "true" and el["id"] == f"message-{el['data-id']}"
        assert int(el["data-id"]) not in found, "a message swapped twice"
        found[int(el["data-id"])] = el
    return found


def poller(page: BeautifulSoup) -> str:
    return page.select_one("#poller")["hx-get"]


def room_seq(room: Room) -> int:
    room.refresh_from_db()
    return room.seq


@pytest.fixture
def bob_in(room, other_user):
    services.room_join(room=room, user=other_user)
    return other_user


@pytest.mark.parametrize("granted", [True, False], ids=["on-grant", "full-path"])
def test_an_edit_comes_out_of_band_alone(
    granted, htmx_client, poller_url, room, bob_in, make_messages, soup
):
    said = make_messages(room, 3, author=bob_in)
    url = poller_url(htmx_client, room)
    if not granted:
        url = url.replace("&t=", "&x=")  # no grant: the full path answers
    services.message_edit(message=said[1], editor=bob_in, content="fixed typo")
    response = htmx_client.get(url)
    assert response.status_code == 200
    page = soup(response)
    assert inline(page) == []
    changed = swapped(page)
    assert list(changed) == [said[1].id]
    assert changed[said[1].id].select_one(".message-content").get_text() == (
        "fixed typo"
    )
    assert changed[said[1].id].select_one(".message-edited time")["datetime"]
    assert f"seq={room_seq(room)}&" in poller(page)
    assert htmx_client.get(poller(page)).status_code == 204


def test_a_cursor_from_before_a_run_of_changes_catches_up_on_each_once(
    htmx_client, poller_url, room, user, bob_in, make_messages, soup
):
    """An hour asleep: every edit, delete and reaction since, each message
    once as it is now, and the new messages in order; then nothing."""
    held = make_messages(room, 4, author=bob_in)
    url = poller_url(htmx_client, room)
    services.message_edit(message=held[0], editor=bob_in, content="one")
    services.message_edit(message=held[0], editor=bob_in, content="two")
    services.reaction_toggle(message=held[1], user=bob_in, emoji="👍")
    services.reaction_toggle(message=held[1], user=user, emoji="👍")
    services.reaction_toggle(message=held[1], user=user, emoji="🎉")
    services.reaction_toggle(message=held[1], user=user, emoji="🎉")  # taken back
    services.message_delete(message=held[2], deleter=bob_in)
    new = make_messages(room, 2, author=bob_in, prefix="later")
    services.reaction_toggle(message=new[0], user=bob_in, emoji="😂")
    services.message_edit(message=new[1], editor=bob_in, content="later, edited")

    page = soup(htmx_client.get(url))
    assert inline(page) == [m.id for m in new]
    changed = swapped(page)
    # held[3] continued the deleted held[2]'s group: it draws its own header.
    assert sorted(changed) == [held[0].id, held[1].id, held[2].id, held[3].id]
    assert changed[held[0].id].select_one(".message-content").get_text() == "two"
    reactions = {
        r["data-emoji"]: int(r["data-count"])
        for r in changed[held[1].id].select(".reaction")
    }
    assert reactions == {"👍": 2}
    assert changed[held[2].id]["data-kind"] == "deleted"
    assert "message 3" not in changed[held[2].id].get_text()
    # The new ones come as they are now, edits and reactions included.
    last = page.select_one(f"#message-{new[1].id} .message-content")
    assert last.get_text() == "later, edited"
    assert page.select_one(f"#message-{new[0].id} .reaction")["data-emoji"] == "😂"
    assert htmx_client.get(poller(page)).status_code == 204


def test_changes_to_messages_the_page_does_not_hold_are_not_sent(
    htmx_client, poller_url, room, bob_in, make_messages, soup, settings
):
    settings.CHAT_PAGE_SIZE = 3
    said = make_messages(room, 6, author=bob_in)
    page = soup(htmx_client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
    start = page.select_one("#load-older input[name=start]")["value"]
    assert int(start) == said[3].id  # the oldest message the page shows
    url = page.select_one("#poller")["hx-get"] + f"&start={start}"
    services.message_edit(message=said[0], editor=bob_in, content="old news")
    services.message_edit(message=said[4], editor=bob_in, content="shown")
    changed = swapped(soup(htmx_client.get(url)))
    assert list(changed) == [said[4].id]
    # Without `start` the page holds the room from its first message.
    fresh = selectors.page_changes(
        room=room, after=said[-1].id, since=0, start=0, newest=room_seq(room)
    )
    assert said[0] in fresh.changed


def test_a_full_batch_keeps_its_number_below_the_first_waiting_message(
    htmx_client, poller_url, room, bob_in, make_messages, soup, settings
):
    """Backlog beyond CHAT_POLL_LIMIT, with edits among the waiting ones:
    nothing is lost, nothing comes twice, in order."""
    settings.CHAT_POLL_LIMIT = 3
    url = poller_url(htmx_client, room)
    sent = make_messages(room, 7, author=bob_in)
    for message in (sent[4], sent[1], sent[5]):
        services.message_edit(message=message, editor=bob_in, content="edited")
    seen: list[int] = []
    for _poll in range(5):
        response = htmx_client.get(url)
        if response.status_code == 204:
            break
        page = soup(response)
        assert set(swapped(page)).isdisjoint(inline(page))
        seen += inline(page)
        assert not set(swapped(page)) - set(seen), "a change to a message not held"
        url = poller(page)
    assert seen == [m.id for m in sent]
    for message_id in (sent[4].id, sent[1].id, sent[5].id):
        assert Message.objects.get(pk=message_id).content == "edited"


def test_what_races_the_read_waits_for_the_next_poll(room, bob_in, make_messages):
    """A message numbered after the change number the poll read (stored
    between the two reads) is not taken now: the batch stops before it, and
    the next poll, whose gate it opens, brings it once."""
    said = make_messages(room, 3, author=bob_in)
    newest = said[0].seq  # as if read before the second message was stored
    changes = selectors.page_changes(
        room=room, after=said[0].id - 1, since=newest - 1, start=0, newest=newest
    )
    assert changes.new == [said[0]] and changes.seq == newest
    later = selectors.page_changes(
        room=room,
        after=changes.after,
        since=changes.seq,
        start=0,
        newest=room_seq(room),
    )
    assert later.new == said[1:] and later.changed == []


def test_a_poll_of_new_messages_only_asks_for_nothing_else(
    room, bob_in, make_messages, django_assert_num_queries
):
    """Every change number since the page's is a new message's: no held
    message can have changed, and no query looks."""
    said = make_messages(room, 2, author=bob_in)
    since, newest = said[0].seq - 1, room_seq(room)
    with django_assert_num_queries(1):
        changes = selectors.page_changes(
            room=room, after=said[0].id - 1, since=since, start=0, newest=newest
        )
    assert changes.new == said and changes.changed == []
    services.message_edit(message=said[0], editor=bob_in, content="again")
    newest = room_seq(room)
    with django_assert_num_queries(2):
        changes = selectors.page_changes(
            room=room, after=said[0].id, since=since, start=0, newest=newest
        )
    assert changes.new == said[1:] and changes.changed == [said[0]]


def test_every_change_takes_the_rooms_next_number(room, user, bob_in):
    first = services.message_create(room=room, author=user, content="hi")
    assert first.seq == room_seq(room)
    numbers = [first.seq]
    services.message_edit(message=first, editor=user, content="hello")
    numbers.append(Message.objects.get(pk=first.pk).seq)
    services.reaction_toggle(message=first, user=bob_in, emoji="❤️")
    numbers.append(Message.objects.get(pk=first.pk).seq)
    services.message_delete(message=first, deleter=user)
    numbers.append(Message.objects.get(pk=first.pk).seq)
    assert numbers == list(range(numbers[0], numbers[0] + 4))
    assert room_seq(room) == numbers[-1]
    # An unchanged text is no change.
    other = services.message_create(room=room, author=user, content="same")
    services.message_edit(message=other, editor=user, content="same")
    assert Message.objects.get(pk=other.pk).seq == other.seq == room_seq(room)


def test_a_page_from_before_change_numbers_gets_new_messages_and_a_number(
    htmx_client, room, bob_in, make_messages, soup
):
    said = make_messages(room, 2, author=bob_in)
    # An old poller's URL: no `seq` (and an empty grant, so an answer comes).
    response = htmx_client.get(f"/rooms/{room.slug}/messages/?after={said[0].id}&t=")
    page = soup(response)
    assert inline(page) == [said[1].id] and swapped(page) == {}
    assert f"seq={room_seq(room)}&" in poller(page)


def test_viewers_who_see_a_change_alike_share_one_drawing(
    htmx_client, client_for, poller_url, room, bob_in, make_user, monkeypatch, soup
):
    """A reaction in a busy room is drawn once per look, not once per viewer:
    carol and dave see bob's message alike; alice (the room's creator, who
    may delete it) and bob (whose it is) each see it their own way."""
    from chat.views import messages

    drawings = []
    draw = messages.render_to_string

    def counted(name, *args, **kwargs):
        drawings.append(name)
        return draw(name, *args, **kwargs)

    monkeypatch.setattr(messages, "render_to_string", counted)
    clients = {
        "alice": htmx_client,
        "bob": client_for(bob_in),
        "carol": client_for(make_user("carol")),
        "dave": client_for(make_user("dave")),
    }
    said = services.message_create(room=room, author=bob_in, content="vote!")
    urls = {name: poller_url(client, room) for name, client in clients.items()}
    services.reaction_toggle(message=said, user=bob_in, emoji="🎉")
    pages = {}
    for name in ["carol", "dave", "alice", "bob"]:
        pages[name] = swapped(soup(clients[name].get(urls[name])))[said.id]
        if name == "dave":
            assert len(drawings) == 1  # dave's came from carol's drawing
    assert drawings == ["chat/partials/changes.html"] * 3
    assert str(pages["carol"]) == str(pages["dave"])
    assert pages["carol"].select_one(".message-delete") is None
    assert pages["alice"].select_one(".message-delete") is not None
    assert "message-own" in pages["bob"]["class"]
    assert pages["bob"].select_one(".reaction")["aria-pressed"] == "true"
    assert pages["carol"].select_one(".reaction")["aria-pressed"] == "false"
