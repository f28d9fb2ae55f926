"""Two people chatting in headless Chromium: the htmx wiring, end to end."""

import re
from importlib import import_module

import pytest
from django.conf import settings
from playwright.sync_api import expect

from chat.models import Message
from tests.browser.conftest import live, message_ids, send

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = "/static/django_htmx/htmx-2.min.js"


def room_path(room) -> str:
    return f"/rooms/{room.slug}/"


def bubble(tab, text):
    return tab.page.locator(
        "#messages .message-content", has_text=re.compile(f"^{re.escape(text)}$")
    )


def test_two_users_chat_live(open_tab, user, other_user, room):
    alice = open_tab(user, room_path(room))
    bob = open_tab(other_user, room_path(room))

    send(alice, "Hello Bob")
    expect(bubble(alice, "Hello Bob")).to_be_visible()
    live(bubble(bob, "Hello Bob")).to_be_visible()
    expect(alice.page.locator("#send-content")).to_have_value("")

    send(bob, "Hi Alice")
    expect(bubble(bob, "Hi Alice")).to_be_visible()
    live(bubble(alice, "Hi Alice")).to_be_visible()
    expect(bob.page.locator("#send-content")).to_have_value("")
    assert alice.errors == [] and bob.errors == []


def test_racing_sends_and_polls_lose_and_repeat_nothing(
    open_tab, user, other_user, room, settings
):
    # Without server latency the poll timer restarts on every swap and sends
    # and polls never overlap; 0-300 ms per request makes them race.
    settings.CHAT_TEST_LATENCY_MS = 300
    alice = open_tab(user, room_path(room))
    bob = open_tab(other_user, room_path(room))
    texts = [f"race {i:02d}" for i in range(30)]
    for text in texts:
        field = alice.page.locator("#send-content")
        field.fill(text)
        field.press("Enter")
        expect(bubble(alice, text)).to_have_count(1, timeout=5_000)
        expect(field).to_have_value("")
        expect(field).to_be_enabled()

    stored = list(
        Message.objects.filter(room=room, content__startswith="race ").values_list(
            "content", flat=True
        )
    )
    assert sorted(stored) == texts  # each exactly once
    db_ids = list(Message.objects.filter(room=room).values_list("id", flat=True))
    for tab in (alice, bob):
        expect(tab.page.locator("#messages [data-id]")).to_have_count(
            len(db_ids), timeout=6_000
        )
        assert message_ids(tab) == db_ids  # no duplicate, no gap, in id order
        assert tab.page.locator("#poller").count() == 1


def test_blank_send_shows_the_error_and_the_next_send_clears_it(open_tab, user, room):
    alice = open_tab(user, room_path(room))
    field = alice.page.locator("#send-content")
    field.fill("   ")
    field.press("Enter")
    expect(alice.page.locator("#send-error")).to_be_visible()
    expect(alice.page.locator("#send-error")).to_contain_text("Type a message")
    assert Message.objects.count() == 0
    send(alice, "now with words")
    expect(bubble(alice, "now with words")).to_be_visible()
    expect(alice.page.locator("#send-error")).to_have_count(0)
    assert Message.objects.count() == 1


def test_history_loads_older_pages_in_order(open_tab, user, room, make_messages):
    msgs = make_messages(room, 60)
    alice = open_tab(user, room_path(room))
    page = alice.page
    assert message_ids(alice) == [m.id for m in msgs[-25:]]
    expect(page.locator(f"#message-{msgs[-1].id}")).to_be_in_viewport()
    clicks = 0
    while page.locator("#load-older").count():
        before = len(message_ids(alice))
        page.locator("#load-older a").click()
        expect(page.locator("#messages [data-id]")).not_to_have_count(before)
        clicks += 1
    assert clicks == 2
    assert message_ids(alice) == [m.id for m in msgs]


def test_deleted_session_sends_the_page_to_login_within_one_poll(
    open_tab, user, room, live_server
):
    alice = open_tab(user, room_path(room))
    fragments_with_login = []
    alice.page.on(
        "response",
        lambda r: (
            fragments_with_login.append(r.url)
            if r.request.resource_type in ("xhr", "fetch")
            and "/accounts/login/" in r.url
            else None
        ),
    )
    cookie = next(
        c
        for c in alice.page.context.cookies()
        if c["name"] == settings.SESSION_COOKIE_NAME
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    store(session_key=cookie["value"]).delete()
    expect(alice.page).to_have_url(
        re.compile(r"/accounts/login/\?next=%2Frooms%2Fgeneral%2F"), timeout=3_500
    )
    expect(alice.page.locator("#login-form")).to_be_visible()
    assert alice.page.locator("#messages").count() == 0
    assert fragments_with_login == []


def test_pages_have_no_custom_script_and_chat_runs_under_the_strict_policy(
    open_tab, user, other_user, room
):
    anonymous = open_tab(None, "/")
    for path in ("/", "/accounts/login/", "/accounts/signup/"):
        response = anonymous.page.goto(
            anonymous.page.url.split("/", 3)[0]
            + "//"
            + anonymous.page.url.split("/")[2]
            + path
        )
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert_only_htmx(anonymous.page)
    alice = open_tab(user, "/rooms/")
    assert_only_htmx(alice.page)
    alice.page.goto(alice.page.url.replace("/rooms/", room_path(room)))
    assert_only_htmx(alice.page)
    bob = open_tab(other_user, room_path(room))
    # Scenario 1 under the policy: no console error, no CSP violation.
    send(alice, "Policy check")
    live(bubble(bob, "Policy check")).to_be_visible()
    send(bob, "Still fine")
    live(bubble(alice, "Still fine")).to_be_visible()
    for tab in (anonymous, alice, bob):
        assert [c for c in tab.console if c.startswith("error")] == []
        assert not any("Content Security Policy" in c for c in tab.console)
        assert tab.errors == []


def assert_only_htmx(page) -> None:
    scripts = page.eval_on_selector_all(
        "script", "els => els.map(e => [e.getAttribute('src'), e.textContent.trim()])"
    )
    assert scripts == [[HTMX, ""]], (page.url, scripts)


def test_without_javascript_history_shows_and_a_plain_post_sends(
    open_tab, user, room, make_messages, live_server
):
    make_messages(room, 3)
    alice = open_tab(user, room_path(room), java_script_enabled=False)
    assert len(message_ids(alice)) == 3
    alice.page.locator("#send-content").fill("sent without JavaScript")
    alice.page.locator("#send-form button").click()
    expect(alice.page).to_have_url(live_server.url + room_path(room))
    expect(bubble(alice, "sent without JavaScript")).to_be_visible()
    assert Message.objects.filter(content="sent without JavaScript").count() == 1


def test_presence_and_typing_reach_the_other_user(open_tab, user, other_user, room):
    alice = open_tab(user, room_path(room))
    bob = open_tab(other_user, room_path(room))
    present = alice.page.locator("#presence .present-user")
    expect(present).to_have_text(["alice", "bob"], timeout=4_000)
    bob.page.locator("#send-content").press_sequentially("hel", delay=60)
    expect(alice.page.locator("#typing")).to_have_text("bob is typing…", timeout=4_000)
    expect(bob.page.locator("#typing")).to_have_text("")
    bob.page.locator("#send-content").press("Enter")
    live(bubble(alice, "hel")).to_be_visible()
    expect(alice.page.locator("#typing")).to_have_text("", timeout=4_000)
