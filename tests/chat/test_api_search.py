"""GET /api/search/ (chat.api.search): the search page's results as JSON,
under the API's rules (401, 404, 400 with the reason, the poll limit)."""

import pytest

from tests.chat.helpers import say

pytestmark = pytest.mark.django_db

URL = "/api/search/"


def test_results_newest_first_with_their_room_and_highlight(
    auth_client, room, user, make_room
):
    other = make_room("Other")
    first = say(room, user, "deploy <b>now</b>")
    second = say(other, user, "deployed")
    body = auth_client.get(URL, {"q": "deploy"}).json()
    assert [r["id"] for r in body["results"]] == [second.pk, first.pk]
    assert body["results"][1]["room"] == "general"
    assert (
        body["results"][1]["highlight"] == "<mark>deploy</mark> &lt;b&gt;now&lt;/b&gt;"
    )
    assert body["results"][1]["content"] == "deploy <b>now</b>"
    assert body["older"] is None
    scoped = auth_client.get(URL, {"q": "deploy", "room": other.slug}).json()
    assert [r["id"] for r in scoped["results"]] == [second.pk]


def test_pages_follow_older(auth_client, room, make_messages):
    messages = make_messages(room, 25, prefix="paged")
    newest = [m.pk for m in reversed(messages)]
    first = auth_client.get(URL, {"q": "paged"}).json()
    assert [r["id"] for r in first["results"]] == newest[:20]
    rest = auth_client.get(URL, {"q": "paged", "before": first["older"]}).json()
    assert [r["id"] for r in rest["results"]] == newest[20:]
    assert rest["older"] is None


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"q": '"open'}, "quote is not closed"),
        ({"q": "!!"}, "Type a word"),
        ({}, "Type a word"),
        ({"q": "ok", "before": "-3"}, "'before'"),
    ],
)
def test_a_refused_query_is_a_400_with_the_reason(auth_client, room, params, reason):
    response = auth_client.get(URL, params)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_who_may_search_what(client, client_for, make_user, inner_room):
    say(inner_room.room, inner_room.member, "secret")
    assert client.get(URL, {"q": "secret"}).status_code == 401
    outsider = client_for(make_user("carol"), htmx=False)
    assert outsider.get(URL, {"q": "secret"}).json()["results"] == []
    response = outsider.get(URL, {"q": "secret", "room": inner_room.room.slug})
    assert response.status_code == 404
    member = client_for(inner_room.member, htmx=False)
    assert len(member.get(URL, {"q": "secret"}).json()["results"]) == 1


def test_a_search_counts_against_the_poll_limit(
    auth_client, room, settings, one_window
):
    settings.CHAT_POLL_RATE = "2/m"
    assert auth_client.get(URL, {"q": "a1"}).status_code == 200
    assert auth_client.get(URL, {"q": "a1"}).status_code == 200
    assert auth_client.get(URL, {"q": "a1"}).status_code == 429


def test_only_get(auth_client):
    assert auth_client.post(URL, {"q": "x"}).status_code == 405
