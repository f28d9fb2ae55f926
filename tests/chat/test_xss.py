"""Hostile strings come back inert wherever they are shown."""

import pytest
from django.contrib.auth import get_user_model

from chat import services

pytestmark = pytest.mark.django_db

CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "<svg><script>alert(1)</script></svg>",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    "' onmouseover='alert(1)",
    "<iframe src=javascript:alert(1)></iframe>",
    "{{ request.user.password }}",
    "{% debug %}",
    "<style>body{display:none}</style>",
    "</textarea><script>alert(1)</script>",
]


def inert(response, soup) -> None:
    page = soup(response)
    assert page.select("script:not([src])") == []
    assert [s["src"] for s in page.select("script[src]")] in (
        [],
        ["/static/django_htmx/htmx-2.min.js"],
    )
    for tag in ("svg", "img", "iframe", "style"):
        assert page.select(tag) == [], tag
    for el in page.find_all(True):
        for attr, value in el.attrs.items():
            assert not attr.startswith("on"), (el.name, attr)
            if attr == "href":
                assert not str(value).lower().startswith("javascript:")
    body = response.content.decode()
    assert "<script>alert" not in body
    assert "pbkdf2" not in body and "md5$" not in body


@pytest.mark.parametrize("payload", CORPUS)
def test_payload_as_message_is_inert_in_page_and_fragments(
    htmx_client, auth_client, room, payload, soup
):
    htmx_client.post(f"/rooms/{room.slug}/messages/", {"content": payload})
    for response in (
        auth_client.get(f"/rooms/{room.slug}/"),
        htmx_client.get(f"/rooms/{room.slug}/messages/?after=0"),
    ):
        assert response.status_code == 200
        inert(response, soup)
        assert soup(response).select_one(".message-content").get_text() == payload


@pytest.mark.parametrize("payload", CORPUS)
def test_payload_as_room_name_and_username_is_inert(payload, client_for, soup):
    User = get_user_model()
    author = User.objects.create_user(username="u" + str(abs(hash(payload)))[:20])
    # Usernames from the signup form are restricted; the admin or an import
    # could still store anything, so the templates must escape it.
    User.objects.filter(pk=author.pk).update(username=payload[:150])
    author.refresh_from_db()
    room = services.room_create(name=payload[:80], created_by=author)
    services.message_create(room=room, author=author, content="hi")
    client = client_for(author, htmx=False)
    for url in ("/rooms/", f"/rooms/{room.slug}/"):
        response = client.get(url)
        assert response.status_code == 200
        inert(response, soup)
