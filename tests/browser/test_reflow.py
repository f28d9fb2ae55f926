"""The layout holds when zoomed: a 1280 by 800 window at 200% is a 640 by
400 CSS-pixel viewport, at 400% 320 by 200 (WCAG's reflow size, 320 wide). Nothing
scrolls sideways, text fields keep a usable width, the send form works and
the way back to the room list (#home-link) is there."""

import pytest
from playwright.sync_api import expect

from chat import services

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = pytest.mark.parametrize(
    "size",
    [{"width": 640, "height": 400}, {"width": 320, "height": 200}],
    ids=["200%", "400%"],
)
PAGES = [
    "/rooms/",
    "/rooms/general/",
    "/rooms/{long_room}/",
    "/rooms/{long_direct}/",
    "/people/",
    "/search/?q=alice",
    "/accounts/settings/",
]

# Every box that scrolls sideways: the page itself, or any element whose
# content is wider than it (#shell-main scrolls, so a wide child would give
# it a sideways scrollbar while the page stayed put).
SIDEWAYS = """
() => [document.scrollingElement, ...document.querySelectorAll("body *")]
  .filter((e) => e === document.scrollingElement ||
    ["auto", "scroll"].includes(getComputedStyle(e).overflowX))
  .filter((e) => e.scrollWidth > e.clientWidth)
  .map((box) => {
    // What sticks out: the innermost elements past the box's right edge.
    const edge = box === document.scrollingElement ? innerWidth
      : box.getBoundingClientRect().left + box.clientWidth;
    const out = [...box.querySelectorAll("*")]
      .filter((e) => e.getBoundingClientRect().right > edge + 1)
      .filter((e, _, all) => !all.some((o) => o !== e && e.contains(o)));
    return {
      text: (box.id ? "#" + box.id : box.tagName.toLowerCase()) +
        ` ${box.scrollWidth} > ${box.clientWidth}: ` + out.slice(0, 3)
        .map((e) => e.tagName.toLowerCase() + "." + [...e.classList].join("."))
        .join(", "),
    };
  })
"""


def sideways(page) -> None:
    """Nothing scrolls sideways."""
    boxes = page.evaluate(SIDEWAYS)
    assert not boxes, "\n".join(box["text"] for box in boxes)


# Text fields narrower than this hold too few characters to see what one
# types (about a dozen).
FIELD_MIN = 150
NARROW_FIELDS = f"""
() => [...document.querySelectorAll(
    "input[type=text], input[type=search], input[type=password], input:not([type])")]
  .filter((e) => e.offsetParent !== null &&
    e.getBoundingClientRect().width < {FIELD_MIN})
  .map((e) => "#" + e.id + " " + Math.round(e.getBoundingClientRect().width) + "px")
"""


LONG_WORD = "Donaudampfschifffahrtsgesellschaftskapitän" * 2  # 84 letters


@pytest.fixture
def lived_in(user, other_user, make_user, room, conversation) -> dict:
    """alice's rooms: General with a conversation (and unread mentions from
    bob), a room whose name is one long word, a direct conversation with bob
    and one with someone whose name is long; long words in messages and in
    the quote of a reply. Gives the long-named user and rooms' slugs."""
    long_user = make_user(LONG_WORD)
    services.direct_room_get_or_create(user=other_user, other=user)
    long_direct = services.direct_room_get_or_create(user=long_user, other=user)
    services.message_create(room=long_direct, author=long_user, content="hi")
    long_room = services.room_create(name=LONG_WORD[:80], created_by=user)
    services.message_create(room=long_room, author=user, content="hello")
    long = services.message_create(
        room=room,
        author=other_user,
        content=f"@alice {LONG_WORD} https://example.com/" + "a" * 120,
    )
    services.message_create(room=room, author=user, content=LONG_WORD, reply_to=long)
    return {
        "long_user": long_user,
        "long_room": long_room.slug,
        "long_direct": long_direct.slug,
    }


@SIZES
@pytest.mark.parametrize("path", PAGES)
def test_zoomed_pages_reflow(open_tab, live_server, user, lived_in, path, size):
    tab = open_tab(user, path.format(**lived_in), viewport=size)
    page = tab.page
    sideways(page)
    assert page.evaluate(NARROW_FIELDS) == []
    # The way to the room list: on the page (scrolled to if need be), and
    # it works.
    home = page.locator("#home-link")
    expect(home).to_be_visible()
    home.click()
    expect(page).to_have_url(f"{live_server.url}/rooms/")
    assert tab.errors == []


@SIZES
def test_zoomed_room_sends(open_tab, user, room, lived_in, size):
    tab = open_tab(user, f"/rooms/{room.slug}/", viewport=size)
    page = tab.page
    field, button = page.locator("#send-content"), page.locator("#send-form button")
    for control in (field, button):
        control.scroll_into_view_if_needed()
        expect(control).to_be_in_viewport()
    field.fill("Still readable at this zoom")
    button.click()
    expect(field).to_have_value("")
    expect(
        page.locator("#messages .message-content", has_text="Still readable")
    ).to_be_visible()
    sideways(page)
    assert tab.errors == []


@SIZES
@pytest.mark.parametrize("path", ["/rooms/", "/accounts/settings/"])
def test_zoomed_pages_reflow_with_a_long_name(open_tab, lived_in, path, size):
    """The viewer's own long name: in the header, on the settings page."""
    tab = open_tab(lived_in["long_user"], path, viewport=size)
    sideways(tab.page)
    expect(tab.page.locator("#home-link")).to_be_visible()
