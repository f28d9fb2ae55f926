"""Property-based: arbitrary text, query strings, JSON bodies and htmx
headers never make a 5xx, and every stored message reads back exactly as sent
after the documented normalisation (surrounding white space stripped, CR/CRLF
to LF, "/me " taken off an action). Every URL that takes an integer answers
404 to one past a bigint."""

import json
import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat import search, services
from chat.forms import MemberForm, MessageForm, RoomForm
from chat.models import Message, Reaction, Room

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# The Bidi_Control characters: they reorder the text around them.
BIDI_CONTROLS = (
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

# Any code point at all. Lone surrogates (category Cs, which only JSON's \\u
# escapes or a non-UTF-8 charset can deliver) and bidi controls are a few
# thousand among a million: drawn on purpose as well.
ANY_CHARACTER = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(categories=["Cs"]),
    st.sampled_from(BIDI_CONTROLS),
)


def any_text(max_size: int) -> st.SearchStrategy[str]:
    # Not st.text(alphabet=ANY_CHARACTER): that merges the character sets and
    # draws from the union, where the rare kinds above stay rare.
    return st.lists(ANY_CHARACTER, max_size=max_size).map("".join)


ANY_TEXT = any_text(300)


def normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def acceptable(text: str) -> bool:
    clean = normalise(text)
    return (
        bool(clean)
        and clean != "/me"
        and len(clean) <= 4000
        and not any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in clean)
        and not any(unicodedata.category(c) == "Cs" for c in clean)
    )


def assert_stored_exactly(text: str) -> None:
    stored = Message.objects.latest("id")
    expected = normalise(text)
    if expected.startswith("/me "):  # an action: the text after "/me "
        assert stored.kind == "action"
        expected = expected[4:].strip()
    assert stored.content == expected


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_is_stored_exactly_or_refused_with_4xx(htmx_client, room, text):
    before = Message.objects.count()
    response = htmx_client.post(f"/rooms/{room.slug}/messages/", {"content": text})
    assert response.status_code < 500
    if acceptable(text):
        assert response.status_code == 200
        assert_stored_exactly(text)
    else:
        assert response.status_code == 400
        assert Message.objects.count() == before


@FUZZ
@given(text=ANY_TEXT)
def test_any_text_through_the_api_is_stored_exactly_or_refused_with_400(
    auth_client, room, text
):
    body = json.dumps({"content": text})  # a lone surrogate becomes a \\u escape
    # What the server reads: JSON joins two escapes that make a pair.
    received = json.loads(body)["content"]
    before = Message.objects.count()
    response = auth_client.post(
        f"/api/rooms/{room.slug}/messages/", body, content_type="application/json"
    )
    if acceptable(received):
        assert response.status_code == 201
        assert_stored_exactly(received)
    else:
        assert response.status_code == 400
        assert response.json()["error"]
        assert Message.objects.count() == before


@FUZZ
@given(text=ANY_TEXT)
def test_surrogates_written_as_utf8_bytes_in_a_form_are_refused(
    htmx_client, room, text
):
    # A surrogate has no UTF-8 form; written as if it had (%ED%A0%80), the
    # form is not UTF-8, and is refused (config/middleware.py) rather than
    # read with U+FFFD in its place. Any other text is stored exactly.
    raw = text.encode("utf-8", "surrogatepass")
    before = Message.objects.count()
    response = htmx_client.post(
        f"/rooms/{room.slug}/messages/",
        urlencode({"content": raw}),
        content_type="application/x-www-form-urlencoded",
    )
    if any(unicodedata.category(c) == "Cs" for c in text):
        assert response.status_code == 400
        assert b"not valid UTF-8" in response.content
        assert Message.objects.count() == before
    elif acceptable(text):
        assert response.status_code == 200
        assert_stored_exactly(text)
    else:
        assert response.status_code == 400
        assert Message.objects.count() == before


@FUZZ
@given(text=any_text(100))
def test_every_form_field_cleans_or_refuses_any_text(text):
    for form_class, field in [
        (MessageForm, "content"),
        (RoomForm, "name"),
        (MemberForm, "username"),
    ]:
        form = form_class({field: text})
        if form.is_valid():
            assert not any(unicodedata.category(c) == "Cs" for c in text)
            form.cleaned_data[field].encode()
        else:
            assert all(str(error) for error in form.errors[field])
        form[field].value().encode()  # the form shows it back in the page
    if RoomForm({"name": text}).is_valid():
        assert not any(c in BIDI_CONTROLS for c in text)


@FUZZ
@given(
    # Any character a form can carry (no surrogates), bidi controls often.
    name=st.lists(
        st.one_of(st.characters(codec="utf-8"), st.sampled_from(BIDI_CONTROLS)),
        max_size=80,
    ).map("".join)
)
def test_room_names_with_bidi_controls_are_refused(auth_client, name):
    rooms = Room.objects.count()
    response = auth_client.post("/rooms/", {"name": name})
    assert response.status_code < 500
    if any(c in BIDI_CONTROLS for c in name):
        assert response.status_code == 400
        assert Room.objects.count() == rooms


@FUZZ
@given(query=st.text(max_size=60), path=st.sampled_from(["messages/", ""]))
def test_any_query_string_never_5xx(htmx_client, room, query, path):
    url = f"/rooms/{room.slug}/{path}?{quote(query, safe='=&')}"
    assert htmx_client.get(url).status_code < 500
    assert Client().get(url).status_code < 500


QUERY_VALUE = any_text(30)


@FUZZ
@given(
    params=st.dictionaries(
        st.one_of(
            st.sampled_from(
                ["next", "after", "before", "since", "t", "v", "q", "page"]
            ),
            QUERY_VALUE,
        ),
        st.one_of(QUERY_VALUE, QUERY_VALUE.map(lambda value: "/" + value)),
        max_size=3,
    ),
    charset=st.sampled_from([None, "utf-8", "utf-7", "unicode_escape"]),
    path=st.sampled_from(
        [
            "/rooms/general/",
            "/rooms/general/messages/",
            "/api/rooms/general/messages/",
            "/api/rooms/general/messages/1/",
            "/rooms/",
            "/people/",
            "/search/",
            "/api/search/",
            "/accounts/login/",
            "/accounts/signup/",
            "/",
        ]
    ),
)
def test_any_query_in_any_declared_charset_never_5xx(
    htmx_client, room, params, charset, path
):
    # Django decodes a query string with the charset a Content-Type names,
    # even on a GET; some charsets can spell lone surrogates.
    codec = charset or "utf-8"
    query = urlencode(
        {
            key.encode(codec, "surrogatepass"): value.encode(codec, "surrogatepass")
            for key, value in params.items()
        }
    )
    extra = {"CONTENT_TYPE": f"text/plain; charset={charset}"} if charset else {}
    for client in (htmx_client, Client()):
        response = client.get(f"{path}?{query}", **extra)
        assert response.status_code < 500
        if codec != "utf-8":
            assert response.status_code == 400


@FUZZ
@given(
    # Up to 100,000 levels: deeper bodies outgrow the upload limit (a 400 too).
    depth=st.one_of(st.integers(1, 3_000), st.integers(3_000, 100_000)),
    nest=st.sampled_from([("[", "]"), ('{"a":', "}"), ('{"content": [', "]}")]),
)
def test_any_depth_of_json_is_400(auth_client, room, depth, nest):
    opening, closing = nest
    body = opening * depth + "1" + closing * depth
    before = Message.objects.count()
    response = auth_client.post(
        f"/api/rooms/{room.slug}/messages/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert Message.objects.count() == before


@FUZZ
@given(
    prefix=st.sampled_from(
        ["", "http://", "http://[", "http://[::1]", "http://testserver/", "//"]
    ),
    rest=st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40
    ),
    encoded=st.booleans(),
)
def test_any_current_url_header_gets_a_login_redirect(db, prefix, rest, encoded):
    headers = {"HX-Request": "true", "HX-Current-URL": prefix + rest}
    if encoded:  # htmx's flag for a URL it had to percent-encode
        headers["HX-Current-URL-URI-AutoEncoded"] = "true"
    response = Client(headers=headers).get("/rooms/")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")


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


@FUZZ
@given(text=ANY_TEXT)
def test_any_text_through_an_api_edit_is_stored_exactly_or_refused_with_400(
    auth_client, room, user, text
):
    message = services.message_create(room=room, author=user, content="first")
    body = json.dumps({"content": text})
    received = json.loads(body)["content"]
    before = Message.objects.get(pk=message.pk)
    response = auth_client.patch(
        f"/api/rooms/{room.slug}/messages/{message.pk}/",
        body,
        content_type="application/json",
    )
    stored = Message.objects.get(pk=message.pk)
    if acceptable(received):
        assert response.status_code == 200
        # An edit keeps the kind: "/me " is text here, not a command.
        assert stored.content == response.json()["content"] == normalise(received)
    else:
        assert response.status_code == 400
        assert response.json()["error"]
        assert (stored.content, stored.seq) == (before.content, before.seq)


# Any JSON value, the expected ones often.
JSON_VALUE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        any_text(20),
        st.sampled_from([value for value, _label in Reaction.Emoji.choices]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(any_text(10), inner, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(
    body=st.one_of(
        JSON_VALUE,
        st.fixed_dictionaries(
            {},
            optional={
                "content": JSON_VALUE,
                "emoji": JSON_VALUE,
                "reply_to": st.one_of(JSON_VALUE, st.integers(-2, 5)),
            },
        ),
    ),
    target=st.sampled_from(
        [
            ("POST", ""),
            ("PATCH", "{id}/"),
            ("POST", "{id}/"),
            ("POST", "{id}/reactions/"),
        ]
    ),
)
def test_any_json_body_to_the_write_endpoints_is_answered_4xx_or_done(
    auth_client, room, user, body, target
):
    message = services.message_create(room=room, author=user, content="first")
    method, tail = target
    url = f"/api/rooms/{room.slug}/messages/" + tail.format(id=message.pk)
    response = auth_client.generic(
        method, url, json.dumps(body), content_type="application/json"
    )
    assert response.status_code in (200, 201, 400)
    if response.status_code == 400:
        assert response.json()["error"]


# Search text: anything at all, and the engines' own syntax often.
SEARCH_SYNTAX = st.sampled_from(
    ['"', "*", " ", "'", ":", "(", ")", "-", "^", "+", "&", "|", "!", "<->", ":*",
     "\\", "{", "}", "NEAR", "AND", "OR", "NOT", "\x00", "\x02", "\x03", "é"]
)  # fmt: skip
SEARCH_TEXT = st.lists(
    st.one_of(ANY_CHARACTER, SEARCH_SYNTAX, st.sampled_from(["deploy", "notes"])),
    max_size=40,
).map("".join) | st.text(max_size=250)


@FUZZ
@given(text=SEARCH_TEXT)
def test_any_search_text_is_found_or_refused_with_a_reason(user, room, text):
    """No text makes an engine fail: message_search answers a page, or a
    ValidationError with the reason."""
    services.message_create(room=room, author=user, content="deploy the notes")
    try:
        page = search.message_search(user=user, query=text)
    except ValidationError as refusal:
        assert refusal.messages[0]
    else:
        for result in page.results:
            assert str(result.html).count("<mark>") == str(result.html).count("</mark>")


@FUZZ
@given(text=SEARCH_TEXT, before=st.one_of(st.none(), st.text(max_size=5)))
def test_any_search_through_the_page_is_200_or_400(htmx_client, room, text, before):
    params = {"q": text} if before is None else {"q": text, "before": before}
    raw = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in params.items()})
    response = htmx_client.get(f"/search/?{raw}")
    assert response.status_code in (200, 400)


CURSOR_FIELDS = ["after", "seq", "start", "newer", "before", "since"]


@FUZZ
@given(
    cursor=st.dictionaries(
        st.sampled_from(CURSOR_FIELDS),
        # Past the newest real one: just past it, far past, at and over 2**63.
        st.one_of(st.integers(1, 1000), st.integers(2**40, 2**63 + 2**62)).map(
            lambda beyond: ("past", beyond)
        ),
        min_size=1,
        max_size=4,
    ),
    path=st.sampled_from(["/rooms/general/messages/", "/api/rooms/general/messages/"]),
)
def test_any_cursor_past_the_newest_is_refused_or_bounded(
    htmx_client, room, other_user, cursor, path, settings
):
    """Every cursor field, above the room's newest id and change number:
    a 4xx, or an answer of at most one batch; never the room."""
    settings.CHAT_POLL_LIMIT = 3
    if not room.messages.exclude(kind="join").count():
        for n in range(8):
            services.message_create(room=room, author=other_user, content=f"m{n}")
    room.refresh_from_db()
    newest = max(room.messages.values_list("id", flat=True))
    params = {
        name: str(beyond + (newest if name != "seq" else room.seq))
        for name, (_past, beyond) in cursor.items()
    }
    response = htmx_client.get(path, params)
    assert response.status_code < 500
    if response.status_code < 300 and response.content:
        body = response.content.decode()
        drawn = (
            body.count('data-id="')
            if "/api/" not in path
            else (len(json.loads(body)["messages"]))
        )
        assert drawn <= max(settings.CHAT_POLL_LIMIT, settings.CHAT_PAGE_SIZE)


def integer_routes(
    entries=None, prefix: str = "", converters=None
) -> Iterator[tuple[str, list[str]]]:
    """Every URL pattern (its route) that takes an integer, and the names of
    its integer segments: those whose converter makes an int."""
    for entry in entries if entries is not None else get_resolver().url_patterns:
        found = {**(converters or {}), **getattr(entry.pattern, "converters", {})}
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from integer_routes(entry.url_patterns, route, found)
            continue
        numbers = [name for name, converter in found.items() if _makes_int(converter)]
        if numbers:
            yield route, numbers


def _makes_int(converter) -> bool:
    try:
        return isinstance(converter.to_python("1"), int)
    except ValueError:
        return False


def _url(route: str, numbers: list[str], number: int, room) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name in numbers:
            return str(number)
        return room.slug if name == "slug" else "x"

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


@pytest.mark.parametrize(
    "number", [2**63, 2**64, 10**29], ids=["2^63", "2^64", "30 digits"]
)
def test_an_integer_past_a_bigint_in_any_url_is_404(auth_client, room, number):
    """No row has such an id, and the database driver cannot hold it
    (OverflowError): every URL that takes one answers 404, never 500. The
    API's URLs take any number and answer their own JSON 404 (or 405 for a
    method the URL never takes, which is asked before the id)."""
    routes = list(integer_routes())
    assert len(routes) >= 10  # the messages, files and avatars URLs
    for route, numbers in routes:
        url = _url(route, numbers, number, room)
        resolve(_url(route, numbers, 2**63 - 1, room))  # the largest id matches
        for method in ("get", "post"):
            response = getattr(auth_client, method)(url)
            where = f"{method.upper()} {url}"
            if url.startswith("/api/") and response.status_code == 404:
                assert response.json()["error"], where
            elif url.startswith("/api/"):
                assert response.status_code == 405, where
            else:
                assert response.status_code == 404, where
