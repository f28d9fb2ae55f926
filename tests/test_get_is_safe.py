"""A GET only reads: every URL pattern of the project, asked with GET in the
ways a browser and htmx ask, changes no row in the database.

The one thing a GET may move is the reader's own read mark
(Membership.last_read_id): it records what the page showed them, only ever
forward, and for them alone. HEAD, a GET without the body, is answered as
the GET is, and writes no more."""

import os
import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLResolver, get_resolver

from accounts import services as accounts
from chat import services
from chat.models import Membership, Room
from tests.accounts.images import png_upload

pytestmark = pytest.mark.django_db


def patterns(resolvers=None, prefix=""):
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from patterns(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern)


def concrete(pattern: str, values: dict[str, str]) -> str:
    """A URL for the pattern, its parameters filled from `values`."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], pattern)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], path)
    return "/" + path.replace("^", "").replace("$", "")


def snapshot(reader) -> dict:
    rows = {}
    for model in apps.get_models():
        values = list(model.objects.order_by("pk").values())
        if model is Membership:
            for row in values:
                if row["user_id"] == reader.pk:
                    row.pop("last_read_id")
        rows[model._meta.label] = values
    return rows


@dataclass
class Site:
    """Every URL pattern filled in, the reader (alice, staff and superuser)
    and what to ask each URL with."""

    reader: object
    urls: list[str]
    files: list[str]  # an attachment and its thumbnail, served to alice

    def requests(self) -> list[str]:
        return [
            url + query
            for url in self.urls
            for query in (QUERIES if url.startswith(("/rooms/", "/api/")) else [""])
        ]

    def clients(self) -> list[Client]:
        plain, htmx = Client(), Client(headers={"HX-Request": "true"})
        for client in (plain, htmx):
            client.force_login(self.reader)
        return [plain, htmx, Client()]


QUERIES = [
    "",
    "?after=0",
    "?after=0&seq=0",
    "?before=999999",
    "?around=1",
    "?newer=0",
    "?t=x&after=0",
    "?reply_to=1",
    "?emoji=%F0%9F%91%8D",
]


@pytest.fixture
def site(user, make_user, make_messages) -> Site:
    alice = user
    alice.is_staff = alice.is_superuser = True
    alice.save()
    bob = make_user("bob")
    lobby = services.room_create(name="Lobby", created_by=bob)  # alice is no member
    said = make_messages(lobby, 3, author=bob)
    services.reaction_toggle(message=said[0], user=bob, emoji="👍")
    bobs = accounts.avatar_set(user=bob, upload=png_upload())
    # A picture sent under the avatar's file name: `name` then fits both
    # URLs (the thumbnail's is the same name, as WebP), and both serve.
    name = os.path.basename(bobs.avatar.name)
    picture = png_upload()
    picture.name = name
    sent = services.message_create(
        room=lobby, author=bob, content="", files=[picture]
    ).attachments.get()
    values = {
        "message_id": str(said[0].pk),
        "slug": lobby.slug,
        "username": "bob",  # no conversation with bob yet
        "object_id": str(lobby.pk),
        "content_type_id": str(ContentType.objects.get_for_model(Room).pk),
        "id": str(bob.pk),
        "user_id": str(bob.pk),  # his avatar
        "name": name,
        "attachment_id": str(sent.pk),
        "app_label": "chat",
        "url": "nowhere/",
        "pattern_template_name": "chat/partials/message.html",
    }
    # The pattern library is a designer's tool, served only in development,
    # and its render API takes POSTs alone.
    urls = [
        concrete(p, values) for p in patterns() if not p.startswith("pattern-library/")
    ]
    assert "/rooms/lobby/" in urls and "/dm/bob/" in urls
    files = [
        f"/rooms/lobby/files/{sent.pk}/{name}",
        f"/rooms/lobby/files/{sent.pk}/thumb/{name}",
    ]
    assert set(files) <= set(urls)
    return Site(reader=alice, urls=urls, files=files)


def test_no_get_changes_a_row(site):
    clients = site.clients()
    for url in site.files:
        assert clients[0].get(url).status_code == 200, url
    before = snapshot(site.reader)
    for request in site.requests():
        for client in clients:
            response = client.get(request)
            assert response.status_code < 500, request
            assert snapshot(site.reader) == before, f"GET {request} changed a row"
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()


def test_head_answers_as_get_does_and_changes_no_row(site):
    """HEAD is GET without the body (RFC 9110): every URL a GET reads
    answers HEAD with the same status and type, and it writes no more."""
    clients = site.clients()
    before = snapshot(site.reader)
    for request in site.requests():
        for client in clients:
            head = client.head(request)
            assert snapshot(site.reader) == before, f"HEAD {request} changed a row"
            get = client.get(request)
            assert (head.status_code == 405) == (get.status_code == 405), request
            # Django's admin login sends a signed-in GET on to the index, and
            # draws the form for any other method: not ours to change.
            if not request.startswith("/admin/login/"):
                assert head.status_code == get.status_code, request
                assert head.get("Content-Type") == get.get("Content-Type"), request
            body = head.streaming_content if head.streaming else [head.content]
            assert b"".join(body) == b"", request
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()
