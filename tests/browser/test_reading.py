"""A conversation that reads well, in headless Chromium: a live page draws
the messages it is sent grouped with those it holds, under one header and
avatar; a day separator; the "New messages" divider where one left off."""

import os
import re

import pytest
from playwright.sync_api import expect

from chat import services
from tests.browser.conftest import send

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def room_with_bob(room, other_user):
    services.room_join(room=room, user=other_user)
    return room


def test_a_live_page_groups_what_its_polls_bring(
    open_tab, user, other_user, room_with_bob, tmp_path
):
    room = room_with_bob
    alice = open_tab(user, room.get_absolute_url(), viewport=DESKTOP)
    bob = open_tab(other_user, room.get_absolute_url(), viewport=DESKTOP)
    send(bob, "first from bob")
    send(bob, "second from bob")
    log = alice.page.locator("#messages")
    expect(log).to_contain_text("second from bob")
    first = log.locator("article", has_text="first from bob")
    second = log.locator("article", has_text="second from bob")
    # One visible header and avatar for both: the second came in a later
    # poll, and continues the group the first began.
    expect(first.locator("header")).to_be_visible()
    expect(first.locator(".avatar")).to_be_visible()
    expect(second).to_have_class(re.compile(r"\bmessage-grouped\b"))
    assert second.locator("header").bounding_box()["height"] <= 1  # sr-only
    expect(second.locator(".avatar")).to_have_count(0)
    expect(log.locator(".day-separator").first).to_have_text("Today")
    send(alice, "alice answers")
    expect(bob.page.locator("#messages")).to_contain_text("alice answers")
    answer = bob.page.locator("article", has_text="alice answers")
    expect(answer.locator("header")).to_be_visible()
    if os.environ.get("KEEP_SHOTS"):
        alice.page.screenshot(path=os.environ["KEEP_SHOTS"] + "/grouped.png")
    assert alice.errors == [] and bob.errors == []


def test_the_divider_marks_where_one_left_off(
    open_tab, live_server, user, other_user, room_with_bob
):
    room = room_with_bob
    services.message_create(room=room, author=other_user, content="read before")
    alice = open_tab(user, room.get_absolute_url(), viewport=DESKTOP)
    expect(alice.page.locator("#messages")).to_contain_text("read before")
    alice.page.goto("about:blank")
    services.message_create(room=room, author=other_user, content="while away")
    alice.page.goto(live_server.url + room.get_absolute_url())
    divider = alice.page.locator("#unread-divider")
    expect(divider).to_be_visible()
    expect(divider).to_have_text("New messages")
    following = alice.page.locator("#unread-divider + article")
    expect(following).to_contain_text("while away")
    assert alice.errors == []


def test_a_control_on_the_pages_first_message_keeps_its_header(
    open_tab, settings, user, other_user, room_with_bob
):
    # The page of two begins inside bob's group of four: its first message
    # is drawn with a header; reacting to it (swapped in place) keeps it.
    settings.CHAT_PAGE_SIZE = 2
    room = room_with_bob
    said = [
        services.message_create(room=room, author=other_user, content=f"bob {i}")
        for i in range(4)
    ]
    alice = open_tab(user, room.get_absolute_url(), viewport=DESKTOP)
    first = alice.page.locator(f"#message-{said[2].pk}")
    expect(first.locator("header")).to_be_visible()
    with alice.page.expect_response(lambda r: "/reactions/" in r.url) as sent:
        first.locator("details.reaction-picker summary").click()
        first.locator('details.reaction-picker a[data-emoji="👍"]').click()
    assert f"start={said[2].pk}" in sent.value.request.post_data
    expect(first.locator(".reactions .reaction")).to_have_count(1)
    expect(first.locator("header")).to_be_visible()
    expect(first.locator(".avatar")).to_be_visible()
    assert alice.errors == []
