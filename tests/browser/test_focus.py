"""Keyboard focus is always visible: tabbing through the pages, in both
colour schemes, every element that takes focus draws an outline at least
2 px wide that contrasts 3:1 with what it is drawn on (or with the band
drawn under it, when the colour behind the element would hide it), and no
scrolling box clips it."""

import pytest

from tests.browser.conftest import Tab

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMES = pytest.mark.parametrize("scheme", ["light", "dark"])
DESKTOP = {"width": 1280, "height": 800}

# What document.activeElement shows, measured in the page. Colours are
# read back through a canvas, so oklch() and named colours come out as sRGB.
PROBE = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const seen = (window.__focusSeen ||= new WeakSet());
  const again = seen.has(el);
  seen.add(el);
  const ctx = (window.__focusCanvas ||= document.createElement("canvas")
    .getContext("2d", {willReadFrequently: true}));
  const rgba = (color) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "rgba(0, 0, 0, 0)";
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  // The colour painted behind the element: its ancestors' backgrounds,
  // nearest first, laid over one another until one is opaque.
  const layers = [];
  for (let node = el.parentElement; node; node = node.parentElement) {
    const c = rgba(getComputedStyle(node).backgroundColor);
    if (c[3] > 0) layers.push(c);
    if (c[3] >= 1) break;
  }
  let surface = [255, 255, 255];
  for (const [r, g, b, a] of layers.reverse()) {
    surface = [r * a + surface[0] * (1 - a), g * a + surface[1] * (1 - a),
               b * a + surface[2] * (1 - a)];
  }
  const cs = getComputedStyle(el);
  const width = parseFloat(cs.outlineWidth) || 0;
  const offset = parseFloat(cs.outlineOffset) || 0;
  // A band drawn round the element by a box-shadow (0 0 0 <spread> <colour>).
  let band = null;
  if (cs.boxShadow !== "none") {
    const shadows = cs.boxShadow.split(/,(?![^(]*\\))/).map((s) => s.trim());
    for (const shadow of shadows) {
      const m = shadow.match(/^(.*?)\\s+0px 0px 0px (\\d+(?:\\.\\d+)?)px$/);
      if (m && parseFloat(m[2]) > 0 && rgba(m[1])[3] > 0) {
        band = {color: rgba(m[1]), spread: parseFloat(m[2])};
        break;
      }
    }
  }
  // Every box that clips its content must hold the whole ring.
  const rect = el.getBoundingClientRect();
  const reach = Math.max(offset + width, band ? band.spread : 0);
  const ring = {left: rect.left - reach, top: rect.top - reach,
                right: rect.right + reach, bottom: rect.bottom + reach};
  const clippedBy = [];
  for (let node = el.parentElement; node && node !== document.documentElement;
       node = node.parentElement) {
    const s = getComputedStyle(node);
    if (s.overflowX === "visible" && s.overflowY === "visible") continue;
    const box = node.getBoundingClientRect();
    const left = box.left + node.clientLeft, top = box.top + node.clientTop;
    if (ring.left < left - 0.5 || ring.top < top - 0.5 ||
        ring.right > left + node.clientWidth + 0.5 ||
        ring.bottom > top + node.clientHeight + 0.5) {
      clippedBy.push(node.id ? "#" + node.id : node.tagName.toLowerCase() +
                     "." + [...node.classList].slice(0, 4).join("."));
    }
  }
  const label = (el.getAttribute("aria-label") || el.textContent || el.value || "")
    .trim().replace(/\\s+/g, " ").slice(0, 30);
  const where = el.closest("#sidebar") ? "#sidebar "
    : el.closest("#messages") ? "#messages " : "";
  const picker = el.closest(".reaction-picker") && el.tagName === "A" ? "picker " : "";
  return {
    again,
    name: where + picker + el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
          (el.classList.length ? "." + [...el.classList].slice(0, 2).join(".") : "") +
          (label ? ` "${label}"` : ""),
    tag: el.tagName.toLowerCase(),
    open: el.tagName === "SUMMARY" ? el.parentElement.open : null,
    style: cs.outlineStyle, width, offset,
    outline: rgba(cs.outlineColor), band, surface, clippedBy,
  };
}
"""


def luminance(rgb) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def blend(color, under):
    """`color` (r, g, b, a) painted over the opaque `under`."""
    *rgb, alpha = color
    return [c * alpha + u * (1 - alpha) for c, u in zip(rgb, under, strict=True)]


def problem(focus: dict) -> str | None:
    """Why the focused element's ring is not clearly visible, or None."""
    if focus["style"] in ("none", "hidden") or focus["width"] < 2:
        return f"no 2px outline ({focus['style']} {focus['width']}px)"
    surface = focus["surface"]
    outline = blend(focus["outline"], surface)
    band = focus["band"]
    if band and band["spread"] >= focus["offset"]:
        # Outline on the band, the band on the surface: one of the two
        # must stand out from the surface, and the outline from the band.
        inner = blend(band["color"], surface)
        if (
            contrast(outline, inner) < 3
            or max(contrast(outline, surface), contrast(inner, surface)) < 3
        ):
            return "the ring does not stand out from its band or the surface"
    elif contrast(outline, surface) < 3:
        return f"outline contrast {contrast(outline, surface):.2f} < 3"
    if focus["clippedBy"]:
        return f"ring clipped by {focus['clippedBy']}"
    return None


def tab_through(tab: Tab, steps: int = 150, open_pickers: bool = False) -> list:
    """Press Tab until focus comes back round (past the page's end it leaves
    the page, then starts again at the top); what each stop looked like.
    With open_pickers, Enter opens each reaction picker on the way, as a
    keyboard user would, so its emoji are tabbed through too."""
    page = tab.page
    stops = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        focus = page.evaluate(PROBE)
        if focus is None:
            continue
        if focus["again"]:
            break
        stops.append(focus)
        if open_pickers and focus["tag"] == "summary" and focus["open"] is False:
            page.keyboard.press("Enter")
    assert len(stops) > 3, stops
    return stops


def failures(stops: list) -> list[str]:
    return [f"{s['name']}: {why}" for s in stops if (why := problem(s))]


@SCHEMES
def test_every_stop_of_the_room_page_and_sidebar_shows_a_ring(
    open_tab, user, other_user, room, conversation, make_messages, scheme
):
    # Enough that the log scrolls: a ring at its edges must not be cut.
    make_messages(room, 6, author=other_user, prefix="and another thing")
    tab = open_tab(user, f"/rooms/{room.slug}/", viewport=DESKTOP, color_scheme=scheme)
    log = tab.page.locator("#messages").locator("..")
    assert log.evaluate("e => e.scrollHeight > e.clientHeight")
    stops = tab_through(tab, steps=300, open_pickers=True)
    names = " ".join(s["name"] for s in stops)
    # The tour went through the sidebar, the log's controls and the form.
    for expected in (
        "#sidebar a",
        "reply-quote",
        "reaction",
        "picker a",
        "message-reply",
        "message-edit",
        "#send-content",
        "Send",
    ):
        assert expected in names, (expected, names)
    assert not (bad := failures(stops)), "\n".join(bad)
    assert tab.errors == []


@SCHEMES
@pytest.mark.parametrize("path", ["/rooms/", "/people/", "/accounts/settings/"])
def test_every_stop_of_the_other_signed_in_pages_shows_a_ring(
    open_tab, user, other_user, room, path, scheme
):
    tab = open_tab(user, path, viewport=DESKTOP, color_scheme=scheme)
    assert not (bad := failures(tab_through(tab))), "\n".join(bad)


@SCHEMES
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_every_stop_of_the_login_and_signup_pages_shows_a_ring(open_tab, path, scheme):
    tab = open_tab(None, path, viewport=DESKTOP, color_scheme=scheme)
    assert not (bad := failures(tab_through(tab))), "\n".join(bad)
