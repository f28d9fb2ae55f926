"""Reactions: one of six emoji per user, toggled; each shown with its count
and who reacted."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse

from chat import services
from chat.models import Message, Reaction, Room
from chat.selectors import REACTION_CHOICES
from tests.conftest import appended_ids, swapped_ids

pytestmark = pytest.mark.django_db

THUMBS, HEART = "👍", "❤️"


def react_url(message: Message) -> str:
    return reverse("chat:reactions", args=[message.room.slug, message.pk])


def fresh(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


@pytest.fixture
def said(room, other_user) -> Message:
    return services.message_create(room=room, author=other_user, content="news")


def chip(page, message: Message, emoji: str):
    return page.select_one(f"#message-{message.pk} .reactions [data-emoji='{emoji}']")


def test_htmx_toggle_on_then_off(htmx_client, said, user, soup):
    response = htmx_client.post(react_url(said), {"emoji": THUMBS})
    assert response.status_code == 200
    page = soup(response)
    on = chip(page, said, THUMBS)
    assert on["aria-pressed"] == "true" and on["data-count"] == "1"
    assert Reaction.objects.filter(message=said, user=user, emoji=THUMBS).exists()
    assert fresh(said).reactions_seen == [[THUMBS, user.pk, "alice"]]

    page = soup(htmx_client.post(react_url(said), {"emoji": THUMBS}))
    assert chip(page, said, THUMBS) is None
    assert page.select_one(f"#message-{said.pk}") is not None
    assert not Reaction.objects.filter(message=said).exists()
    assert fresh(said).reactions_seen == []


def test_counts_per_emoji_across_users(
    client_for, said, user, other_user, make_user, soup
):
    carol = make_user("carol")
    for who, emoji in [(user, THUMBS), (other_user, THUMBS), (carol, HEART)]:
        services.reaction_toggle(message=said, user=who, emoji=emoji)
    page = soup(client_for(carol).post(react_url(said), {"emoji": THUMBS}))
    thumbs, heart = chip(page, said, THUMBS), chip(page, said, HEART)
    assert (thumbs["data-count"], heart["data-count"]) == ("3", "1")
    assert (thumbs["aria-pressed"], heart["aria-pressed"]) == ("true", "true")
    # The same message for alice: her thumb is pressed, carol's heart not.
    permalink = reverse("chat:message", args=[said.room.slug, said.pk])
    alices = soup(client_for(user).get(permalink))
    assert chip(alices, said, THUMBS)["aria-pressed"] == "true"
    assert chip(alices, said, HEART)["aria-pressed"] == "false"
    assert [el["data-emoji"] for el in alices.select(".reactions [data-emoji]")] == [
        THUMBS,
        HEART,
    ]


def test_the_label_names_who_reacted(client_for, said, user, other_user, soup):
    services.reaction_toggle(message=said, user=user, emoji=THUMBS)
    services.reaction_toggle(message=said, user=other_user, emoji=THUMBS)
    services.reaction_toggle(message=said, user=other_user, emoji=HEART)
    permalink = reverse("chat:message", args=[said.room.slug, said.pk])
    page = soup(client_for(user).get(permalink))
    assert chip(page, said, THUMBS)["aria-label"] == "thumbs up, 2: alice, bob"
    assert chip(page, said, HEART)["aria-label"] == "heart: bob"


def test_one_reaction_per_user_and_emoji(said, user):
    Reaction.objects.create(message=said, user=user, emoji=THUMBS)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(message=said, user=user, emoji=THUMBS)
    Reaction.objects.create(message=said, user=user, emoji=HEART)  # another: fine


@pytest.mark.parametrize("emoji", ["💩", "👍👍", "thumbs up", "<b>", "❤"])
def test_an_emoji_outside_the_set_is_400(htmx_client, said, emoji):
    response = htmx_client.post(react_url(said), {"emoji": emoji})
    assert response.status_code == 400
    assert "Pick one of the offered reactions" in response.content.decode()
    assert not Reaction.objects.exists()
    assert fresh(said).seq == said.seq


def test_a_missing_emoji_is_400(htmx_client, auth_client, said):
    for client in (htmx_client, auth_client):
        response = client.post(react_url(said))
        assert response.status_code == 400
        assert "Pick one of the offered reactions" in response.content.decode()
    assert not Reaction.objects.exists()


def test_a_bad_emoji_leaves_the_message_in_place(htmx_client, said):
    # htmx swaps a 400: the message must not become the error text.
    response = htmx_client.post(react_url(said), {"emoji": "💩"})
    assert response["HX-Reswap"] == "none"


def test_a_deleted_message_takes_no_reactions(htmx_client, said, other_user, soup):
    services.message_delete(message=said, deleter=other_user)
    response = htmx_client.post(react_url(said), {"emoji": THUMBS})
    assert response.status_code == 403
    assert not Reaction.objects.exists()
    # Nor a page of forms that would be refused.
    refusal = soup(htmx_client.get(react_url(said)))
    assert "was deleted" in refusal.select_one("#refusal").get_text()


def test_a_notice_takes_no_reactions(client_for, room, other_user, user, soup):
    services.room_join(room=room, user=other_user)
    notice = Message.objects.get(kind=Message.Kind.JOIN)
    response = client_for(user).post(react_url(notice), {"emoji": THUMBS})
    assert response.status_code == 403
    refusal = soup(
        client_for(user, htmx=False).post(react_url(notice), {"emoji": THUMBS})
    )
    assert "Notices take no reactions" in refusal.select_one("#refusal").get_text()
    assert not Reaction.objects.exists()


def test_a_room_one_cannot_see_is_404(inner_room, client_for, make_user):
    said = services.message_create(
        room=inner_room.room, author=inner_room.member, content="secret"
    )
    outsider = client_for(make_user("carol"))
    assert outsider.post(react_url(said), {"emoji": THUMBS}).status_code == 404
    assert outsider.get(react_url(said)).status_code == 404
    assert not Reaction.objects.exists()


def test_plain_post_303s_back_to_the_message(auth_client, said, user):
    response = auth_client.post(react_url(said), {"emoji": HEART})
    assert response.status_code == 303
    permalink = reverse("chat:message", args=[said.room.slug, said.pk])
    assert response["Location"] == f"{permalink}#message-{said.pk}"
    assert Reaction.objects.get().emoji == HEART


def test_get_is_the_picker_page_and_changes_nothing(auth_client, said, soup):
    response = auth_client.get(react_url(said))
    assert response.status_code == 200
    page = soup(response)
    forms = page.select("#reaction-forms form")
    assert len(forms) == 6
    for form, (emoji, _label) in zip(forms, REACTION_CHOICES, strict=True):
        assert form["method"] == "post" and form["action"] == react_url(said)
        assert form.select_one("input[name=emoji]")["value"] == emoji
    assert page.select_one(f"#message-{said.pk}") is not None
    assert not Reaction.objects.exists() and fresh(said).seq == said.seq


def test_the_picker_in_the_message_offers_the_six(client_for, said, user, soup):
    page = soup(client_for(user, htmx=False).get(said.room.get_absolute_url()))
    picks = page.select(f"#message-{said.pk} .reaction-picker [data-emoji]")
    assert [a["data-emoji"] for a in picks] == [e for e, _ in REACTION_CHOICES]
    for a in picks:
        assert a["href"] == react_url(said) and a["hx-post"] == react_url(said)
        assert a["hx-target"] == f"#message-{said.pk}"


def test_each_toggle_takes_the_rooms_next_change_number(htmx_client, said, room):
    seqs = []
    for emoji in (THUMBS, HEART, THUMBS):
        htmx_client.post(react_url(said), {"emoji": emoji})
        seqs.append(fresh(said).seq)
        assert seqs[-1] == Room.objects.get(pk=room.pk).seq
    assert said.seq < seqs[0] < seqs[1] < seqs[2]


def test_a_poll_brings_the_reacted_message_out_of_band_once(
    client_for, room, user, other_user, make_messages, poller_url, soup
):
    msgs = make_messages(room, 3)
    alice = client_for(user)
    url = poller_url(alice, room)
    client_for(other_user).post(react_url(msgs[2]), {"emoji": THUMBS})
    page = soup(alice.get(url))
    assert swapped_ids(page) == [msgs[2].id]
    assert appended_ids(page) == []
    thumbs = chip(page, msgs[2], THUMBS)
    assert thumbs["data-count"] == "1" and thumbs["aria-pressed"] == "false"
    assert alice.get(page.select_one("#poller")["hx-get"]).status_code == 204


def test_a_reaction_racing_a_delete_leaves_the_tombstone_bare(said, user, other_user):
    read_before = fresh(said)
    services.message_delete(message=said, deleter=other_user)
    tombstone = fresh(said)
    with pytest.raises(PermissionDenied):
        services.reaction_toggle(message=read_before, user=user, emoji=THUMBS)
    stored = fresh(said)
    assert (stored.seq, stored.reactions_seen) == (tombstone.seq, [])
    assert not Reaction.objects.exists()
