import pytest

from chat import services
from chat.models import Message
from tests.conftest import ids

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def send_url(room):
    return f"/rooms/{room.slug}/messages/"


def test_htmx_send_returns_new_messages_poller_and_a_fresh_form(
    htmx_client, room, user, other_user, make_messages, soup
):
    seen = make_messages(room, 2)
    unseen = make_messages(room, 1, author=other_user)  # bob joins as he sends
    assert [m.kind for m in Message.objects.filter(id__gt=seen[-1].id)] == [
        "join",
        "message",
    ]
    response = htmx_client.post(
        send_url(room), {"content": "hello there", "after": seen[-1].id}
    )
    assert response.status_code == 200
    page = soup(response)
    mine = Message.objects.get(content="hello there")
    assert mine.user == user and mine.room == room
    # Everything after the sender's cursor, their own message last.
    assert ids(page) == [unseen[0].id - 1, unseen[0].id, mine.id]
    assert page.select_one("#poller input[name=after]")["value"] == str(mine.id)
    form = page.select_one("#send-form")
    assert form["hx-swap-oob"] == "true"
    assert form.select_one("input[name=content]").get("value", "") == ""
    assert page.select("#send-error") == []


def test_htmx_send_without_cursor_returns_just_the_new_message(
    htmx_client, room, make_messages, soup
):
    make_messages(room, 3)
    page = soup(htmx_client.post(send_url(room), {"content": "solo"}))
    assert ids(page) == [Message.objects.get(content="solo").id]


def test_form_targets_the_poller_and_includes_its_cursor(auth_client, room, soup):
    form = soup(auth_client.get(f"/rooms/{room.slug}/")).select_one("#send-form")
    assert form["hx-post"] == send_url(room)
    # Short of the newest, #load-newer holds the cursors in the poller's place.
    assert form["hx-target"] == "#poller, #load-newer"
    assert form["hx-include"] == "#poller, #load-older, #load-newer"
    assert form["method"] == "post" and form["action"] == send_url(room)
    assert "hx-disabled-elt" in form.attrs
    label = form.select_one("label[for=send-content]")
    assert label is not None and form.select_one("#send-content") is not None


def test_plain_send_redirects_303_to_the_room(auth_client, room):
    response = auth_client.post(send_url(room), {"content": "no js"})
    assert response.status_code == 303
    assert response["Location"] == f"/rooms/{room.slug}/"
    assert Message.objects.filter(content="no js").count() == 1


@pytest.mark.parametrize("content", ["", "   ", "\n\t  \n", "x" * 4001])
def test_bad_htmx_send_is_400_with_error_in_the_form_and_stores_nothing(
    htmx_client, room, content, soup
):
    response = htmx_client.post(send_url(room), {"content": content, "after": 0})
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#send-form"
    assert response["HX-Reswap"] == "outerHTML"
    page = soup(response)
    assert page.select_one("#send-form #send-error").get_text(strip=True)
    assert page.select("#poller") == []
    assert Message.objects.count() == 0


def test_bad_plain_send_shows_the_room_with_the_error(auth_client, room, soup):
    response = auth_client.post(send_url(room), {"content": "  "})
    assert response.status_code == 400
    page = soup(response)
    assert page.select_one("#send-form #send-error") is not None
    assert page.select_one("#messages") is not None
    assert Message.objects.count() == 0


def test_content_of_exactly_4000_characters_is_accepted(htmx_client, room):
    assert htmx_client.post(send_url(room), {"content": "y" * 4000}).status_code == 200
    assert len(Message.objects.get().content) == 4000


def test_author_is_the_logged_in_user_never_the_request(
    htmx_client, room, user, other_user
):
    htmx_client.post(
        send_url(room), {"content": "who", "user": other_user.pk, "author": "bob"}
    )
    assert Message.objects.get(content="who").user == user


def test_anonymous_send_stores_nothing(client, anon_htmx_client, room):
    assert client.post(send_url(room), {"content": "x"}).status_code == 302
    response = anon_htmx_client.post(send_url(room), {"content": "x"})
    assert response.has_header("HX-Redirect")
    assert Message.objects.count() == 0


def test_send_to_unknown_room_is_404(htmx_client, db):
    assert (
        htmx_client.post("/rooms/nope/messages/", {"content": "x"}).status_code == 404
    )


def test_script_message_comes_back_escaped_in_page_and_fragment(
    auth_client, htmx_client, room, soup
):
    htmx_client.post(send_url(room), {"content": XSS, "after": 0})
    fragment = htmx_client.get(f"/rooms/{room.slug}/messages/?after=0")
    page = auth_client.get(f"/rooms/{room.slug}/")
    for response in (fragment, page):
        assert XSS.encode() not in response.content
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
        content = soup(response).select_one(".message-content")
        assert content.get_text() == XSS
        assert content.find("script") is None


def test_message_round_trips_unicode_unchanged(htmx_client, room, soup):
    text = "héllo 👋🏽 שלום e\u0301"
    htmx_client.post(send_url(room), {"content": text, "after": 0})
    assert Message.objects.get().content == text
    page = soup(htmx_client.get(f"/rooms/{room.slug}/messages/?after=0"))
    assert page.select_one(".message-content").get_text() == text


def test_a_senders_answer_holds_their_message_when_an_older_one_changed_meanwhile(
    room, user, other_user, make_messages
):
    """Between the insert and the read of the answer, bob reacts to a message
    the sender's page has not got yet: read up to the sender's own change
    number, the batch would end before it (selectors.page_changes); the
    answer is read again holding the room's lock, and holds both."""
    seen = make_messages(room, 1)
    unseen = make_messages(room, 1, author=other_user)[-1]
    mine = services.message_create(room=room, author=user, content="mine")
    services.reaction_toggle(message=unseen, user=other_user, emoji="👍")
    changes = services.send_changes(
        room=room, message=mine, after=seen[-1].id, since=seen[-1].seq, start=0
    )
    assert [m.id for m in changes.new][-2:] == [unseen.id, mine.id]
    assert changes.new[-2].reactions_seen  # as it is now
    room.refresh_from_db()
    assert changes.seq == room.seq
