"""axe-core finds no serious or critical problem on the main pages."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import send

pytestmark = pytest.mark.django_db(transaction=True)


def serious(page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/"])
def test_public_pages(open_tab, path):
    tab = open_tab(None, path, bypass_csp=True)
    assert serious(tab.page) == []


def test_room_list_and_room(open_tab, user, room, make_messages):
    make_messages(room, 5)
    tab = open_tab(user, "/rooms/", bypass_csp=True)
    assert serious(tab.page) == []
    tab.page.goto(tab.page.url.replace("/rooms/", f"/rooms/{room.slug}/"))
    assert serious(tab.page) == []


def test_send_input_is_labelled_and_new_messages_land_in_a_live_region(
    open_tab, user, room
):
    tab = open_tab(user, f"/rooms/{room.slug}/")
    field = tab.page.get_by_label("Message", exact=True)
    expect(field).to_have_attribute("id", "send-content")
    send(tab, "announced")
    live = tab.page.locator("[aria-live=polite]#messages")
    expect(live.locator(".message-content", has_text="announced")).to_be_visible()
