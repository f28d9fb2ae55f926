"""The JSON API of messages that live: the `since` cursor over the room's
change numbers, and editing, deleting and reacting (docs/api.md)."""

import json
from datetime import datetime

import pytest
from django.test import Client

from chat import services
from chat.models import Message, Reaction, Room

pytestmark = pytest.mark.django_db


def log_url(room) -> str:
    return f"/api/rooms/{room.slug}/messages/"


def msg_url(room, message, tail: str = "") -> str:
    message_id = message if isinstance(message, int) else message.pk
    return f"{log_url(room)}{message_id}/{tail}"


def send_json(client, method: str, url: str, body, **kw):
    return client.generic(
        method, url, json.dumps(body), content_type="application/json", **kw
    )


def since(client, room, cursor: int) -> dict:
    response = client.get(log_url(room), {"since": cursor})
    assert response.status_code == 200
    return response.json()


def room_seq(room) -> int:
    return Room.objects.get(pk=room.pk).seq


@pytest.fixture
def bob_client(other_user, client_for):
    return client_for(other_user, htmx=False)


# --- The fields of a message -------------------------------------------------


def test_a_message_carries_its_version_and_state(
    auth_client, room, user, other_user, make_messages
):
    first = make_messages(room, 1)[0]
    reply = services.message_create(
        room=room, author=other_user, content="hi @alice", reply_to=first
    )
    services.reaction_toggle(message=first, user=other_user, emoji="🎉")
    services.reaction_toggle(message=first, user=user, emoji="👍")
    services.reaction_toggle(message=first, user=other_user, emoji="👍")
    services.message_edit(message=first, editor=user, content="message one")
    data = {m["id"]: m for m in auth_client.get(log_url(room)).json()["messages"]}
    got = data[first.pk]
    assert got["seq"] == Message.objects.get(pk=first.pk).seq
    assert datetime.fromisoformat(got["edited_at"]).utcoffset() is not None
    assert (got["content"], got["deleted"], got["reply_to"]) == (
        "message one",
        False,
        None,
    )
    # In the offered order (👍 before 🎉), each one's users oldest first.
    assert got["reactions"] == [
        {"emoji": "👍", "count": 2, "users": ["alice", "bob"]},
        {"emoji": "🎉", "count": 1, "users": ["bob"]},
    ]
    assert data[reply.pk]["reply_to"] == first.pk
    assert data[reply.pk]["mentions"] == ["alice"]
    assert data[reply.pk]["edited_at"] is None


def test_every_read_carries_the_rooms_change_number(auth_client, room, make_messages):
    make_messages(room, 3)
    seq = room_seq(room)
    assert auth_client.get(log_url(room)).json()["seq"] == seq
    assert auth_client.get(log_url(room), {"after": 0}).json()["seq"] == seq
    assert since(auth_client, room, 0)["seq"] == seq


# --- Catching up with `since` ------------------------------------------------


def test_since_brings_each_changed_message_once_in_its_final_state(
    auth_client, room, user, other_user, make_messages
):
    m = make_messages(room, 6)
    services.room_join(room=room, user=other_user)  # its notice: before
    cursor = auth_client.get(log_url(room)).json()["seq"]
    services.message_edit(message=m[0], editor=user, content="first draft")
    services.message_edit(message=m[0], editor=user, content="final text")
    services.message_delete(message=m[1], deleter=user)
    services.reaction_toggle(message=m[2], user=other_user, emoji="👍")
    services.reaction_toggle(message=m[2], user=user, emoji="❤️")
    services.reaction_toggle(message=m[2], user=other_user, emoji="👍")  # back
    new = services.message_create(room=room, author=other_user, content="new")
    reply = services.message_create(
        room=room, author=other_user, content="re", reply_to=m[2]
    )
    services.message_edit(message=reply, editor=other_user, content="re: yes")
    services.reaction_toggle(message=new, user=user, emoji="🎉")
    services.reaction_toggle(message=new, user=user, emoji="🎉")  # taken back

    data = since(auth_client, room, cursor)
    got = data["messages"]
    ids = [g["id"] for g in got]
    assert sorted(ids) == sorted({m[0].pk, m[1].pk, m[2].pk, new.pk, reply.pk})
    assert len(ids) == len(set(ids))  # each once
    by_id = {g["id"]: g for g in got}
    assert by_id[m[0].pk]["content"] == "final text"
    assert by_id[m[1].pk]["deleted"] and by_id[m[1].pk]["content"] == ""
    assert by_id[m[2].pk]["reactions"] == [
        {"emoji": "❤️", "count": 1, "users": ["alice"]}
    ]
    assert by_id[reply.pk]["content"] == "re: yes"
    assert by_id[reply.pk]["reply_to"] == m[2].pk
    assert by_id[new.pk]["reactions"] == []
    # Each as stored now, in change order: the order of their changes.
    for g in got:
        assert g["seq"] == Message.objects.get(pk=g["id"]).seq
    assert [g["seq"] for g in got] == sorted(g["seq"] for g in got)
    assert ids == [m[0].pk, m[1].pk, m[2].pk, reply.pk, new.pk]
    assert (data["seq"], data["more"]) == (room_seq(room), False)
    # Caught up: nothing more until the next change.
    assert since(auth_client, room, data["seq"])["messages"] == []
    services.message_edit(message=m[3], editor=user, content="later")
    again = since(auth_client, room, data["seq"])["messages"]
    assert [(g["id"], g["content"]) for g in again] == [(m[3].pk, "later")]


def test_since_zero_replays_the_room(auth_client, room, user, make_messages):
    m = make_messages(room, 3)
    services.message_delete(message=m[2], deleter=user)
    data = since(auth_client, room, 0)
    every = Message.objects.filter(room=room).order_by("seq")
    assert [g["id"] for g in data["messages"]] == [x.pk for x in every]
    assert data["messages"][-1]["deleted"] is True


def follow(client, room, cursor: int, between=None) -> tuple[list[dict], int]:
    """Every page from `cursor` on, as a client catching up reads them;
    `between(n)` runs after the n-th page (changes racing the catch-up)."""
    pages, n = [], 0
    while True:
        data = since(client, room, cursor)
        pages.append(data)
        cursor = data["seq"]
        n += 1
        if between:
            between(n)
        if not data["more"]:
            return pages, cursor


def test_the_cursor_hands_off_limited_pages_without_losing_a_change(
    auth_client, room, user, other_user, make_messages, settings
):
    settings.CHAT_POLL_LIMIT = 3
    m = make_messages(room, 4)
    start = room_seq(room)
    later = make_messages(room, 8, prefix="later")
    services.message_edit(message=m[0], editor=user, content="edited early")
    services.reaction_toggle(message=later[0], user=other_user, emoji="😮")

    def race(n: int) -> None:
        # Changes while the client is mid-way: one to a message it already
        # got, one to a message still ahead of it, one new.
        if n == 1:
            services.message_edit(message=later[1], editor=user, content="again")
            services.message_edit(message=later[7], editor=user, content="ahead")
            services.message_create(room=room, author=other_user, content="newer")

    pages, cursor = follow(auth_client, room, start, between=race)
    assert all(len(p["messages"]) <= 3 for p in pages)
    assert all(p["more"] for p in pages[:-1]) and len(pages) > 3
    received = [g for p in pages for g in p["messages"]]
    # Every version comes once, and the last one of each is the stored one.
    versions = [(g["id"], g["seq"]) for g in received]
    assert len(versions) == len(set(versions))
    final = {g["id"]: g for g in received}
    changed = Message.objects.filter(room=room, seq__gt=start)
    assert set(final) == {x.pk for x in changed}
    for x in changed:
        assert (final[x.pk]["seq"], final[x.pk]["content"]) == (x.seq, x.content)
    assert cursor == room_seq(room)


def test_a_limited_after_batch_hands_off_to_since_without_a_gap(
    auth_client, room, user, make_messages, settings
):
    settings.CHAT_POLL_LIMIT = 3
    m = make_messages(room, 7)
    services.message_edit(message=m[5], editor=user, content="edited")
    data = auth_client.get(log_url(room), {"after": 0}).json()
    assert [g["id"] for g in data["messages"]] == [x.pk for x in m[:3]]
    assert data["more"] is True
    pages, _cursor = follow(auth_client, room, data["seq"])
    rest = {g["id"]: g["content"] for p in pages for g in p["messages"]}
    assert {x.pk for x in m[3:]} <= set(rest)
    assert rest[m[5].pk] == "edited"


def test_an_after_batch_that_is_not_full_says_no_more(auth_client, room, make_messages):
    make_messages(room, 2)
    data = auth_client.get(log_url(room), {"after": 0}).json()
    assert (len(data["messages"]), data["more"]) == (2, False)


@pytest.mark.parametrize(
    "query",
    ["since=-1", "since=x", "since=1&since=2", "since=", "after=1&since=1"],
)
def test_a_bad_since_is_400(auth_client, room, query):
    response = auth_client.get(f"{log_url(room)}?{query}")
    assert response.status_code == 400
    assert "since" in response.json()["error"]


def test_since_beyond_the_rooms_number_is_400_and_says_how_to_recover(
    auth_client, room, make_messages
):
    make_messages(room, 2)
    response = auth_client.get(log_url(room), {"since": room_seq(room) + 1})
    assert response.status_code == 400
    assert "since=0" in response.json()["error"]
    assert auth_client.get(log_url(room), {"since": room_seq(room)}).status_code == 200


def test_since_is_rate_limited_like_polls(auth_client, room, settings, one_window):
    settings.CHAT_POLL_RATE = "2/m"
    codes = [auth_client.get(log_url(room), {"since": 0}).status_code for _ in "abc"]
    assert codes == [200, 200, 429]


# --- Access -------------------------------------------------------------------


@pytest.fixture
def den(user, make_messages):
    """Alice's private room, with a message of hers."""
    room = services.room_create(name="Den", created_by=user, is_private=True)
    return room, make_messages(room, 1)[0]


def test_an_outsider_gets_404_everywhere_in_a_private_room(den, make_user, client_for):
    room, message = den
    outsider = client_for(make_user("mallory"), htmx=False)
    before = Message.objects.get(pk=message.pk)
    answers = [
        outsider.get(log_url(room), {"since": 0}),
        outsider.get(msg_url(room, message)),
        send_json(outsider, "PATCH", msg_url(room, message), {"content": "x"}),
        outsider.delete(msg_url(room, message)),
        outsider.post(msg_url(room, message, "delete/")),
        send_json(
            outsider, "POST", msg_url(room, message, "reactions/"), {"emoji": "👍"}
        ),
    ]
    for response in answers:
        assert response.status_code == 404
        assert response.json() == {"error": "No such room."}
    after = Message.objects.get(pk=message.pk)
    assert (after.seq, after.content, after.deleted_at) == (
        before.seq,
        before.content,
        None,
    )
    assert not Reaction.objects.exists()


def test_visitors_get_401(room, make_messages):
    message = make_messages(room, 1)[0]
    client = Client()
    for response in [
        client.get(log_url(room), {"since": 0}),
        client.get(msg_url(room, message)),
        send_json(client, "PATCH", msg_url(room, message), {"content": "x"}),
        client.delete(msg_url(room, message)),
        send_json(
            client, "POST", msg_url(room, message, "reactions/"), {"emoji": "👍"}
        ),
    ]:
        assert response.status_code == 401
    assert Message.objects.get(pk=message.pk).content == "message 1"


def test_a_message_of_another_room_or_none_is_404(
    auth_client, room, make_room, make_messages
):
    elsewhere = make_messages(make_room("Elsewhere"), 1)[0]
    for message_id in (elsewhere.pk, 999_999, 2**63 - 1, 10**30):
        for response in [
            auth_client.get(msg_url(room, message_id)),
            send_json(
                auth_client, "PATCH", msg_url(room, message_id), {"content": "x"}
            ),
            auth_client.delete(msg_url(room, message_id)),
            send_json(
                auth_client,
                "POST",
                msg_url(room, message_id, "reactions/"),
                {"emoji": "👍"},
            ),
        ]:
            assert response.status_code == 404
            assert response.json() == {"error": "No such message."}
    assert Message.objects.get(pk=elsewhere.pk).content == "message 1"


def test_get_one_message(auth_client, room, make_messages):
    message = make_messages(room, 1)[0]
    response = auth_client.get(msg_url(room, message))
    assert response.status_code == 200
    assert response.json()["content"] == "message 1"


# --- Editing ------------------------------------------------------------------


def test_editing_ones_own_message(auth_client, room, make_messages):
    message = make_messages(room, 1)[0]
    response = send_json(
        auth_client, "PATCH", msg_url(room, message), {"content": " fixed @alice "}
    )
    assert response.status_code == 200
    data = response.json()
    stored = Message.objects.get(pk=message.pk)
    assert stored.content == data["content"] == "fixed @alice"
    assert data["mentions"] == ["alice"] and data["edited_at"]
    assert data["seq"] == stored.seq == room_seq(room) > message.seq


def test_editing_by_form_post(auth_client, room, make_messages):
    message = make_messages(room, 1)[0]
    response = auth_client.post(msg_url(room, message), {"content": "by form"})
    assert response.status_code == 200
    assert Message.objects.get(pk=message.pk).content == "by form"
    response = auth_client.patch(
        msg_url(room, message),
        "content=patched+form",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Message.objects.get(pk=message.pk).content == "patched form"


def test_editing_someone_elses_message_is_403_with_the_reason(
    room, bob_client, make_messages
):
    message = make_messages(room, 1)[0]
    response = send_json(bob_client, "PATCH", msg_url(room, message), {"content": "x"})
    assert response.status_code == 403
    assert response.json() == {"error": "You can only edit your own messages."}
    assert Message.objects.get(pk=message.pk).content == "message 1"


def test_a_notice_or_a_deleted_message_cannot_be_edited(
    auth_client, room, user, make_messages
):
    notice = services.system_notice_create(room=room, text="hello")
    gone = make_messages(room, 1)[0]
    services.message_delete(message=gone, deleter=user)
    for message, reason in [
        (notice, "You can only edit your own messages."),
        (gone, "This message was deleted."),
    ]:
        response = send_json(
            auth_client, "PATCH", msg_url(room, message), {"content": "x"}
        )
        assert (response.status_code, response.json()["error"]) == (403, reason)


def test_an_edit_outside_the_window_is_403(auth_client, room, make_messages, settings):
    message = make_messages(room, 1)[0]
    settings.CHAT_EDIT_WINDOW = 0
    response = send_json(auth_client, "PATCH", msg_url(room, message), {"content": "x"})
    assert response.status_code == 403 and "minutes" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [{"content": ""}, {"content": "  "}, {}, {"content": 5}, {"content": None}, ["x"]],
)
def test_a_bad_edit_is_400(auth_client, room, make_messages, body):
    message = make_messages(room, 1)[0]
    response = send_json(auth_client, "PATCH", msg_url(room, message), body)
    assert response.status_code == 400 and response.json()["error"]
    assert Message.objects.get(pk=message.pk).seq == message.seq


# --- Deleting -----------------------------------------------------------------


def test_deleting_ones_own_message_leaves_a_tombstone(
    room, other_user, bob_client, user
):
    message = services.message_create(room=room, author=other_user, content="oops")
    services.reaction_toggle(message=message, user=user, emoji="👍")
    response = bob_client.delete(msg_url(room, message))
    assert response.status_code == 200
    data = response.json()
    assert (data["deleted"], data["content"], data["reactions"]) == (True, "", [])
    stored = Message.objects.get(pk=message.pk)
    assert stored.deleted_at and stored.deleted_by == other_user
    assert data["seq"] == stored.seq == room_seq(room)


def test_deleting_by_post_to_delete(room, other_user, bob_client):
    message = services.message_create(room=room, author=other_user, content="oops")
    assert bob_client.post(msg_url(room, message, "delete/")).status_code == 200
    assert Message.objects.get(pk=message.pk).deleted_at


def test_deleting_someone_elses_message_is_403(room, bob_client, make_messages):
    message = make_messages(room, 1)[0]  # alice's
    response = bob_client.delete(msg_url(room, message))
    assert response.status_code == 403
    assert response.json() == {"error": "You can only delete your own messages."}
    assert not Message.objects.get(pk=message.pk).deleted_at


def test_the_rooms_creator_and_staff_may_delete_anyones_message(
    room, auth_client, other_user, make_user, client_for
):
    # alice created the room.
    first = services.message_create(room=room, author=other_user, content="a")
    second = services.message_create(room=room, author=other_user, content="b")
    assert auth_client.delete(msg_url(room, first)).status_code == 200
    staff = make_user("carol")
    staff.is_staff = True
    staff.save()
    assert (
        client_for(staff, htmx=False).delete(msg_url(room, second)).status_code == 200
    )
    assert Message.objects.filter(deleted_at__isnull=False).count() == 2


def test_deleting_twice_is_403(auth_client, room, make_messages):
    message = make_messages(room, 1)[0]
    assert auth_client.delete(msg_url(room, message)).status_code == 200
    response = auth_client.delete(msg_url(room, message))
    assert response.status_code == 403
    assert response.json() == {"error": "This message was already deleted."}


# --- Reactions ----------------------------------------------------------------


def react(client, room, message, emoji):
    return send_json(
        client, "POST", msg_url(room, message, "reactions/"), {"emoji": emoji}
    )


def test_a_reaction_toggles_and_answers_the_counts(
    auth_client, bob_client, room, make_messages
):
    message = make_messages(room, 1)[0]
    first = react(auth_client, room, message, "👍")
    assert first.status_code == 200
    assert first.json()["added"] is True
    second = react(bob_client, room, message, "👍").json()
    assert second["message"]["reactions"] == [
        {"emoji": "👍", "count": 2, "users": ["alice", "bob"]}
    ]
    assert second["message"]["seq"] == room_seq(room)
    undo = react(auth_client, room, message, "👍").json()
    assert undo["added"] is False
    assert undo["message"]["reactions"] == [
        {"emoji": "👍", "count": 1, "users": ["bob"]}
    ]
    assert list(Reaction.objects.values_list("user__username", flat=True)) == ["bob"]


def test_a_reaction_by_form_post(auth_client, room, make_messages):
    message = make_messages(room, 1)[0]
    response = auth_client.post(msg_url(room, message, "reactions/"), {"emoji": "🙏"})
    assert response.status_code == 200 and response.json()["added"] is True


@pytest.mark.parametrize("emoji", ["", "x", "❤", "👍👍", "\U0001f44e", None, 1, ["👍"]])
def test_an_unknown_emoji_is_400(auth_client, room, make_messages, emoji):
    message = make_messages(room, 1)[0]
    response = react(auth_client, room, message, emoji)
    assert response.status_code == 400 and response.json()["error"]
    assert not Reaction.objects.exists()


def test_no_reaction_to_a_deleted_message_or_a_notice(
    auth_client, room, user, make_messages
):
    gone = make_messages(room, 1)[0]
    services.message_delete(message=gone, deleter=user)
    notice = services.system_notice_create(room=room, text="hello")
    for message, reason in [
        (gone, "This message was deleted."),
        (notice, "Notices take no reactions."),
    ]:
        response = react(auth_client, room, message, "👍")
        assert (response.status_code, response.json()["error"]) == (403, reason)
    assert not Reaction.objects.exists()


# --- Replies ------------------------------------------------------------------


def test_a_reply_names_the_message_it_answers(auth_client, room, make_messages):
    first = make_messages(room, 1)[0]
    response = send_json(
        auth_client, "POST", log_url(room), {"content": "yes", "reply_to": first.pk}
    )
    assert response.status_code == 201
    assert response.json()["reply_to"] == first.pk
    assert Message.objects.get(pk=response.json()["id"]).reply_to == first
    form = auth_client.post(log_url(room), {"content": "too", "reply_to": first.pk})
    assert form.status_code == 201 and form.json()["reply_to"] == first.pk


def test_reply_to_null_is_no_reply(auth_client, room):
    response = send_json(
        auth_client, "POST", log_url(room), {"content": "x", "reply_to": None}
    )
    assert response.status_code == 201 and response.json()["reply_to"] is None


@pytest.mark.parametrize(
    "reply_to", ["other room", 999_999, 0, -1, 2**64, "1", True, 1.5, [1]]
)
def test_a_bad_reply_to_is_400(auth_client, room, make_room, make_messages, reply_to):
    elsewhere = make_messages(make_room("Elsewhere"), 1)[0]
    if reply_to == "other room":
        reply_to = elsewhere.pk
    before = Message.objects.count()
    response = send_json(
        auth_client, "POST", log_url(room), {"content": "x", "reply_to": reply_to}
    )
    assert response.status_code == 400 and response.json()["error"]
    assert Message.objects.count() == before


def test_a_reply_to_a_message_of_another_room_by_form_is_400(
    auth_client, room, make_room, make_messages
):
    elsewhere = make_messages(make_room("Elsewhere"), 1)[0]
    response = auth_client.post(
        log_url(room), {"content": "x", "reply_to": elsewhere.pk}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Reply to a message of this room."}


# --- CSRF, rate limits, methods -----------------------------------------------


def test_csrf_is_enforced_on_every_write(user, room, make_messages):
    message = make_messages(room, 1)[0]
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    writes = [
        ("PATCH", msg_url(room, message), {"content": "x"}),
        ("POST", msg_url(room, message), {"content": "x"}),
        ("POST", msg_url(room, message, "reactions/"), {"emoji": "👍"}),
        ("POST", msg_url(room, message, "delete/"), {}),
        ("DELETE", msg_url(room, message), {}),
    ]
    for method, url, body in writes:
        assert send_json(client, method, url, body).status_code == 403
    assert Message.objects.get(pk=message.pk).seq == message.seq
    client.get(f"/rooms/{room.slug}/")
    token = {"X-CSRFToken": client.cookies["csrftoken"].value}
    for method, url, body in writes[:3]:
        assert send_json(client, method, url, body, headers=token).status_code == 200
    assert client.delete(msg_url(room, message), headers=token).status_code == 200


def test_every_write_counts_against_the_send_limit(
    auth_client, room, make_messages, settings, one_window
):
    message = make_messages(room, 1)[0]
    settings.CHAT_SEND_RATE = "3/m"
    codes = [
        send_json(auth_client, "POST", log_url(room), {"content": "one"}).status_code,
        react(auth_client, room, message, "👍").status_code,
        send_json(
            auth_client, "PATCH", msg_url(room, message), {"content": "e"}
        ).status_code,
        send_json(
            auth_client, "PATCH", msg_url(room, message), {"content": "f"}
        ).status_code,
        react(auth_client, room, message, "🎉").status_code,
        auth_client.delete(msg_url(room, message)).status_code,
    ]
    assert codes == [201, 200, 200, 429, 429, 429]
    stored = Message.objects.get(pk=message.pk)
    assert (stored.content, stored.deleted_at) == ("e", None)


def test_wrong_methods_are_405(auth_client, room, make_messages):
    message = make_messages(room, 1)[0]
    assert auth_client.put(msg_url(room, message)).status_code == 405
    assert auth_client.get(msg_url(room, message, "reactions/")).status_code == 405
    assert auth_client.get(msg_url(room, message, "delete/")).status_code == 405
    assert auth_client.delete(msg_url(room, message, "delete/")).status_code == 405


def test_a_change_racing_the_read_comes_with_the_next_call_once(
    auth_client, room, user, make_messages, monkeypatch
):
    from chat import api, selectors

    m = make_messages(room, 3)
    start = room_seq(room)
    real_room_get = selectors.room_get

    def racing_room_get(**kwargs):
        # The room (and its change number) is read; then, before the
        # messages are, another request edits one.
        read = real_room_get(**kwargs)
        services.message_edit(message=m[1], editor=user, content="raced")
        return read

    monkeypatch.setattr(api.selectors, "room_get", racing_room_get)
    first = since(auth_client, room, start - 1)  # m[2]'s creation is after it
    monkeypatch.setattr(api.selectors, "room_get", real_room_get)
    assert first["seq"] == start
    assert [g["id"] for g in first["messages"]] == [m[2].pk]
    second = since(auth_client, room, first["seq"])
    assert [(g["id"], g["content"]) for g in second["messages"]] == [(m[1].pk, "raced")]
