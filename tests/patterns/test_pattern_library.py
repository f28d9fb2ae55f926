"""Every partial and page renders in the pattern library with its sample data."""

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
PARTIALS = sorted(
    p.relative_to(TEMPLATES).as_posix()
    for p in (TEMPLATES / "chat" / "partials").rglob("*.html")
)
STATES = sorted(
    p.relative_to(TEMPLATES).as_posix()
    for p in (TEMPLATES / "patterns" / "states").glob("*.html")
)
PAGES = sorted(
    p.relative_to(TEMPLATES).as_posix()
    for p in (TEMPLATES / "patterns" / "pages").glob("*.html")
)


def render(client, name: str) -> BeautifulSoup:
    response = client.get(f"/pattern-library/render-pattern/{name}")
    assert response.status_code == 200, name
    return BeautifulSoup(response.content.decode(), "html.parser")


@pytest.mark.parametrize("name", PARTIALS + STATES + PAGES)
def test_pattern_renders_with_its_yaml(client, name):
    assert (TEMPLATES / name).with_suffix(".yaml").exists(), (
        f"no sample data for {name}"
    )
    page = render(client, name)
    assert page.get_text(strip=True) or page.select("[id]"), name


def test_the_designers_states_are_all_there():
    assert {Path(s).stem for s in STATES} >= {
        "own_message",
        "others_message",
        "long_message_with_link",
        "me_action",
        "join_notice",
        "empty_room",
        "send_form_error",
        "load_older_control",
    }


def test_states_show_what_they_say(client):
    own = render(client, "patterns/states/own_message.html").select_one("article")
    assert "message-own" in own["class"] and own["id"] == "message-101"
    other = render(client, "patterns/states/others_message.html").select_one("article")
    assert "message-own" not in other["class"]
    long = render(client, "patterns/states/long_message_with_link.html")
    assert long.select_one(".message-content a")["href"].startswith(
        "https://example.com"
    )
    assert long.select_one(".mention").get_text() == "@alice"
    action = render(client, "patterns/states/me_action.html")
    assert "* bob waves" in " ".join(action.get_text().split())
    join = render(client, "patterns/states/join_notice.html").select_one("article")
    assert join["data-kind"] == "join"
    empty = render(client, "patterns/states/empty_room.html")
    assert empty.select_one("#empty-room") is not None
    error = render(client, "patterns/states/send_form_error.html")
    assert error.select_one("#send-form #send-error").get_text(strip=True)
    assert render(client, "patterns/states/load_older_control.html").select_one(
        "#load-older a"
    )


def test_pages_in_the_pattern_library_carry_no_script(client):
    assert len(PAGES) == 6
    page = render(client, "patterns/pages/room.html")
    assert page.html is not None and page.select_one("body #main") is not None
    assert page.select("script") == []
    assert page.select_one("#messages #poller") is not None
