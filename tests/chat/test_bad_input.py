"""Bad input gets a clear 4xx, never a 500, and never touches stored data."""

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from chat.forms import MemberForm, MessageForm, RoomForm
from chat.models import Message, Room
from tests.accounts.images import png_upload
from tests.conftest import PASSWORD

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


def api_post(client, room, body: str):
    return client.post(
        f"/api/rooms/{room.slug}/messages/", body, content_type="application/json"
    )


@pytest.mark.parametrize(
    "escaped", ["\\ud800", "a \\udfff b", "\\udc00\\ud800", "ok \\ud83d"]
)
def test_lone_surrogates_in_api_json_are_400_and_store_nothing(
    auth_client, room, escaped
):
    # JSON's \\u escapes can name half a surrogate pair; the database cannot
    # store one.
    response = api_post(auth_client, room, f'{{"content": "{escaped}"}}')
    assert response.status_code == 400
    assert "surrogate" in response.json()["error"]
    assert not Message.objects.exists()


def test_a_surrogate_pair_in_api_json_is_one_character(auth_client, room):
    response = api_post(auth_client, room, '{"content": "\\ud83d\\ude00"}')
    assert response.status_code == 201
    assert Message.objects.get().content == "\U0001f600"


@pytest.mark.parametrize(
    "form_class, field",
    [(MessageForm, "content"), (RoomForm, "name"), (MemberForm, "username")],
)
def test_every_text_field_refuses_lone_surrogates(form_class, field):
    form = form_class({field: "a\ud800b"})
    assert not form.is_valid()
    assert "surrogate" in " ".join(form.errors[field])
    # The refused value is shown back in the form: it must encode.
    form[field].value().encode()


def multipart(fields: dict[str, str], charset: str) -> tuple[bytes, str]:
    """A multipart body in `charset`, saying so: Django decodes it with that."""
    parts = [
        f'--b0undary\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode(charset, "surrogatepass")
        + b"\r\n"
        for name, value in fields.items()
    ]
    body = b"".join(parts) + b"--b0undary--\r\n"
    return body, f"multipart/form-data; boundary=b0undary; charset={charset}"


@pytest.mark.parametrize("charset", ["utf-7", "unicode_escape"])
@pytest.mark.parametrize(
    "url, fields",
    [
        ("/rooms/general/messages/", {"content": "\ud800"}),
        ("/api/rooms/general/messages/", {"content": "\ud800"}),
        ("/rooms/", {"name": "\ud800"}),
        ("/rooms/inner/members/", {"username": "\ud800"}),
        ("/accounts/logout/", {"next": "/\ud800"}),
    ],
)
def test_a_form_in_another_charset_than_utf8_is_400(
    auth_client, room, inner_room, url, fields, charset
):
    # A lone surrogate, or anything at all, decoded from another charset
    # never reaches a form, the database or a page.
    rooms, members = Room.objects.count(), inner_room.room.members.count()
    body, content_type = multipart(fields, charset)
    response = auth_client.generic("POST", url, body, content_type=content_type)
    assert response.status_code == 400
    assert b"UTF-8" in response.content
    assert not Message.objects.filter(kind="message").exists()
    assert Room.objects.count() == rooms
    assert inner_room.room.members.count() == members


@pytest.mark.parametrize("charset", ["utf-7", "unicode_escape"])
def test_login_and_signup_in_another_charset_than_utf8_are_400(db, charset):
    for url, fields in [
        ("/accounts/login/", {"username": "a\ud800", "password": "x\ud800"}),
        (
            "/accounts/signup/",
            {"username": "a\ud800", "password1": "\ud800" * 12, "password2": "x"},
        ),
    ]:
        body, content_type = multipart(fields, charset)
        response = Client().generic("POST", url, body, content_type=content_type)
        assert response.status_code == 400
    assert not get_user_model().objects.exists()


def test_a_query_string_in_another_charset_than_utf8_is_400(db):
    # "+2AA-" is a lone surrogate in UTF-7: a login page would echo it back.
    response = Client().get(
        "/accounts/login/?next=/%2B2AA-", CONTENT_TYPE="text/plain; charset=utf-7"
    )
    assert response.status_code == 400
    assert b"UTF-8" in response.content


def test_a_form_in_latin1_is_400(auth_client, room):
    body, content_type = multipart({"content": "caf\u00e9"}, "latin-1")
    url = f"/rooms/{room.slug}/messages/"
    response = auth_client.generic("POST", url, body, content_type=content_type)
    assert response.status_code == 400
    assert not Message.objects.exists()


@pytest.mark.parametrize("charset", ["UTF-8", "utf8", "utf_8", "us-ascii"])
def test_utf8_by_any_name_is_accepted(auth_client, room, charset):
    body, content_type = multipart({"content": "plain text"}, charset)
    url = f"/rooms/{room.slug}/messages/"
    response = auth_client.generic("POST", url, body, content_type=content_type)
    assert response.status_code == 303
    assert Message.objects.get(kind="message").content == "plain text"


# Text no UTF-8 encoder writes, percent-escaped as a form or query string
# carries it (the last one raw).
NOT_UTF8 = [
    b"%FF%FE",  # bytes UTF-8 never uses
    b"caf%E9",  # Latin-1
    b"%C3",  # the first half of a character
    b"%ED%A0%80",  # a lone surrogate, spelt as UTF-8 would
    b"caf\xe9",  # not even escaped
]
# U+FFFD itself is text like any other, sent as such.
UTF8_TEXT = "café \ufffd 😀"
FORM = "application/x-www-form-urlencoded"


def utf8_refusal(response) -> None:
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert b"not valid UTF-8" in response.content


@pytest.mark.parametrize("value", NOT_UTF8)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_form_that_is_not_utf8_is_400_not_replacement_characters(
    client_for, user, room, value, htmx
):
    """A browser sends its forms in UTF-8: anything else would be stored
    with U+FFFD in place of what was meant."""
    client, url = client_for(user, htmx=htmx), f"/rooms/{room.slug}/messages/"
    sent = client.generic("POST", url, f"content={quote(UTF8_TEXT)}", FORM)
    assert sent.status_code == (200 if htmx else 303)
    utf8_refusal(client.generic("POST", url, b"content=" + value, FORM))
    assert [m.content for m in Message.objects.filter(kind="message")] == [UTF8_TEXT]


@pytest.mark.parametrize("value", NOT_UTF8)
def test_an_api_form_that_is_not_utf8_is_400_in_json(auth_client, room, value):
    url = f"/api/rooms/{room.slug}/messages/"
    sent = auth_client.generic("POST", url, f"content={quote(UTF8_TEXT)}", FORM)
    assert sent.status_code == 201
    response = auth_client.generic("POST", url, b"content=" + value, FORM)
    assert response.status_code == 400
    assert "not valid UTF-8" in response.json()["error"]
    assert [m.content for m in Message.objects.filter(kind="message")] == [UTF8_TEXT]


@pytest.mark.parametrize("value", NOT_UTF8)
def test_a_login_form_that_is_not_utf8_is_400(user, value):
    url = "/accounts/login/"
    for body in (
        b"username=" + value + b"&password=x",
        b"username=a&password=" + value,
    ):
        utf8_refusal(Client().generic("POST", url, body, FORM))
    spanish = Client(headers={"Accept-Language": "es"})
    response = spanish.generic("POST", url, b"username=" + value, FORM)
    assert "no es UTF-8 válido" in response.content.decode()
    password = quote(PASSWORD)
    response = Client().generic(
        "POST", url, f"username=alice&password={password}", FORM
    )
    assert response.status_code == 302  # logged in


def raw_multipart(fields: dict[str, bytes]) -> tuple[bytes, str]:
    """A multipart body of these bytes, as they are; the field "files" is a
    file (named p.png)."""
    parts = []
    for name, value in fields.items():
        disposition = f'form-data; name="{name}"'
        if name == "files":
            disposition += '; filename="p.png"'
        head = f"--b0undary\r\nContent-Disposition: {disposition}\r\n\r\n"
        parts.append(head.encode() + value + b"\r\n")
    body = b"".join(parts) + b"--b0undary--\r\n"
    return body, "multipart/form-data; boundary=b0undary"


@pytest.mark.parametrize("value", [b"\xff\xfe", b"caf\xe9", b"\xc3", b"\xed\xa0\x80"])
def test_a_multipart_text_field_that_is_not_utf8_is_400_and_files_stay_bytes(
    htmx_client, room, value
):
    url = f"/rooms/{room.slug}/messages/"
    # A file's content is bytes, not text: it is taken as it comes.
    picture = png_upload().read()
    with pytest.raises(UnicodeDecodeError):
        picture.decode()
    body, content_type = raw_multipart(
        {"content": UTF8_TEXT.encode(), "files": picture}
    )
    assert htmx_client.generic("POST", url, body, content_type).status_code == 200
    sent = Message.objects.get()
    assert (sent.content, sent.attachments.count()) == (UTF8_TEXT, 1)
    # A text field's must be text.
    body, content_type = raw_multipart({"content": value, "files": picture})
    utf8_refusal(htmx_client.generic("POST", url, body, content_type))
    assert Message.objects.count() == 1


@pytest.mark.parametrize("value", NOT_UTF8)
def test_a_query_string_that_is_not_utf8_is_400(auth_client, room, value):
    """GET forms too: the search page's `q`, the login page's `next`."""
    assert auth_client.get(f"/search/?q={quote(UTF8_TEXT)}").status_code == 200
    # As WSGI hands it over: each byte a character.
    raw = value.decode("latin-1")
    utf8_refusal(auth_client.get("/search/", QUERY_STRING=f"q={raw}"))
    utf8_refusal(Client().get("/accounts/login/", QUERY_STRING=f"next=/{raw}"))


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"content": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"a":' * 100_000 + "1" + "}" * 100_000,
    ],
)
def test_deeply_nested_json_is_400_and_stores_nothing(auth_client, room, body):
    response = api_post(auth_client, room, body)
    assert response.status_code == 400
    assert response.json()["error"] == "The body is not valid JSON."
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"HX-Current-URL": "http://[::1"},
        {"HX-Current-URL": "http://["},
        # Unquoted, FULLWIDTH SOLIDUS: a "/" in the host once NFKC-normalised.
        {
            "HX-Current-URL": "http://a%EF%BC%8Fb/",
            "HX-Current-URL-URI-AutoEncoded": "true",
        },
    ],
)
def test_a_malformed_current_url_is_treated_as_absent(anon_htmx_client, db, headers):
    response = anon_htmx_client.get("/rooms/", headers=headers)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=%2F"
    assert anon_htmx_client.get("/rooms/")["HX-Redirect"] == response["HX-Redirect"]


# --- The API's message endpoints: edit, delete, react --------------------------


@pytest.fixture
def said(room, user):
    from chat import services

    return services.message_create(room=room, author=user, content="said")


def unchanged(message) -> bool:
    stored = Message.objects.get(pk=message.pk)
    return (stored.content, stored.seq, stored.deleted_at) == (
        message.content,
        message.seq,
        None,
    ) and not stored.reactions.exists()


@pytest.mark.parametrize(
    "method, tail, body, content_type",
    [
        # Not JSON, or not an object.
        ("PATCH", "", "{nope", "application/json"),
        ("PATCH", "", "[1]", "application/json"),
        ("PATCH", "", '"text"', "application/json"),
        ("PATCH", "", b"\xff\xfe{", "application/json"),
        ("POST", "reactions/", "{nope", "application/json"),
        ("POST", "reactions/", "null", "application/json"),
        # Wrong types.
        ("PATCH", "", '{"content": ["x"]}', "application/json"),
        ("PATCH", "", '{"content": {"a": 1}}', "application/json"),
        ("POST", "reactions/", '{"emoji": 128077}', "application/json"),
        ("POST", "reactions/", '{"emoji": ["👍"]}', "application/json"),
        # Lone surrogates, control characters, blank, too long.
        ("PATCH", "", '{"content": "\\ud800"}', "application/json"),
        ("PATCH", "", '{"content": "a\\u0000b"}', "application/json"),
        ("PATCH", "", '{"content": " \\n "}', "application/json"),
        ("PATCH", "", '{"content": "/me"}', "application/json"),
        ("PATCH", "", '{"content": "' + "x" * 4001 + '"}', "application/json"),
        ("POST", "reactions/", '{"emoji": "\\ud83d"}', "application/json"),
        ("POST", "reactions/", '{"emoji": "\\ud83d\\udc4e"}', "application/json"),
        # A body PATCH cannot be read as: only JSON or a form.
        ("PATCH", "", "content=x", "text/plain"),
        ("PATCH", "", "content=x", "application/octet-stream"),
        # Forms: blank, or a control character.
        ("POST", "", "content=", "application/x-www-form-urlencoded"),
        ("PATCH", "", "content=%07", "application/x-www-form-urlencoded"),
        ("POST", "reactions/", "emoji=%F0%9F%91", "application/x-www-form-urlencoded"),
    ],
)
def test_bad_input_to_the_api_message_endpoints_is_400_and_changes_nothing(
    auth_client, room, said, method, tail, body, content_type
):
    url = f"/api/rooms/{room.slug}/messages/{said.pk}/{tail}"
    response = auth_client.generic(method, url, body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["error"]
    assert unchanged(said)


@pytest.mark.parametrize("tail", ["", "reactions/"])
def test_deeply_nested_json_to_the_api_message_endpoints_is_400(
    auth_client, room, said, tail
):
    url = f"/api/rooms/{room.slug}/messages/{said.pk}/{tail}"
    body = '{"a":' * 100_000 + "1" + "}" * 100_000
    for method in ("PATCH", "POST") if not tail else ("POST",):
        response = auth_client.generic(
            method, url, body, content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json()["error"] == "The body is not valid JSON."
    assert unchanged(said)


@pytest.mark.parametrize("charset", ["utf-7", "unicode_escape"])
@pytest.mark.parametrize(
    "tail, fields", [("", {"content": "\ud800"}), ("reactions/", {"emoji": "\ud800"})]
)
def test_api_message_forms_in_another_charset_than_utf8_are_400(
    auth_client, room, said, tail, fields, charset
):
    body, content_type = multipart(fields, charset)
    url = f"/api/rooms/{room.slug}/messages/{said.pk}/{tail}"
    response = auth_client.generic("POST", url, body, content_type=content_type)
    assert response.status_code == 400
    assert unchanged(said)


@pytest.mark.parametrize(
    "path", ["99999999999999999999999/", "0/", "-1/", "x/", "1.5/", "%00/"]
)
def test_odd_message_ids_in_api_urls_are_404(auth_client, room, said, path):
    url = f"/api/rooms/{room.slug}/messages/{path}"
    for method in ("GET", "PATCH", "POST", "DELETE"):
        assert auth_client.generic(method, url).status_code == 404
    assert unchanged(said)
