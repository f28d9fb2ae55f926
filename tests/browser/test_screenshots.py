"""The README's screenshots: a conversation on a wide screen (the sidebar
beside it), on a phone, and on the wide screen in the dark. Each test checks
what its picture shows, and that axe finds no serious problem on it; with
UPDATE_SCREENSHOT=1 (`make screenshot`) it also writes
docs/screenshot-<name>.png."""

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from chat import services
from tests.accounts.images import upload
from tests.browser.test_accessibility import serious

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SHOTS = {
    "desktop": {"viewport": DESKTOP, "color_scheme": "light"},
    "phone": {"viewport": PHONE, "color_scheme": "light"},
    "dark": {"viewport": DESKTOP, "color_scheme": "dark"},
}

# The relative luminance (0 black, 1 white) of a computed colour, read back
# through a canvas so that oklch() comes out as sRGB.
LUMINANCE = """
(color) => {
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.fillStyle = color;
  ctx.fillRect(0, 0, 1, 1);
  const lin = (c) => (c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}
"""


INCIDENT_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def error_rate_chart() -> bytes:
    """A small line chart, flat after a spike: the picture bob shares."""
    chart = Image.new("RGB", (360, 150), "white")
    draw = ImageDraw.Draw(chart)
    draw.line([(30, 10), (30, 130), (350, 130)], fill="#64748b", width=2)
    points = [(30, 110), (90, 108), (120, 40), (150, 100), (190, 112)]
    points += [(x, 112 + (x // 10) % 3) for x in range(200, 350, 10)]
    draw.line(points, fill="#4f46e5", width=3)
    out = io.BytesIO()
    chart.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def lived_in(user, other_user, make_user, make_room, room, conversation):
    """alice's sidebar with more than General: a room with unread messages
    and a mention, and direct conversations with bob and carol; General ends
    with two messages of bob's in a row, drawn as one group."""
    services.message_create(
        room=room,
        author=other_user,
        content="Thanks! The error rate is flat too.",
        files=[upload(error_rate_chart(), name="error-rate.png")],
    )
    services.message_create(
        room=room,
        author=other_user,
        content="Closing the incident.",
        files=[upload(INCIDENT_PDF, name="incident-48.pdf")],
    )
    design = make_room("Design")
    for text in ("New icons are up", "@alice thoughts on the blue?"):
        services.message_create(room=design, author=other_user, content=text)
    make_room("Releases")
    carol = make_user("carol")
    for other in (other_user, carol):
        services.direct_room_get_or_create(user=other, other=user)


@pytest.mark.parametrize("name", SHOTS)
def test_screenshot(open_tab, user, other_user, room, lived_in, name, tmp_path):
    shot = SHOTS[name]
    # bypass_csp: axe is injected at the end (the picture is the same).
    alice = open_tab(user, f"/rooms/{room.slug}/", bypass_csp=True, **shot)
    # bob has the room open too: "Here now: alice, bob".
    open_tab(other_user, f"/rooms/{room.slug}/", viewport=DESKTOP)
    page = alice.page
    expect(page.locator("#presence .present-user")).to_have_count(2, timeout=4_000)
    log = page.locator("#messages")
    expect(log.locator("[data-kind=message], [data-kind=action]")).to_have_count(7)
    expect(log.locator(".message-grouped")).to_have_count(1)
    expect(log.locator("img.attachment-thumb")).to_be_visible()
    expect(log.locator(".attachment-file")).to_have_count(1)
    expect(log.locator(".reaction")).to_have_count(2)
    expect(log.locator(".reply-quote")).to_be_visible()
    expect(page.locator("#send-form")).to_be_in_viewport()
    sidebar = page.locator("#sidebar")
    if shot["viewport"] == DESKTOP:
        expect(sidebar).to_be_visible()
        expect(sidebar.locator("a[aria-current=page]")).to_contain_text("General")
        expect(sidebar.locator("#sidebar-design .mentions")).to_be_visible()
    else:
        expect(sidebar).to_be_hidden()
        expect(page.locator("#home-link")).to_be_visible()
    # The page's colours: dark on light, or light on dark.
    body = page.locator("body")
    background = page.evaluate(
        LUMINANCE, body.evaluate("e => getComputedStyle(e).backgroundColor")
    )
    text = page.evaluate(LUMINANCE, body.evaluate("e => getComputedStyle(e).color"))
    if shot["color_scheme"] == "dark":
        assert background < 0.05 < 0.5 < text, (background, text)
    else:
        assert text < 0.05 < 0.5 < background, (background, text)
    # The send box has autofocus: no focus ring in the picture.
    page.locator("#send-content").blur()
    path = tmp_path / f"screenshot-{name}.png"
    page.screenshot(path=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert alice.errors == []
    # What the picture shows passes axe, in either scheme.
    assert serious(page) == []
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        target = Path(settings.BASE_DIR) / "docs" / path.name
        target.write_bytes(path.read_bytes())
