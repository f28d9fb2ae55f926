"""Replies: Reply puts the send form in reply mode; the reply quotes the
message it answers (author and first line), linking to it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from chat import services
from chat.models import Message
from tests.conftest import appended_ids, swapped_ids

pytestmark = pytest.mark.django_db


def compose_url(room, reply_to="") -> str:
    url = reverse("chat:compose", args=[room.slug])
    return f"{url}?reply_to={reply_to}" if reply_to != "" else url


def send_url(room) -> str:
    return reverse("chat:messages", args=[room.slug])


def permalink(message: Message) -> str:
    return reverse("chat:message", args=[message.room.slug, message.pk])


@pytest.fixture
def said(room, other_user) -> Message:
    return services.message_create(
        room=room, author=other_user, content="Lunch at noon?\nOr one."
    )


def test_reply_control_links_to_the_form_in_reply_mode(client_for, said, user, soup):
    page = soup(client_for(user, htmx=False).get(said.room.get_absolute_url()))
    reply = page.select_one(f"#message-{said.pk} .message-reply")
    assert reply["hx-get"] == compose_url(said.room, said.pk)
    assert reply["hx-target"] == "#send-form" and reply["hx-swap"] == "outerHTML"
    assert (
        reply["href"] == f"{said.room.get_absolute_url()}?reply_to={said.pk}#send-form"
    )


def test_htmx_reply_returns_the_send_form_in_reply_mode(htmx_client, said, soup):
    response = htmx_client.get(compose_url(said.room, said.pk))
    assert response.status_code == 200
    page = soup(response)
    form = page.select_one("form#send-form")
    assert form is not None and page.find("html") is None
    assert form.select_one("input[type=hidden][name=reply_to]")["value"] == str(said.pk)
    replying = form.select_one("#replying-to").get_text(" ", strip=True)
    assert "Replying to bob" in replying and "Lunch at noon?" in replying
    assert "Or one" not in replying
    cancel = form.select_one("#replying-to a")
    assert cancel["hx-get"] == compose_url(said.room)


def test_cancel_returns_the_plain_send_form(htmx_client, room, soup):
    page = soup(htmx_client.get(compose_url(room)))
    form = page.select_one("form#send-form")
    assert form is not None and form.select("[name=reply_to]") == []


def test_plain_reply_goes_to_the_room_page_in_reply_mode(auth_client, said, soup):
    response = auth_client.get(compose_url(said.room, said.pk))
    assert response.status_code == 302
    room_url = said.room.get_absolute_url()
    assert response["Location"] == f"{room_url}?reply_to={said.pk}#send-form"
    page = soup(auth_client.get(f"{room_url}?reply_to={said.pk}"))
    form = page.select_one("form#send-form")
    assert form.select_one("input[name=reply_to]")["value"] == str(said.pk)
    assert "Replying to bob" in form.select_one("#replying-to").get_text()


def test_a_reply_stores_what_it_answers_and_quotes_it(htmx_client, said, soup):
    response = htmx_client.post(
        send_url(said.room), {"content": "Yes!", "reply_to": said.pk}
    )
    assert response.status_code == 200
    reply = Message.objects.get(content="Yes!")
    assert reply.reply_to == said
    page = soup(response)
    quote = page.select_one(f"#message-{reply.pk} .reply-quote")
    assert quote["href"] == f"{permalink(said)}#message-{said.pk}"
    assert quote["data-reply-to"] == str(said.pk)
    text = quote.get_text(" ", strip=True)
    assert "bob" in text and "Lunch at noon?" in text and "Or one" not in text
    # Back to a plain send form.
    form = page.select_one("form#send-form")
    assert form["hx-swap-oob"] == "true" and form.select("[name=reply_to]") == []


def test_a_plain_reply_is_stored_and_shown_on_the_page(auth_client, said, soup):
    response = auth_client.post(
        send_url(said.room), {"content": "Sure", "reply_to": said.pk}
    )
    assert response.status_code == 303
    reply = Message.objects.get(content="Sure")
    assert reply.reply_to == said
    page = soup(auth_client.get(said.room.get_absolute_url()))
    assert page.select_one(f"#message-{reply.pk} .reply-quote")["data-reply-to"] == (
        str(said.pk)
    )


def test_a_reply_to_another_rooms_message_is_400(
    htmx_client, auth_client, room, make_room, other_user, soup
):
    elsewhere = make_room("Elsewhere")
    there = services.message_create(room=elsewhere, author=other_user, content="x")
    before = Message.objects.count()
    for client in (htmx_client, auth_client):
        response = client.post(send_url(room), {"content": "hi", "reply_to": there.pk})
        assert response.status_code == 400
        error = soup(response).select_one("#send-form #send-error").get_text()
        assert "Reply to a message of this room" in error
    assert Message.objects.count() == before


def test_a_reply_to_no_message_is_400(htmx_client, room, soup):
    response = htmx_client.post(send_url(room), {"content": "hi", "reply_to": 99999})
    assert response.status_code == 400
    error = soup(response).select_one("#send-form #send-error").get_text()
    assert "Reply to a message of this room" in error
    assert not Message.objects.filter(content="hi").exists()


@pytest.mark.parametrize("reply_to", ["abc", "-1", "0", "1.5", str(2**64)])
def test_a_malformed_reply_to_is_400(htmx_client, room, soup, reply_to):
    response = htmx_client.post(send_url(room), {"content": "hi", "reply_to": reply_to})
    assert response.status_code == 400
    error = soup(response).select_one("#send-form #send-error").get_text(strip=True)
    assert error
    assert not Message.objects.filter(content="hi").exists()


@pytest.mark.parametrize("reply_to", ["abc", "-1"])
def test_a_malformed_reply_to_in_a_url_is_400(auth_client, htmx_client, room, reply_to):
    assert htmx_client.get(compose_url(room, reply_to)).status_code == 400
    url = f"{room.get_absolute_url()}?reply_to={reply_to}"
    response = auth_client.get(url)
    assert response.status_code == 400
    assert "reply_to" in response.content.decode()


def test_reply_mode_for_a_message_of_another_room_is_404(
    htmx_client, room, make_room, other_user
):
    there = services.message_create(
        room=make_room("Elsewhere"), author=other_user, content="x"
    )
    assert htmx_client.get(compose_url(room, there.pk)).status_code == 404


def test_a_notice_cannot_be_answered(htmx_client, room, other_user, soup):
    services.room_join(room=room, user=other_user)
    notice = Message.objects.get(kind=Message.Kind.JOIN)
    response = htmx_client.post(
        send_url(room), {"content": "welcome", "reply_to": notice.pk}
    )
    assert response.status_code == 400
    assert soup(response).select_one("#send-error").get_text(strip=True)
    assert not Message.objects.filter(content="welcome").exists()
    assert htmx_client.get(compose_url(room, notice.pk)).status_code == 400


def test_a_reply_to_a_later_deleted_message_quotes_deleted(
    htmx_client, client_for, said, user, other_user, soup
):
    reply = services.message_create(
        room=said.room, author=user, content="Yes!", reply_to=said
    )
    page = soup(htmx_client.get(permalink(reply)))
    assert "Lunch" in page.select_one(".reply-quote").get_text()
    services.message_delete(message=said, deleter=other_user)
    for viewer in (user, other_user):
        quote = soup(client_for(viewer).get(permalink(reply))).select_one(
            ".reply-quote"
        )
        assert "deleted message" in quote.get_text()
        assert "Lunch" not in quote.get_text()


def test_a_reply_to_an_edited_message_quotes_its_new_text(
    htmx_client, said, user, other_user, soup
):
    reply = services.message_create(
        room=said.room, author=user, content="Yes!", reply_to=said
    )
    htmx_client.get(permalink(reply))  # rendered once, cached
    services.message_edit(message=said, editor=other_user, content="Dinner?")
    quote = soup(htmx_client.get(permalink(reply))).select_one(".reply-quote")
    assert "Dinner?" in quote.get_text()


def test_a_poll_brings_the_reply_as_new_and_nothing_else(
    client_for, said, user, other_user, poller_url, soup
):
    bob = client_for(other_user)
    url = poller_url(bob, said.room)
    client_for(user).post(send_url(said.room), {"content": "Yes!", "reply_to": said.pk})
    reply = Message.objects.get(content="Yes!")
    page = soup(bob.get(url))
    # The answered message is unchanged: not sent again.
    assert appended_ids(page) == [reply.pk]
    assert swapped_ids(page) == []
    quote = page.select_one(f"#message-{reply.pk} .reply-quote")
    assert quote["data-reply-to"] == str(said.pk)


def test_a_poll_after_the_answered_message_is_deleted_brings_it_alone(
    client_for, said, user, other_user, poller_url, soup
):
    reply = services.message_create(
        room=said.room, author=user, content="Yes!", reply_to=said
    )
    alice = client_for(user)
    url = poller_url(alice, said.room)
    client_for(other_user).post(
        reverse("chat:message_delete", args=[said.room.slug, said.pk])
    )
    page = soup(alice.get(url))
    assert swapped_ids(page) == [said.pk]
    assert appended_ids(page) == []
    assert page.select_one(f"#message-{said.pk}")["data-kind"] == "deleted"
    assert reply.pk not in swapped_ids(page)
    assert alice.get(page.select_one("#poller")["hx-get"]).status_code == 204


def test_a_refused_reply_stays_a_reply(htmx_client, auth_client, said, soup):
    for client in (htmx_client, auth_client):
        response = client.post(
            send_url(said.room), {"content": " ", "reply_to": said.pk}
        )
        assert response.status_code == 400
        form = soup(response).select_one("form#send-form")
        assert "Type a message" in form.select_one("#send-error").get_text()
        assert form.select_one("input[name=reply_to]")["value"] == str(said.pk)
    assert not Message.objects.filter(reply_to=said).exists()


def test_the_service_refuses_a_reply_across_rooms_or_to_a_notice(
    room, make_room, user, other_user
):
    elsewhere = services.message_create(
        room=make_room("Elsewhere"), author=user, content="x"
    )
    services.room_join(room=room, user=other_user)
    notice = Message.objects.get(room=room, kind=Message.Kind.JOIN)
    for answered in (elsewhere, notice):
        with pytest.raises(ValidationError):
            services.message_create(
                room=room, author=user, content="hi", reply_to=answered
            )
    assert not Message.objects.filter(content="hi").exists()
