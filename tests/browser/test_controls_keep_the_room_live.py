"""No control may ever break the poller (issue 26): in a room longer than
one page, after alice uses any control on a message or any history control,
what bob sends still reaches her page and what she sends reaches his, and
the console stays quiet; and a poll answered 400 leaves the poller, which
recovers by itself."""

import re

import pytest
from playwright.sync_api import expect

from chat import selectors, services
from tests.browser.conftest import live, message_ids, next_poll, send
from tests.browser.test_live_messages import (
    article,
    assert_quiet,
    load_newer_until_live,
    permalink,
    room_path,
    shown_id,
)

pytestmark = pytest.mark.django_db(transaction=True)

THUMBS = "👍"


def is_poll(response) -> bool:
    return "/messages/?after=" in response.url


class Room:
    """General, over 60 messages long: a page of 25 (CHAT_PAGE_SIZE) holds
    its newest, "Load older" above. `quoted`, an old message of alice's (off
    the newest page), answered by bob's `reply`, the newest; `own`, alice's
    newest, just before it."""

    def __init__(self, room, alice, bob, make_messages):
        services.room_join(room=room, user=bob)
        self.quoted = services.message_create(
            room=room, author=alice, content="Who has the keys?"
        )
        make_messages(room, 30, author=alice, prefix="alice says")
        make_messages(room, 30, author=bob, prefix="bob says")
        self.own = services.message_create(room=room, author=alice, content="Mine")
        self.reply = services.message_create(
            room=room, author=bob, content="I do", reply_to=self.quoted
        )
        self.room = room


@pytest.fixture
def long_room(room, user, other_user, make_messages) -> Room:
    return Room(room, user, other_user, make_messages)


def open_editor(alice, message_id: int):
    """Open the inline editor and let a poll go by while it is open."""
    mine = article(alice, message_id)
    mine.locator("a.message-edit").click()
    expect(mine.locator("dialog[open] textarea[name=content]")).to_be_focused()
    next_poll(alice.page)
    return mine.locator("dialog[open] form.message-edit-form")


def use_edit(alice, room: Room) -> None:
    open_editor(alice, room.own.pk)  # and leave it open


def use_cancel(alice, room: Room) -> None:
    editor = open_editor(alice, room.own.pk)
    editor.get_by_role("button", name="Cancel").click()
    expect(editor).to_have_count(0)


def use_save(alice, room: Room) -> None:
    editor = open_editor(alice, room.own.pk)
    editor.locator("textarea[name=content]").fill("Mine, edited")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_have_count(0)
    expect(article(alice, room.own.pk).locator(".message-content")).to_have_text(
        "Mine, edited"
    )


def use_reply(alice, room: Room) -> None:
    article(alice, room.reply.pk).locator("a.message-reply").click()
    expect(alice.page.locator("#send-form #replying-to")).to_contain_text("I do")


def use_react(alice, room: Room) -> None:
    theirs = article(alice, room.reply.pk)
    theirs.locator("details.reaction-picker summary").click()
    theirs.locator(f'.reaction-picker a[data-emoji="{THUMBS}"]').click()
    expect(
        theirs.locator(f'.reactions .reaction[data-emoji="{THUMBS}"]')
    ).to_have_attribute("aria-pressed", "true")


def use_delete(alice, room: Room) -> None:
    alice.page.once("dialog", lambda dialog: dialog.accept())
    article(alice, room.own.pk).locator("a.message-delete").click()
    expect(article(alice, room.own.pk)).to_have_attribute("data-kind", "deleted")


def use_load_older(alice, room: Room) -> None:
    shown = alice.page.locator("#messages [data-id]").count()
    alice.page.locator("#load-older a").click()
    expect(alice.page.locator("#messages [data-id]")).to_have_count(shown + 25)


def use_load_newer(alice, room: Room) -> None:
    # Her page is the permalink's (see START), deep in history.
    expect(alice.page.locator("#load-newer")).to_have_count(1)
    assert load_newer_until_live(alice) >= 1


def use_permalink(alice, room: Room) -> None:
    # The reply's quote leads to the quoted message, in the room around it:
    # a page short of the newest, "Load newer" in the poller's place.
    article(alice, room.reply.pk).locator(".reply-quote").click()
    expect(alice.page).to_have_url(re.compile(rf"\?around={room.quoted.pk}#"))
    expect(article(alice, room.quoted.pk)).to_have_attribute("data-highlight", "")
    expect(alice.page.locator("#load-newer")).to_have_count(1)


CONTROLS = {
    "edit": use_edit,
    "cancel": use_cancel,
    "save": use_save,
    "reply": use_reply,
    "react": use_react,
    "delete": use_delete,
    "load older": use_load_older,
    "load newer": use_load_newer,
    "permalink": use_permalink,
}
# Where alice's page opens: the room, or (to load newer) the quoted
# message's permalink.
START = {"load newer": "permalink"}


@pytest.mark.parametrize("control", CONTROLS)
def test_after_any_control_messages_still_arrive_both_ways(
    open_tab, user, other_user, long_room, control
):
    room = long_room.room
    if START.get(control) == "permalink":
        alice = open_tab(user, permalink(room, long_room.quoted.pk))
    else:
        alice = open_tab(user, room_path(room))
        expect(alice.page.locator("#load-older")).to_have_count(1)
        expect(alice.page.locator("#poller")).to_have_count(1)
    bob = open_tab(other_user, room_path(room))
    CONTROLS[control](alice, long_room)

    if alice.page.locator("#load-newer").count():
        # Short of the newest (a permalink's page): her send brings what
        # followed and turns the page live; then bob's message comes by poll.
        send(alice, f"alice after {control}")
        shown_id(alice, f"alice after {control}")
        expect(alice.page.locator("#poller")).to_have_count(1)
        next_poll(bob.page)
        shown_id(bob, f"alice after {control}")
        said = services.message_create(
            room=room, author=other_user, content=f"bob after {control}"
        )
        live(article(alice, said.pk)).to_be_visible()
    else:
        # Bob's message first: it can only come by her poll.
        said = services.message_create(
            room=room, author=other_user, content=f"bob after {control}"
        )
        live(article(alice, said.pk)).to_be_visible()
        send(alice, f"alice after {control}")
        shown_id(alice, f"alice after {control}")
        next_poll(bob.page)
        shown_id(bob, f"alice after {control}")
    expect(alice.page.locator("#poller")).to_have_count(1)
    assert "once" not in alice.page.locator("#messages").inner_text()
    assert_quiet(alice, bob)


def test_a_poll_answered_400_leaves_the_poller_which_recovers_by_itself(
    open_tab, user, other_user, long_room, monkeypatch
):
    """Whatever a 400 to a poll says (here every cursor is refused for a
    while), htmx swaps nothing: the poller keeps its cursor and its timer,
    and the first poll answered again delivers what was missed."""
    room = long_room.room
    alice = open_tab(user, room_path(room))
    refusing = {"on": True}
    cursor_refusal = selectors.cursor_refusal

    def refused(**kwargs):
        if refusing["on"]:
            return "Refused for this test: load the room again."
        return cursor_refusal(**kwargs)

    monkeypatch.setattr(selectors, "cursor_refusal", refused)
    answers: list[int] = []
    alice.page.on("response", lambda r: answers.append(r.status) if is_poll(r) else 0)
    # Something new, so that the hot path hands every poll on to the view.
    services.message_create(room=room, author=other_user, content="Missed")
    deadline = 20
    while answers.count(400) < 2 and deadline:
        alice.page.wait_for_timeout(500)
        deadline -= 1
    assert answers.count(400) >= 2
    expect(alice.page.locator("#poller")).to_have_count(1)
    assert "Refused" not in alice.page.locator("#messages").inner_text()

    refusing["on"] = False
    next_poll(alice.page)
    missed = shown_id(alice, "Missed")
    said = services.message_create(room=room, author=other_user, content="Back")
    live(article(alice, said.pk)).to_be_visible()
    assert message_ids(alice)[-2:] == [missed, said.pk]
    # The console heard of the 400s (Chromium's own line) and nothing else.
    assert alice.console and all("400" in line for line in alice.console)
    assert alice.errors == []
