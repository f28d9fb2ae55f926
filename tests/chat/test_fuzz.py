"""Property-based: arbitrary text and query strings never make a 5xx, and
every stored message reads back exactly as sent after the documented
normalisation (surrounding white space stripped, CR/CRLF to LF, "/me " taken
off an action)."""

import unicodedata
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.models import Message

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def acceptable(text: str) -> bool:
    clean = normalise(text)
    return (
        bool(clean)
        and clean != "/me"
        and len(clean) <= 4000
        and not any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in clean)
    )


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_is_stored_exactly_or_refused_with_4xx(htmx_client, room, text):
    before = Message.objects.count()
    response = htmx_client.post(f"/rooms/{room.slug}/messages/", {"content": text})
    assert response.status_code < 500
    if acceptable(text):
        assert response.status_code == 200
        stored = Message.objects.latest("id")
        expected = normalise(text)
        if expected.startswith("/me "):  # an action: the text after "/me "
            assert stored.kind == "action"
            expected = expected[4:].strip()
        assert stored.content == expected
    else:
        assert response.status_code == 400
        assert Message.objects.count() == before


@FUZZ
@given(query=st.text(max_size=60), path=st.sampled_from(["messages/", ""]))
def test_any_query_string_never_5xx(htmx_client, room, query, path):
    url = f"/rooms/{room.slug}/{path}?{quote(query, safe='=&')}"
    assert htmx_client.get(url).status_code < 500
    assert Client().get(url).status_code < 500


@FUZZ
@given(slug=st.text(min_size=1, max_size=40), name=st.text(max_size=100))
def test_any_slug_and_room_name_never_5xx(htmx_client, slug, name):
    assert htmx_client.get(f"/rooms/{quote(slug, safe='')}/").status_code < 500
    response = htmx_client.get(f"/dm/{quote(slug, safe='')}/")
    assert response.status_code < 500
    assert htmx_client.post("/rooms/", {"name": name}).status_code < 500


@FUZZ
@given(username=st.text(max_size=40), password=st.text(max_size=40))
def test_any_login_or_signup_input_never_5xx(db, username, password):
    client = Client()
    data = {"username": username, "password": password}
    assert client.post("/accounts/login/", data).status_code < 500
    signup = {"username": username, "password1": password, "password2": password}
    assert client.post("/accounts/signup/", signup).status_code < 500
