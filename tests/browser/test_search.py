"""Search in headless Chromium: the header's box finds messages without a
reload (the results in #shell-main, the URL kept), "Older results" pages on,
a result opens its room around the message, highlighted; the room page
searches its room; and all of it without JavaScript as plain GETs."""

import pytest
from playwright.sync_api import expect

from chat import services

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def history(user, other_user, room, make_room):
    """General with a needle among plenty of hay (more than a page, so the
    message opens mid-history), and another room with a needle of its own."""
    say = services.message_create
    for i in range(40):
        say(room=room, author=other_user, content=f"hay {i}")
    needle = say(room=room, author=other_user, content="the <b>needle</b> is here")
    for i in range(40):
        say(room=room, author=user, content=f"more hay {i}")
    elsewhere = make_room("Elsewhere")
    other = say(room=elsewhere, author=user, content="another needle")
    return needle, other


def test_searching_from_the_header_and_opening_a_result(
    open_tab, live_server, user, room, history
):
    needle, other = history
    tab = open_tab(user, f"/rooms/{room.slug}/", viewport=DESKTOP)
    page = tab.page
    page.evaluate("window.stillHere = true")
    box = page.get_by_role("searchbox", name="Search messages").first
    box.fill("needle")
    box.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/search/?q=needle")
    results = page.locator("#search-results li.search-result")
    expect(results).to_have_count(2)
    expect(results.nth(0)).to_have_id(f"result-{other.pk}")
    first = page.locator(f"#result-{needle.pk}")
    expect(first.locator("mark")).to_have_text("needle")
    # The message's markup is its text.
    expect(first.locator(".result-link")).to_contain_text("<b>needle</b>")
    assert page.evaluate("window.stillHere") is True  # no reload
    expect(page.locator("#search-q")).to_have_value("needle")
    first.locator(".result-link").click()
    expect(page).to_have_url(
        f"{live_server.url}/rooms/{room.slug}/?around={needle.pk}#message-{needle.pk}"
    )
    message = page.locator(f"#message-{needle.pk}")
    expect(message).to_have_attribute("data-highlight", "")
    expect(message).to_be_in_viewport()
    assert tab.errors == []


def test_the_search_page_form_swaps_the_results_and_pages_older(
    open_tab, live_server, user, room, make_messages
):
    messages = make_messages(room, 25, prefix="paged")
    tab = open_tab(user, "/search/", viewport=DESKTOP)
    page = tab.page
    page.evaluate("window.stillHere = true")
    page.locator("#search-page-q").fill("paged")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("li.search-result")).to_have_count(20)
    page.locator(".search-older").click()
    expect(page.locator("li.search-result")).to_have_count(5)
    # The 20th newest is where the next page starts.
    expect(page).to_have_url(
        f"{live_server.url}/search/?q=paged&before={messages[5].pk}"
    )
    # A refused query: the reason in place of the results.
    page.locator("#search-page-q").fill('"paged')
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#search-error")).to_contain_text("quote is not closed")
    assert page.evaluate("window.stillHere") is True
    assert tab.errors == []


def test_the_room_page_searches_its_room(open_tab, live_server, user, room, history):
    needle, _other = history
    tab = open_tab(user, f"/rooms/{room.slug}/", viewport=DESKTOP)
    page = tab.page
    box = page.locator("#room-search-q")
    box.fill("needle")
    box.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/search/?room={room.slug}&q=needle")
    expect(page.locator("li.search-result")).to_have_count(1)
    expect(page.locator(f"#result-{needle.pk}")).to_be_visible()
    expect(page.locator("#search-room")).to_be_checked()


def test_without_javascript_search_is_plain_forms_and_links(
    open_tab, live_server, user, room, history
):
    needle, _other = history
    tab = open_tab(
        user, f"/rooms/{room.slug}/", viewport=DESKTOP, java_script_enabled=False
    )
    page = tab.page
    box = page.locator("#search-q")
    box.fill("needle")
    box.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/search/?q=needle")
    expect(page.locator("li.search-result")).to_have_count(2)
    page.locator(f"#result-{needle.pk} .result-link").click()
    expect(page).to_have_url(
        f"{live_server.url}/rooms/{room.slug}/?around={needle.pk}#message-{needle.pk}"
    )
    expect(page.locator(f"#message-{needle.pk}")).to_have_attribute(
        "data-highlight", ""
    )
    # The room's own box, then widening to every room.
    page.locator("#room-search-q").fill("needle")
    page.locator("#room-search-q").press("Enter")
    expect(page.locator("li.search-result")).to_have_count(1)
    page.locator("#search-room").uncheck()
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/search/?q=needle")
    expect(page.locator("li.search-result")).to_have_count(2)
