"""axe-core finds no serious or critical problem on the main pages."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts import services as profiles
from chat import services
from tests.browser.conftest import send

pytestmark = pytest.mark.django_db(transaction=True)


def serious(page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + str([(n["target"], n["any"][0]["message"][:90]) for n in v["nodes"]])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


# Both colour schemes (dark mode follows prefers-color-scheme), on a wide
# screen so the sidebar is scanned too.
SCHEMES = pytest.mark.parametrize("scheme", ["light", "dark"])
WIDE = {"width": 1280, "height": 800}


@SCHEMES
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/"])
def test_public_pages(open_tab, path, scheme):
    tab = open_tab(None, path, bypass_csp=True, color_scheme=scheme)
    assert serious(tab.page) == []


@SCHEMES
def test_signed_in_pages(
    open_tab, live_server, user, other_user, room, make_messages, scheme
):
    make_messages(room, 5)
    services.message_create(room=room, author=other_user, content="@alice hi")
    # A display name: its handle (@bob) is drawn beside it too.
    profiles.profile_update(user=other_user, display_name="Bobby Tables")
    direct = services.direct_room_get_or_create(user=other_user, other=user)
    tab = open_tab(user, "/rooms/", bypass_csp=True, color_scheme=scheme, viewport=WIDE)
    for path in (
        "/rooms/",
        f"/rooms/{room.slug}/",
        direct.get_absolute_url(),
        "/mentions/",
        "/people/",
        "/search/?q=message",
        "/accounts/settings/",
    ):
        tab.page.goto(live_server.url + path)
        assert serious(tab.page) == [], path


def test_send_input_is_labelled_and_new_messages_land_in_a_live_region(
    open_tab, user, room
):
    tab = open_tab(user, f"/rooms/{room.slug}/")
    field = tab.page.get_by_label("Message", exact=True)
    expect(field).to_have_attribute("id", "send-content")
    send(tab, "announced")
    live = tab.page.locator("[aria-live=polite]#messages")
    expect(live.locator(".message-content", has_text="announced")).to_be_visible()


def luminance(page, selector: str) -> float:
    """The relative brightness (0 black, 1 white) of an element's computed
    background, read in the browser from a 1x1 canvas."""
    return page.evaluate(
        """sel => {
          const colour = getComputedStyle(document.querySelector(sel)).backgroundColor;
          const ctx = document.createElement("canvas").getContext("2d");
          ctx.fillStyle = colour; ctx.fillRect(0, 0, 1, 1);
          const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
          return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
        }""",
        selector,
    )


@pytest.mark.parametrize(
    "state, selector",
    [("conversation_dark", ".scheme-dark"), ("sidebar_dark", "#sidebar")],
)
def test_the_pattern_librarys_dark_states_are_dark_whatever_the_browser(
    open_tab, state, selector
):
    """scheme-dark turns the palette over for its part of the page (the
    light-dark() colours of styles.css), in a browser set to light."""
    base = "/pattern-library/render-pattern/patterns/states/"
    tab = open_tab(None, f"{base}{state}.html", bypass_csp=True, color_scheme="light")
    assert luminance(tab.page, selector) < 0.2
    assert luminance(tab.page, "body") > 0.9  # the rest stays light
    assert serious(tab.page) == []


@SCHEMES
def test_a_conversation_in_view(open_tab, user, room, conversation, scheme):
    """Every kind of message on screen at once (axe passes over what the log
    has scrolled away): own and others', a /me, a mention, a reply,
    reactions, and a reaction picker open on an own message and another's."""
    tall = {"width": 1280, "height": 1100}
    tab = open_tab(
        user,
        f"/rooms/{room.slug}/",
        bypass_csp=True,
        color_scheme=scheme,
        viewport=tall,
    )
    release, notes, *_ = conversation
    for message in (release, notes):
        tab.page.locator(f"#message-{message.id} .reaction-picker summary").click()
    expect(tab.page.locator("details[open]")).to_have_count(2)
    log = tab.page.locator("#messages").locator("..")
    assert log.evaluate("e => e.scrollHeight <= e.clientHeight")
    assert serious(tab.page) == []
