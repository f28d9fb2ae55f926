"""Messages that live, in headless Chromium: edit, delete, react and reply
reach the other user's page through its poll; the same with script off for
the one acting (plain links and forms, 303 back to the message)."""

import re
import sqlite3

import pytest
from django.db import OperationalError
from playwright.sync_api import expect

from chat import services
from chat.models import Message
from tests.browser.conftest import live, message_ids, next_poll, send

pytestmark = pytest.mark.django_db(transaction=True)

THUMBS = "👍"


@pytest.fixture
def members(room, user, other_user):
    """alice (the creator) and bob both belong: bob's reads count."""
    services.room_join(room=room, user=other_user)
    return room


def room_path(room) -> str:
    return f"/rooms/{room.slug}/"


def permalink(room, message_id: int) -> str:
    return f"{room_path(room)}messages/{message_id}/"


def around_url(live_server, room, message_id: int) -> str:
    """Where a permalink leads: the room around the message, scrolled to it."""
    return (
        f"{live_server.url}{room_path(room)}?around={message_id}#message-{message_id}"
    )


def shown_id(tab, text: str, timeout: int = 5_000) -> int:
    """The id of the one message on the page that reads `text`: what the
    page shows, not what the database holds."""
    message = tab.page.locator("#messages article[data-id]").filter(
        has=tab.page.locator(
            ".message-content", has_text=re.compile(f"^{re.escape(text)}$")
        )
    )
    expect(message).to_have_count(1, timeout=timeout)
    return int(message.get_attribute("data-id"))


def old_original(room, author, text: str, make_messages) -> tuple[int, list[int]]:
    """A message with 30 after it: its id, and the id of every message in
    the room, made before any page is open."""
    original = services.message_create(room=room, author=author, content=text)
    make_messages(room, 30, author=author, prefix="filler")
    return original.pk, list(room.messages.order_by("id").values_list("id", flat=True))


def article(tab, message_id: int):
    return tab.page.locator(f"#message-{message_id}")


def no_script_send(tab, text: str) -> None:
    """Send from a page without script: a plain POST and its 303."""
    tab.page.locator("#send-content").fill(text)
    with tab.page.expect_response(lambda r: r.request.method == "POST") as posted:
        tab.page.locator("#send-form button[type=submit]").click()
    assert posted.value.status == 303


def post_and_land(tab, button, live_server, room, message_id: int) -> None:
    """Press a plain form's button: a 303 to the message's permalink, which
    opens the room around it, the message marked."""
    with tab.page.expect_response(lambda r: r.request.method == "POST") as posted:
        button.click()
    assert posted.value.status == 303
    assert posted.value.headers["location"].endswith(
        f"/messages/{message_id}/#message-{message_id}"
    )
    expect(tab.page).to_have_url(around_url(live_server, room, message_id))
    expect(article(tab, message_id)).to_have_attribute("data-highlight", "")


def assert_quiet(*tabs) -> None:
    """No console error or warning (an htmx oobErrorNoTarget among them),
    no uncaught page error."""
    for tab in tabs:
        assert tab.console == []
        assert tab.errors == []


def load_newer_until_live(tab, *, script: bool = True) -> int:
    """Follow "Load newer" until the page reaches the newest message; how
    many times it took. With script the control swaps the next page in;
    without, it is a link to the next page."""
    clicks = 0
    while tab.page.locator("#load-newer").count():
        before = message_ids(tab)
        tab.page.locator("#load-newer a").click()
        if script:
            expect(tab.page.locator("#messages [data-id]")).not_to_have_count(
                len(before)
            )
        else:
            expect(tab.page).to_have_url(re.compile(r"\?newer=\d+#message-\d+$"))
            assert message_ids(tab)[0] > before[0]
        clicks += 1
        assert clicks < 10  # each page moves on: it cannot loop
    return clicks


def assert_whole_tail(tab, room_ids: list[int]) -> None:
    """The page holds every message of the room (`room_ids`, in order) from
    its first to the newest, once each, in order."""
    ids = message_ids(tab)
    assert ids == [i for i in room_ids if i >= ids[0]]


# With script --------------------------------------------------------------


def test_inline_edit_reaches_the_other_page_and_escape_or_cancel_keep_it(
    open_tab, user, other_user, members
):
    alice = open_tab(user, room_path(members))
    bob = open_tab(other_user, room_path(members))
    send(alice, "Lunch at noon?")
    mid = shown_id(alice, "Lunch at noon?")
    mine = article(alice, mid)
    live(article(bob, mid).locator(".message-content")).to_have_text("Lunch at noon?")
    editor = mine.locator("dialog[open] form.message-edit-form")
    field = editor.locator("textarea[name=content]")

    # Escape closes the editor natively (closedby="any"); nothing is saved.
    mine.locator("a.message-edit").click()
    expect(field).to_have_value("Lunch at noon?")
    expect(field).to_be_focused()
    # The editor takes the text's place while open.
    expect(mine.locator(".message-content")).to_be_hidden()
    field.fill("not this")
    field.press("Escape")
    expect(editor).to_have_count(0)
    expect(mine.locator(".message-content")).to_have_text("Lunch at noon?")
    expect(mine.locator(".message-content")).to_be_visible()

    # Cancel likewise; the editor opens again on the stored text.
    mine.locator("a.message-edit").click()
    expect(field).to_have_value("Lunch at noon?")
    field.fill("nor this")
    editor.get_by_role("button", name="Cancel").click()
    expect(editor).to_have_count(0)
    expect(mine.locator(".message-content")).to_have_text("Lunch at noon?")
    expect(mine.locator(".message-content")).to_be_visible()
    # Nothing saved. (The test reads the database only while the pages have
    # nothing to deliver: no request writes meanwhile; see old_original.)
    message = Message.objects.get(pk=mid)
    assert (message.content, message.edited_at) == ("Lunch at noon?", None)

    mine.locator("a.message-edit").click()
    field.fill("Lunch at one?")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_have_count(0)
    # Alice's page from her Save's answer, bob's by his next poll.
    for tab, check in ((alice, expect), (bob, live)):
        check(article(tab, mid).locator(".message-content")).to_have_text(
            "Lunch at one?"
        )
        expect(article(tab, mid).locator(".message-edited")).to_contain_text("edited")
        expect(article(tab, mid).locator(".message-edited time")).to_have_attribute(
            "datetime", re.compile(r"^\d{4}-\d\d-\d\dT")
        )
    assert Message.objects.get(pk=mid).content == "Lunch at one?"
    assert_quiet(alice, bob)


def test_delete_leaves_a_tombstone_on_the_other_page(
    open_tab, user, other_user, members
):
    alice = open_tab(user, room_path(members))
    bob = open_tab(other_user, room_path(members))
    send(alice, "Oops, wrong room")
    mid = shown_id(alice, "Oops, wrong room")
    live(article(bob, mid)).to_have_attribute("data-kind", "message")

    alice.page.once("dialog", lambda dialog: dialog.accept())
    article(alice, mid).locator("a.message-delete").click()
    for tab in (alice, bob):
        live(article(tab, mid)).to_have_attribute("data-kind", "deleted")
        expect(article(tab, mid)).not_to_contain_text("wrong room")
        expect(article(tab, mid).locator(".message-actions")).to_have_count(0)
    assert_quiet(alice, bob)


def test_a_reaction_shows_on_both_pages_and_a_second_press_takes_it_back(
    open_tab, user, other_user, members
):
    alice = open_tab(user, room_path(members))
    bob = open_tab(other_user, room_path(members))
    send(alice, "Release is out")
    mid = shown_id(alice, "Release is out")
    theirs = article(bob, mid)
    live(theirs).to_be_visible()

    picker = theirs.locator("details.reaction-picker")
    picker.locator("summary").click()
    picker.locator(f'a[data-emoji="{THUMBS}"]').click()
    on_bob = theirs.locator(f'.reactions .reaction[data-emoji="{THUMBS}"]')
    on_alice = article(alice, mid).locator(
        f'.reactions .reaction[data-emoji="{THUMBS}"]'
    )
    expect(on_bob).to_have_attribute("data-count", "1")
    expect(on_bob).to_have_attribute("aria-pressed", "true")
    live(on_alice).to_have_attribute("data-count", "1")
    expect(on_alice).to_have_attribute("aria-pressed", "false")

    on_bob.click()
    expect(theirs.locator(".reactions .reaction")).to_have_count(0)
    live(article(alice, mid).locator(".reactions .reaction")).to_have_count(0)
    assert_quiet(alice, bob)


def test_a_reply_quotes_its_message_whose_permalink_leads_back_to_live(
    open_tab, user, other_user, members, make_messages, settings, live_server
):
    # A small page: the 30 messages after the original keep it off the
    # room's newest page. Written before any page polls (see old_original).
    settings.CHAT_PAGE_SIZE = 10
    original, room_ids = old_original(members, user, "Who has the keys?", make_messages)
    alice = open_tab(user, room_path(members))
    # Bob follows a link to the original: the room around it.
    bob = open_tab(other_user, permalink(members, original))
    expect(article(bob, original)).to_have_attribute("data-highlight", "")

    article(bob, original).locator("a.message-reply").click()
    replying = bob.page.locator("#send-form #replying-to")
    expect(replying).to_contain_text("Who has the keys?")
    send(bob, "I do")
    reply = shown_id(bob, "I do")
    room_ids.append(reply)
    expect(replying).to_have_count(0)
    # Sent from a page short of the newest: what followed came with it, and
    # the page is live.
    expect(bob.page.locator("#load-newer")).to_have_count(0)
    expect(bob.page.locator("#poller")).to_have_count(1)
    assert_whole_tail(bob, room_ids)
    for tab in (bob, alice):
        quote = article(tab, reply).locator(f'.reply-quote[data-reply-to="{original}"]')
        live(quote).to_contain_text("Who has the keys?")

    # Alice's page holds the reply, not the original: the quote leads there.
    expect(article(alice, original)).to_have_count(0)
    article(alice, reply).locator(".reply-quote").click()
    expect(alice.page).to_have_url(around_url(live_server, members, original))
    expect(article(alice, original)).to_have_attribute("data-highlight", "")
    expect(article(alice, original)).to_be_in_viewport()
    expect(alice.page.locator("#poller")).to_have_count(0)

    assert load_newer_until_live(alice) >= 2
    expect(alice.page.locator("#poller")).to_have_count(1)
    assert_whole_tail(alice, room_ids)
    # Live again: Bob's next message (a reply from his live page) arrives.
    article(bob, original).locator("a.message-reply").click()
    expect(replying).to_contain_text("Who has the keys?")
    send(bob, "Under the mat")
    newest = shown_id(bob, "Under the mat")
    room_ids.append(newest)
    live(
        article(alice, newest).locator(f'.reply-quote[data-reply-to="{original}"]')
    ).to_be_visible()
    assert_whole_tail(alice, room_ids)
    assert_quiet(alice, bob)


def test_the_author_sees_who_read_her_message(open_tab, user, other_user, members):
    alice = open_tab(user, room_path(members))
    bob = open_tab(other_user, room_path(members))
    send(alice, "Anyone here?")
    mid = shown_id(alice, "Anyone here?")
    live(article(bob, mid)).to_be_visible()
    receipts = alice.page.locator("#receipts")
    live(receipts).to_have_text("Seen by bob")
    expect(receipts).to_have_attribute("data-message", str(mid))
    assert_quiet(alice, bob)


# Without script for the one acting ------------------------------------------


def test_without_script_an_edit_reaches_the_other_page(
    open_tab, user, other_user, members, live_server
):
    alice = open_tab(user, room_path(members), java_script_enabled=False)
    bob = open_tab(other_user, room_path(members))
    no_script_send(alice, "Meet at five")
    mid = shown_id(alice, "Meet at five")
    live(article(bob, mid)).to_be_visible()

    article(alice, mid).locator("a.message-edit").click()
    expect(alice.page).to_have_url(
        f"{live_server.url}{room_path(members)}messages/{mid}/edit/"
    )
    field = alice.page.locator("#edit-content")
    expect(field).to_have_value("Meet at five")
    field.fill("Meet at six")
    button = alice.page.get_by_role("button", name="Save")
    post_and_land(alice, button, live_server, members, mid)
    expect(article(alice, mid).locator(".message-content")).to_have_text("Meet at six")
    expect(article(alice, mid).locator(".message-edited")).to_contain_text("edited")

    theirs = article(bob, mid)
    live(theirs.locator(".message-content")).to_have_text("Meet at six")
    expect(theirs.locator(".message-edited")).to_contain_text("edited")
    assert_quiet(alice, bob)


def test_without_script_a_delete_reaches_the_other_page(
    open_tab, user, other_user, members, live_server
):
    alice = open_tab(user, room_path(members), java_script_enabled=False)
    bob = open_tab(other_user, room_path(members))
    no_script_send(alice, "Never mind")
    mid = shown_id(alice, "Never mind")
    live(article(bob, mid)).to_have_attribute("data-kind", "message")

    article(alice, mid).locator("a.message-delete").click()
    expect(alice.page).to_have_url(
        f"{live_server.url}{room_path(members)}messages/{mid}/delete/"
    )
    button = alice.page.locator("#delete-form").get_by_role("button", name="Delete")
    post_and_land(alice, button, live_server, members, mid)
    # Alice's page without script is the one her POST landed on; bob's
    # learns it by his next poll.
    for tab, check in ((alice, expect), (bob, live)):
        check(article(tab, mid)).to_have_attribute("data-kind", "deleted")
        expect(article(tab, mid)).not_to_contain_text("Never mind")
    assert_quiet(alice, bob)


def test_without_script_a_reaction_and_its_withdrawal_reach_the_other_page(
    open_tab, user, other_user, members, live_server
):
    alice = open_tab(user, room_path(members))
    send(alice, "Cake in the kitchen")
    mid = shown_id(alice, "Cake in the kitchen")
    bob = open_tab(other_user, room_path(members), java_script_enabled=False)
    on_bob = article(bob, mid).locator(f'.reactions .reaction[data-emoji="{THUMBS}"]')
    on_alice = article(alice, mid).locator(
        f'.reactions .reaction[data-emoji="{THUMBS}"]'
    )

    # <details> opens without script; its emoji link leads to the forms.
    picker = article(bob, mid).locator("details.reaction-picker")
    picker.locator("summary").click()
    picker.locator(f'a[data-emoji="{THUMBS}"]').click()
    expect(bob.page).to_have_url(
        f"{live_server.url}{room_path(members)}messages/{mid}/reactions/"
    )
    button = bob.page.locator(f'#reaction-forms button[data-emoji="{THUMBS}"]')
    post_and_land(bob, button, live_server, members, mid)
    expect(on_bob).to_have_attribute("data-count", "1")
    expect(on_bob).to_have_attribute("aria-pressed", "true")
    live(on_alice).to_have_attribute("data-count", "1")
    expect(on_alice).to_have_attribute("aria-pressed", "false")

    # The reaction itself links to the same forms: pressing again takes it back.
    on_bob.click()
    button = bob.page.locator(f'#reaction-forms button[data-emoji="{THUMBS}"]')
    post_and_land(bob, button, live_server, members, mid)
    expect(article(bob, mid).locator(".reactions .reaction")).to_have_count(0)
    live(article(alice, mid).locator(".reactions .reaction")).to_have_count(0)
    assert_quiet(alice, bob)


def test_without_script_a_reply_and_its_quote_lead_through_history_to_the_newest(
    open_tab, user, other_user, members, make_messages, settings, live_server
):
    settings.CHAT_PAGE_SIZE = 10
    original, room_ids = old_original(
        members, user, "Who brings the projector?", make_messages
    )
    alice = open_tab(user, room_path(members))
    bob = open_tab(other_user, permalink(members, original), java_script_enabled=False)

    # Reply opens the room's newest page with the send form answering it.
    article(bob, original).locator("a.message-reply").click()
    expect(bob.page).to_have_url(
        f"{live_server.url}{room_path(members)}?reply_to={original}#send-form"
    )
    expect(bob.page.locator("#send-form #replying-to")).to_contain_text(
        "Who brings the projector?"
    )
    no_script_send(bob, "I will")
    expect(bob.page).to_have_url(f"{live_server.url}{room_path(members)}")
    expect(bob.page.locator("#replying-to")).to_have_count(0)
    reply = shown_id(bob, "I will")
    room_ids.append(reply)
    # Bob's page without script is the one his send landed on.
    for tab, check in ((bob, expect), (alice, live)):
        quote = article(tab, reply).locator(f'.reply-quote[data-reply-to="{original}"]')
        check(quote).to_contain_text("Who brings the projector?")
    expect(article(bob, original)).to_have_count(0)

    article(bob, reply).locator(".reply-quote").click()
    expect(bob.page).to_have_url(around_url(live_server, members, original))
    expect(article(bob, original)).to_have_attribute("data-highlight", "")
    expect(article(bob, original)).to_be_in_viewport()

    assert load_newer_until_live(bob, script=False) >= 2
    expect(bob.page.locator("#poller")).to_have_count(1)
    expect(article(bob, reply)).to_be_visible()
    assert_whole_tail(bob, room_ids)
    # The newest page: what the other user sends since is on it at the next
    # load, and a send from it reaches the other user live.
    send(alice, "Thanks!")
    thanks = shown_id(alice, "Thanks!")
    bob.page.reload()
    expect(article(bob, thanks)).to_be_visible()
    no_script_send(bob, "You're welcome")
    next_poll(alice.page)
    shown_id(alice, "You're welcome")
    assert_quiet(alice, bob)


def test_a_poll_answered_busy_leaves_the_poller_which_recovers_by_itself(
    open_tab, user, other_user, members, monkeypatch
):
    """A database lock that outlasts the retries gives the poll a 503
    (chat.transient): htmx swaps nothing, the poller keeps its cursor and
    its timer, and the first poll after the lock delivers what was missed."""
    from chat import selectors, transient
    from chat.live import query

    alice = open_tab(user, room_path(members))
    busy = {"on": True}

    def locked(read):
        def maybe(*args, **kwargs):
            if busy["on"]:
                cause = sqlite3.OperationalError("database is locked")
                cause.sqlite_errorcode = 5  # SQLITE_BUSY, as SQLite sets it
                raise OperationalError(str(cause)) from cause
            return read(*args, **kwargs)

        return maybe

    monkeypatch.setattr(transient, "PAUSE", 0)
    monkeypatch.setattr(query, "poll_check", locked(query.poll_check))
    monkeypatch.setattr(selectors, "room_get", locked(selectors.room_get))
    answers: list[int] = []
    alice.page.on(
        "response",
        lambda r: answers.append(r.status) if "/messages/?" in r.url else None,
    )
    deadline = 20
    while answers.count(503) < 2 and deadline:
        alice.page.wait_for_timeout(500)
        deadline -= 1
    assert answers.count(503) >= 2
    poller = alice.page.locator("#poller")
    expect(poller).to_have_count(1)
    assert "busy" not in alice.page.locator("#messages").inner_text()

    busy["on"] = False
    message = services.message_create(room=members, author=other_user, content="Back")
    live(article(alice, message.pk)).to_be_visible()
    # The console heard of the 503s and of nothing else.
    assert alice.console and all("503" in line for line in alice.console)
    assert alice.errors == []
