"""People and profiles in headless Chromium: a direct conversation started
from an author's name, at desktop and phone sizes; an uploaded avatar shown
beside one's messages on someone else's live page."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from chat import services
from chat.models import Room
from tests.browser.conftest import send

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def room_with_bob(room, other_user):
    services.room_join(room=room, user=other_user)
    services.message_create(room=room, author=other_user, content="hello all")
    return room


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_direct_conversation_starts_from_an_authors_name(
    open_tab, live_server, user, other_user, room_with_bob, viewport
):
    tab = open_tab(user, room_with_bob.get_absolute_url(), viewport=viewport)
    page = tab.page
    page.get_by_role("link", name="Message bob").first.click()
    expect(page).to_have_url(f"{live_server.url}/dm/bob/")
    page.locator("#direct-start button, #direct-start [type=submit]").first.click()
    direct = Room.objects.get(kind=Room.Kind.DIRECT)
    expect(page).to_have_url(f"{live_server.url}{direct.get_absolute_url()}")
    send(tab, "just between us")
    # bob finds it: in his sidebar on a wide screen, under his partner's name.
    bob = open_tab(other_user, "/rooms/", viewport=DESKTOP)
    bob.page.locator("#sidebar-direct").get_by_role("link", name="alice").click()
    expect(bob.page.locator("#messages")).to_contain_text("just between us")
    assert tab.errors == [] and bob.errors == []


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), colour).save(out, "PNG")
    return out.getvalue()


def test_an_uploaded_avatar_shows_beside_ones_messages(
    open_tab, user, other_user, room_with_bob
):
    alice = open_tab(user, "/accounts/settings/", viewport=DESKTOP)
    page = alice.page
    page.locator("#avatar-form input[type=file]").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": png("teal")}
    )
    page.locator("#avatar-form button[type=submit]").click()
    preview = page.locator("#avatar-preview img.avatar")
    expect(preview).to_be_visible()
    src = preview.get_attribute("src")
    # The browser loads it: a real picture, 256 px wide, from our own server.
    assert (
        page.evaluate(
            "src => fetch(src).then(r => r.ok && r.headers.get('content-type'))", src
        )
        == "image/webp"
    )
    bob = open_tab(other_user, room_with_bob.get_absolute_url(), viewport=DESKTOP)
    page.goto(bob.page.url)
    send(alice, "with my new face")
    mine = bob.page.locator("article", has_text="with my new face")
    expect(mine.locator(".message-avatar img.avatar")).to_have_attribute("src", src)
    # The picture arrives after the attribute does: wait for it to load
    # (reading naturalWidth at once was flaky), then check its size.
    picture = mine.locator(".message-avatar img.avatar").element_handle()
    bob.page.wait_for_function("img => img.complete", arg=picture, timeout=5_000)
    assert picture.evaluate("img => img.naturalWidth") == 256
    assert alice.errors == [] and bob.errors == []
