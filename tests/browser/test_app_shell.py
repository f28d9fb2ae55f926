"""The app shell in headless Chromium: the sidebar beside the room on a
wide screen switches rooms without a reload (URL, title and history right,
the new room live); on a phone the room takes the screen and the sidebar is
the room list's page."""

import pytest
from playwright.sync_api import expect

from chat import services
from tests.browser.conftest import next_poll, send

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def two_rooms(user, other_user, make_room):
    general, random = make_room("General"), make_room("Random")
    for room in (general, random):
        services.room_join(room=room, user=other_user)
    return general, random


def test_switching_rooms_from_the_sidebar_keeps_the_page(
    open_tab, live_server, user, other_user, two_rooms
):
    general, random = two_rooms
    tab = open_tab(user, f"/rooms/{general.slug}/", viewport=DESKTOP)
    page = tab.page
    sidebar = page.locator("#sidebar")
    expect(sidebar).to_be_visible()
    expect(sidebar.locator("a[aria-current=page]")).to_have_attribute(
        "href", f"/rooms/{general.slug}/"
    )
    # A mark on the window: a full reload would drop it.
    page.evaluate("window.stillHere = true")
    sidebar.get_by_role("link", name="Random").click()
    expect(page).to_have_url(f"{live_server.url}/rooms/{random.slug}/")
    expect(page.locator("h1")).to_have_text("Random")
    expect(page).to_have_title("Random · Chat")
    expect(sidebar.locator("a[aria-current=page]")).to_have_attribute(
        "href", f"/rooms/{random.slug}/"
    )
    assert page.evaluate("window.stillHere") is True
    # The new room is live: bob's message arrives by its poll; sending works.
    other = open_tab(other_user, f"/rooms/{random.slug}/", viewport=DESKTOP)
    send(other, "hello from bob")
    expect(page.locator("#messages")).to_contain_text("hello from bob")
    send(tab, "hi bob")
    expect(other.page.locator("#messages")).to_contain_text("hi bob")
    # Back returns to the first room, as it is now.
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/rooms/{general.slug}/")
    expect(page.locator("h1")).to_have_text("General")
    assert tab.errors == []


def test_the_sidebar_shows_new_messages_elsewhere(
    open_tab, user, other_user, two_rooms
):
    general, random = two_rooms
    tab = open_tab(other_user, f"/rooms/{general.slug}/", viewport=DESKTOP)
    services.message_create(room=random, author=user, content="@bob in random")
    badge = tab.page.locator(f"#sidebar-{random.slug} .unread")
    next_poll(tab.page, path="/sidebar/")
    expect(badge).to_have_attribute("data-unread", "1")
    expect(tab.page.locator(f"#sidebar-{random.slug} .mentions")).to_be_visible()


def test_the_tab_title_tells_of_messages_elsewhere(
    open_tab, user, other_user, two_rooms
):
    """Within one sidebar refresh (every 5 s), a message in another room
    puts "(1) " before the tab's title, a mention "(2 @) "; the room one
    switches to counts no more."""
    general, random = two_rooms
    # bob's join notice in Random, read: nothing waits.
    notice = random.messages.last()
    services.room_mark_read(room=random, user_id=user.pk, message_id=notice.pk)
    tab = open_tab(user, f"/rooms/{general.slug}/", viewport=DESKTOP)
    page = tab.page
    expect(page).to_have_title("General · Chat")
    services.message_create(room=random, author=other_user, content="over here")
    next_poll(page, path="/sidebar/")
    expect(page).to_have_title("(1) General · Chat")
    services.message_create(room=random, author=other_user, content="@alice look")
    next_poll(page, path="/sidebar/")
    expect(page).to_have_title("(2 @) General · Chat")
    page.locator("#sidebar").get_by_role("link", name="Random").click()
    expect(page.locator("h1")).to_have_text("Random")
    expect(page).to_have_title("Random · Chat")
    assert tab.errors == [] and tab.console == []


def test_on_a_phone_the_room_fills_the_screen_and_the_sidebar_is_a_page(
    open_tab, live_server, user, two_rooms
):
    general, random = two_rooms
    tab = open_tab(user, f"/rooms/{general.slug}/", viewport=PHONE)
    page = tab.page
    expect(page.locator("#sidebar")).to_be_hidden()
    form = page.locator("#send-form")
    expect(form).to_be_visible()
    # The send form is pinned within the screen, not below the fold.
    box = form.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"]
    page.get_by_role("link", name="Rooms").click()
    expect(page).to_have_url(f"{live_server.url}/rooms/")
    expect(page.locator("#sidebar")).to_be_visible()
    page.locator("#sidebar").get_by_role("link", name="Random").click()
    expect(page).to_have_url(f"{live_server.url}/rooms/{random.slug}/")
    expect(page.locator("#sidebar")).to_be_hidden()


def test_without_javascript_the_sidebar_is_plain_links(
    open_tab, live_server, user, two_rooms
):
    general, random = two_rooms
    tab = open_tab(
        user, f"/rooms/{general.slug}/", viewport=DESKTOP, java_script_enabled=False
    )
    tab.page.locator("#sidebar").get_by_role("link", name="Random").click()
    expect(tab.page).to_have_url(f"{live_server.url}/rooms/{random.slug}/")
    expect(tab.page.locator("h1")).to_have_text("Random")


def test_the_sidebars_refresh_sends_its_grant_and_renews_it_in_place(
    open_tab, live_server, user, other_user, two_rooms, later
):
    """htmx sends the grant (#sidebar-grant, hx-include) with each refresh,
    and not with the sidebar's links; an aged grant is replaced alone,
    without drawing the sidebar again."""
    general, random = two_rooms
    tab = open_tab(other_user, f"/rooms/{general.slug}/", viewport=DESKTOP)
    page = tab.page
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    grant = page.locator("#sidebar-grant")
    first = grant.get_attribute("value")
    page.evaluate("document.getElementById('sidebar').stillHere = true")
    with page.expect_request(lambda r: "/sidebar/" in r.url, timeout=7_000) as one:
        pass
    assert f"t={first}" in one.value.url
    later(31)  # the grant has aged: the next refresh renews it in place
    expect(grant).not_to_have_value(first, timeout=7_000)
    assert page.evaluate("document.getElementById('sidebar').stillHere") is True
    renewed = grant.get_attribute("value")
    with page.expect_request(lambda r: "/sidebar/" in r.url, timeout=7_000) as two:
        pass
    assert f"t={renewed}" in two.value.url
    page.locator("#sidebar").get_by_role("link", name="Random").click()
    expect(page).to_have_url(f"{live_server.url}/rooms/{random.slug}/")
    room_url = f"{live_server.url}/rooms/{random.slug}/"
    boosted = [url for url in asked if url.split("?")[0] == room_url]
    assert boosted and not any("t=" in url for url in boosted)
    assert tab.errors == [] and tab.console == []
