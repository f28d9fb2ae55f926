"""Bad input gets a clear 4xx, never a 500, and never touches stored data."""

import pytest
from django.test import Client

from chat.models import Message

pytestmark = pytest.mark.django_db


def send(client, room, content, **extra):
    return client.post(f"/rooms/{room.slug}/messages/", {"content": content, **extra})


@pytest.mark.parametrize(
    "content",
    ["nul \x00 byte", "bell \x07", "escape \x1b[31m", "del \x7f", "c1 \x85 next"],
)
def test_control_characters_are_refused_with_400(htmx_client, room, content, soup):
    response = send(htmx_client, room, content)
    assert response.status_code == 400
    assert soup(response).select_one("#send-error").get_text(strip=True)
    assert not Message.objects.exists()


def test_line_breaks_and_tabs_are_kept_and_crlf_normalised(htmx_client, room):
    assert send(htmx_client, room, "one\r\ntwo\tthree\rfour").status_code == 200
    assert Message.objects.get().content == "one\ntwo\tthree\nfour"


@pytest.mark.parametrize(
    "text",
    [
        "🎉👩‍👩‍👧‍👦 emoji and ZWJ",
        "שלום עולם مرحبا بالعالم",
        "e\u0301 a\u0308 combining",
        "\u202eright-to-left override",
        "中文 日本語 한국어",
    ],
)
def test_unicode_round_trips_unchanged(htmx_client, room, text, soup):
    assert send(htmx_client, room, text).status_code == 200
    assert Message.objects.get().content == text
    page = soup(htmx_client.get(f"/rooms/{room.slug}/messages/?after=0"))
    assert page.select_one(".message-content").get_text() == text


def test_request_body_over_the_upload_limit_is_400_and_stores_nothing(
    htmx_client, room, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = send(htmx_client, room, "x" * 20_000)
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_missing_csrf_token_is_403(user, room):
    client = Client(enforce_csrf_checks=True, headers={"HX-Request": "true"})
    client.force_login(user)
    response = send(client, room, "forged")
    assert response.status_code == 403
    assert not Message.objects.exists()
    assert client.post("/rooms/", {"name": "forged"}).status_code == 403


@pytest.mark.parametrize(
    "url", ["/rooms/general/", "/", "/dm/bob/", "/accounts/logout/"]
)
def test_wrong_method_is_405(auth_client, room, other_user, url):
    method = auth_client.get if url == "/accounts/logout/" else auth_client.delete
    if url == "/rooms/general/":
        response = auth_client.post(url, {"content": "x"})
    else:
        response = method(url)
    assert response.status_code == 405


def test_put_to_messages_is_405(htmx_client, room):
    assert htmx_client.put(f"/rooms/{room.slug}/messages/").status_code == 405


@pytest.mark.parametrize("slug", ["café", "日本", "%00", "a" * 300, "..", "x y"])
def test_odd_slugs_are_404(htmx_client, slug):
    from urllib.parse import quote

    for url in (f"/rooms/{quote(slug)}/", f"/rooms/{quote(slug)}/messages/?after=0"):
        assert htmx_client.get(url).status_code == 404


def test_control_characters_in_room_names_are_refused(auth_client, soup):
    response = auth_client.post("/rooms/", {"name": "bad\x00name"})
    assert response.status_code == 400
    assert soup(response).select_one("#room-name-error")


def test_repeated_after_in_a_send_is_400(htmx_client, room):
    response = htmx_client.post(
        f"/rooms/{room.slug}/messages/",
        "content=x&after=1&after=2",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_nul_in_a_dm_username_is_404(auth_client):
    # Found by the property test on PostgreSQL, which rejects NUL in queries.
    assert auth_client.get("/dm/%00/").status_code == 404
    assert auth_client.get("/dm/bob%00/").status_code == 404
