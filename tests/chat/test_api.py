import json
from datetime import datetime

import pytest
from django.test import Client

from chat import services
from chat.models import Message

pytestmark = pytest.mark.django_db


def url(room) -> str:
    return f"/api/rooms/{room.slug}/messages/"


def post_json(client, room, body, **kw):
    return client.post(
        url(room), json.dumps(body), content_type="application/json", **kw
    )


def test_get_after_returns_messages_in_order_with_the_documented_fields(
    auth_client, room, make_messages
):
    msgs = make_messages(room, 4)
    response = auth_client.get(url(room), {"after": msgs[1].id})
    assert response.status_code == 200
    data = response.json()["messages"]
    assert [m["id"] for m in data] == [msgs[2].id, msgs[3].id]
    first = data[0]
    assert {"id", "content", "username", "date", "created_at"} <= set(first)
    assert first["content"] == "message 3" and first["username"] == "alice"
    created = datetime.fromisoformat(first["created_at"])
    assert created.utcoffset() is not None
    assert first["date"] == created.strftime("%H:%M:%S")


def test_get_without_after_returns_the_latest_page(auth_client, room, make_messages):
    msgs = make_messages(room, 30)
    data = auth_client.get(url(room)).json()["messages"]
    assert [m["id"] for m in data] == [m.id for m in msgs[-25:]]


def test_post_creates_and_returns_201(auth_client, room, user):
    response = post_json(auth_client, room, {"content": "from the app"})
    assert response.status_code == 201
    msg = Message.objects.get()
    assert response.json()["id"] == msg.id
    assert (msg.content, msg.user) == ("from the app", user)


def test_post_form_encoded_also_works(auth_client, room):
    assert auth_client.post(url(room), {"content": "form"}).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"content": ""},
        {"content": "   "},
        {"content": "x" * 4001},
        {"content": 5},
        [],
        {},
    ],
)
def test_bad_content_is_400_with_an_error(auth_client, room, body):
    response = post_json(auth_client, room, body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Message.objects.exists()


def test_invalid_json_is_400(auth_client, room):
    response = auth_client.post(url(room), "{nope", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


@pytest.mark.parametrize("query", ["after=-1", "after=x", "after=1&after=2"])
def test_bad_cursor_is_400(auth_client, room, query):
    response = auth_client.get(f"{url(room)}?{query}")
    assert response.status_code == 400 and response.json()["error"]


def test_anonymous_gets_401_json(room):
    client = Client()
    assert client.get(url(room)).status_code == 401
    assert post_json(client, room, {"content": "x"}).status_code == 401
    assert not Message.objects.exists()


def test_non_member_gets_404_json(user, client_for, make_user):
    room = services.room_create(name="Den", created_by=user, is_private=True)
    client = client_for(make_user("mallory"), htmx=False)
    assert client.get(url(room)).status_code == 404
    response = post_json(client, room, {"content": "x"})
    assert response.status_code == 404 and response.json() == {"error": "No such room."}
    assert not Message.objects.exists()


def test_csrf_is_enforced_for_session_clients(user, room):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert post_json(client, room, {"content": "x"}).status_code == 403
    client.get(f"/rooms/{room.slug}/")
    token = client.cookies["csrftoken"].value
    response = post_json(client, room, {"content": "x"}, headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_send_limit_applies(auth_client, room, settings, one_window):
    settings.CHAT_SEND_RATE = "2/m"
    codes = [
        post_json(auth_client, room, {"content": f"m{i}"}).status_code for i in range(3)
    ]
    assert codes == [201, 201, 429]
    assert Message.objects.count() == 2


def test_json_is_inert_for_hostile_content(auth_client, room):
    post_json(auth_client, room, {"content": "<script>alert(1)</script>"})
    response = auth_client.get(url(room))
    assert response["Content-Type"] == "application/json"
    assert response.json()["messages"][0]["content"] == "<script>alert(1)</script>"


def test_wrong_method_is_405(auth_client, room):
    assert auth_client.delete(url(room)).status_code == 405
