"""Attachments in headless Chromium: a picture sent with htmx reaches the
other user's page within a poll, and loads; the form is busy while it
uploads; a refused file is said in the form; without script a plain
multipart post sends files (303 back)."""

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect

from chat import services
from chat.models import Attachment, Message
from tests.accounts.images import image_bytes, upload
from tests.browser.conftest import live

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def room_path(room) -> str:
    return f"/rooms/{room.slug}/"


def picture(name: str = "sunrise.png", size=(320, 200)) -> dict:
    return {
        "name": name,
        "mimeType": "image/png",
        "buffer": image_bytes("PNG", size=size, colour="orange"),
    }


def loaded(tab, locator) -> dict:
    """The <img>'s decoded size once the browser has it (0 if it failed)."""
    handle = locator.element_handle()
    tab.page.wait_for_function("img => img.complete", arg=handle)
    return tab.page.evaluate(
        "img => ({w: img.naturalWidth, h: img.naturalHeight})", handle
    )


def test_a_picture_reaches_the_other_user_within_a_poll(
    open_tab, user, other_user, room
):
    alice = open_tab(user, room_path(room))
    bob = open_tab(other_user, room_path(room))
    alice.page.locator("#send-files").set_input_files(picture())
    field = alice.page.locator("#send-content")
    with alice.page.expect_request(lambda r: r.url.endswith("/typing/")) as typing:
        field.press_sequentially("Sunrise", delay=30)
    # Typing sends the text, never the chosen files.
    sent = typing.value.post_data
    assert "content=Sunrise" in sent and "files" not in sent, sent
    # The send answered: the picture is stored, for bob's next poll to bring.
    with alice.page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/messages/")
    ) as posted:
        field.press("Enter")
    assert posted.value.status == 200
    thumb = bob.page.locator("#messages img.attachment-thumb[alt='sunrise.png']")
    live(thumb).to_be_visible()
    assert loaded(bob, thumb) == {"w": 320, "h": 200}
    # The sender's own copy, and a form ready for the next message.
    mine = alice.page.locator("#messages .message-own img.attachment-thumb")
    expect(mine).to_be_visible()
    expect(field).to_have_value("")
    expect(field).to_be_enabled()
    expect(alice.page.locator("#send-files")).to_have_value("")
    # The link opens the full picture, served inline.
    href = bob.page.locator("#messages a.attachment-image").get_attribute("href")
    response = bob.page.request.get(bob.page.url.split("/rooms/")[0] + href)
    assert response.status == 200
    assert response.headers["content-disposition"].startswith("inline")
    for tab in (alice, bob):
        assert [c for c in tab.console if c.startswith("error")] == []
        assert tab.errors == []


def test_the_form_is_busy_while_the_files_upload(open_tab, user, room):
    alice = open_tab(user, room_path(room))
    held = []

    def hold_sends(route) -> None:
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    alice.page.route(lambda url: url.endswith("/messages/"), hold_sends)
    alice.page.locator("#send-files").set_input_files(picture())
    alice.page.locator("#send-form button[type=submit]").click()
    busy = alice.page.locator("#send-busy")
    expect(busy).to_be_visible()
    expect(busy).to_have_text("Sending…")
    expect(alice.page.locator("#send-form button[type=submit]")).to_be_disabled()
    expect(alice.page.locator("#send-files")).to_be_disabled()
    assert len(held) == 1
    assert held[0].request.headers["content-type"].startswith("multipart/form-data")
    held[0].continue_()
    expect(alice.page.locator("#messages img.attachment-thumb")).to_be_visible()
    expect(alice.page.locator("#send-busy")).to_be_hidden()
    expect(alice.page.locator("#send-files")).to_be_enabled()


def test_a_refused_file_is_said_in_the_form(open_tab, user, room):
    alice = open_tab(user, room_path(room))
    alice.page.locator("#send-files").set_input_files(
        {"name": "setup.exe", "mimeType": "image/png", "buffer": b"MZ\x90\x00" * 64}
    )
    alice.page.locator("#send-content").fill("the installer")
    alice.page.locator("#send-content").press("Enter")
    error = alice.page.locator("#send-form #send-error")
    expect(error).to_contain_text("“setup.exe” cannot be sent")
    expect(alice.page.locator("#send-files")).to_have_attribute("aria-invalid", "true")
    expect(alice.page.locator("#send-content")).to_have_value("the installer")
    assert not Message.objects.filter(kind="message").exists()
    assert alice.errors == []


def test_without_javascript_a_plain_multipart_post_sends_files(
    open_tab, user, room, live_server
):
    alice = open_tab(user, room_path(room), java_script_enabled=False)
    alice.page.locator("#send-files").set_input_files(
        [
            picture("plain.png", size=(90, 60)),
            {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ]
    )
    with alice.page.expect_response(lambda r: r.request.method == "POST") as posted:
        alice.page.locator("#send-form button[type=submit]").click()
    assert posted.value.status == 303
    expect(alice.page).to_have_url(live_server.url + room_path(room))
    thumb = alice.page.locator("#messages img.attachment-thumb[alt='plain.png']")
    expect(thumb).to_be_visible()
    # Script off, the page cannot be asked whether it decoded it: fetched
    # as the page did, it is the 90x60 thumbnail.
    served = alice.page.request.get(live_server.url + thumb.get_attribute("src"))
    assert served.status == 200 and served.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(served.body())).size == (90, 60)
    card = alice.page.locator("#messages .attachment-file")
    expect(card.locator(".attachment-name")).to_have_text("notes.pdf")
    assert Attachment.objects.count() == 2


def serious(page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_attachments_and_a_refused_file_pass_axe(
    open_tab, user, other_user, room, scheme
):
    services.room_join(room=room, user=other_user)
    board = upload(image_bytes("PNG", size=(900, 500)), name="board.png")
    services.message_create(
        room=room, author=other_user, content="The board", files=[board]
    )
    services.message_create(
        room=room,
        author=user,
        content="",
        files=[upload(PDF, name="notes.pdf"), upload(b"log\n" * 50, name="a.log")],
    )
    tab = open_tab(
        user,
        room_path(room),
        bypass_csp=True,
        color_scheme=scheme,
        viewport={"width": 1280, "height": 800},
    )
    expect(tab.page.locator("#messages .attachment-file")).to_have_count(2)
    assert serious(tab.page) == []
    tab.page.locator("#send-files").set_input_files(
        {"name": "setup.exe", "mimeType": "image/png", "buffer": b"MZ\x90\x00" * 64}
    )
    tab.page.locator("#send-form button[type=submit]").click()
    expect(tab.page.locator("#send-error")).to_contain_text("setup.exe")
    assert serious(tab.page) == []
