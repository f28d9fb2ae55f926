"""Deleting a message: it stays as a tombstone, text, mentions and reactions
gone. Its author deletes it; so may the room's creator and staff users."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from chat import services
from chat.models import Message, Reaction, Room
from tests.conftest import appended_ids, swapped_ids

pytestmark = pytest.mark.django_db


def delete_url(message: Message) -> str:
    return reverse("chat:message_delete", args=[message.room.slug, message.pk])


def fresh(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


@pytest.fixture
def bobs(room, other_user, user, make_user) -> Message:
    """bob's message in alice's room, mentioning alice, with reactions."""
    said = services.message_create(room=room, author=other_user, content="hi @alice")
    services.reaction_toggle(message=said, user=user, emoji="👍")
    services.reaction_toggle(message=said, user=other_user, emoji="🎉")
    return fresh(said)


def assert_tombstone(message: Message, deleter, *, latest=True) -> Message:
    """`message` is now a tombstone; `latest`: the room's latest change."""
    stored = fresh(message)
    assert stored.content == "" and stored.mentions == []
    assert stored.reactions_seen == []
    assert not Reaction.objects.filter(message=stored).exists()
    assert stored.deleted_at is not None and stored.deleted_by == deleter
    assert stored.seq > message.seq
    if latest:
        assert stored.seq == Room.objects.get(pk=stored.room_id).seq
    return stored


def test_htmx_delete_of_ones_own_returns_the_tombstone(
    client_for, bobs, other_user, soup
):
    response = client_for(other_user).post(delete_url(bobs))
    assert response.status_code == 200
    article = soup(response).select_one(f"article#message-{bobs.pk}")
    assert article["data-kind"] == "deleted"
    text = article.get_text(" ", strip=True)
    assert "Message deleted" in text and "hi" not in text
    assert article.select(".reactions, .message-actions") == []
    stored = assert_tombstone(bobs, other_user)
    assert article["data-seq"] == str(stored.seq)


def test_plain_delete_303s_to_the_message(client_for, bobs, other_user, room):
    response = client_for(other_user, htmx=False).post(delete_url(bobs))
    assert response.status_code == 303
    permalink = reverse("chat:message", args=[room.slug, bobs.pk])
    assert response["Location"] == f"{permalink}#message-{bobs.pk}"
    assert_tombstone(bobs, other_user)


def test_the_row_stays_in_its_place(client_for, room, other_user, make_messages):
    msgs = make_messages(room, 3, author=other_user)
    client_for(other_user).post(delete_url(msgs[1]))
    assert list(Message.objects.filter(room=room, kind="message")) == msgs


def test_get_shows_a_confirm_page_and_changes_nothing(
    client_for, bobs, other_user, soup
):
    for htmx in (False, True):
        response = client_for(other_user, htmx=htmx).get(delete_url(bobs))
        assert response.status_code == 200
        form = soup(response).select_one("form#delete-form")
        assert form["method"] == "post" and form["action"] == delete_url(bobs)
    stored = fresh(bobs)
    assert (stored.content, stored.seq, stored.deleted_at) == (
        "hi @alice",
        bobs.seq,
        None,
    )
    assert Reaction.objects.filter(message=bobs).count() == 2


def test_the_delete_control_asks_first(client_for, bobs, other_user, room, soup):
    page = soup(client_for(other_user, htmx=False).get(room.get_absolute_url()))
    control = page.select_one(f"#message-{bobs.pk} .message-delete")
    assert control["href"] == delete_url(bobs)
    assert control["hx-post"] == delete_url(bobs)
    assert control["hx-confirm"]
    assert control["hx-target"] == f"#message-{bobs.pk}"


def test_the_rooms_creator_removes_anyones_message(htmx_client, bobs, user, soup):
    # alice created the room
    response = htmx_client.post(delete_url(bobs))
    assert response.status_code == 200
    article = soup(response).select_one(f"#message-{bobs.pk}")
    assert "removed by a moderator" in article.get_text()
    assert_tombstone(bobs, user)


def test_a_staff_user_removes_anyones_message(client_for, bobs, make_user, soup):
    staff = make_user("sam")
    staff.is_staff = True
    staff.save()
    response = client_for(staff).post(delete_url(bobs))
    assert response.status_code == 200
    assert "removed by a moderator" in soup(response).get_text()
    assert_tombstone(bobs, staff)


def test_everyone_sees_who_removed_it(client_for, bobs, user, other_user, soup):
    client_for(user).post(delete_url(bobs))
    permalink = reverse("chat:message", args=[bobs.room.slug, bobs.pk])
    for viewer in (user, other_user):
        article = soup(client_for(viewer).get(permalink)).select_one("article")
        assert "removed by a moderator" in article.get_text()


def test_a_plain_member_may_not_delete_anothers(
    client_for, room, user, make_user, bobs, soup
):
    carol = make_user("carol")
    services.room_join(room=room, user=carol)
    for htmx in (True, False):
        carols = client_for(carol, htmx=htmx)
        assert carols.post(delete_url(bobs)).status_code == 403
        assert carols.get(delete_url(bobs)).status_code == 403
    refusal = soup(client_for(carol, htmx=False).get(delete_url(bobs)))
    assert "your own messages" in refusal.select_one("#refusal").get_text()
    assert fresh(bobs).deleted_at is None
    page = soup(client_for(carol, htmx=False).get(room.get_absolute_url()))
    assert page.select(f"#message-{bobs.pk} .message-delete") == []


def test_the_author_may_not_delete_someone_elses_but_own(
    client_for, room, user, other_user
):
    alices = services.message_create(room=room, author=user, content="mine")
    bob = client_for(other_user)
    assert bob.post(delete_url(alices)).status_code == 403
    assert fresh(alices).deleted_at is None


def test_a_room_one_cannot_see_is_404(inner_room, client_for, make_user):
    said = services.message_create(
        room=inner_room.room, author=inner_room.member, content="secret"
    )
    outsider = client_for(make_user("carol"))
    assert outsider.post(delete_url(said)).status_code == 404
    assert outsider.get(delete_url(said)).status_code == 404
    assert fresh(said).deleted_at is None


def test_deleting_twice_is_403_with_a_reason(client_for, bobs, other_user, soup):
    bob = client_for(other_user, htmx=False)
    assert bob.post(delete_url(bobs)).status_code == 303
    stored = fresh(bobs)
    again = bob.post(delete_url(bobs))
    assert again.status_code == 403
    assert "already deleted" in soup(again).select_one("#refusal").get_text()
    assert fresh(bobs).seq == stored.seq
    assert client_for(other_user).get(delete_url(bobs)).status_code == 403


def test_a_deleted_message_offers_nothing(client_for, bobs, user, room, soup):
    services.message_delete(message=bobs, deleter=user)
    page = soup(client_for(user, htmx=False).get(room.get_absolute_url()))
    article = page.select_one(f"#message-{bobs.pk}")
    assert article["data-kind"] == "deleted"
    assert article.select("a") == []


def test_a_poll_brings_the_tombstone_out_of_band_once(
    client_for, room, user, other_user, make_messages, poller_url, soup
):
    msgs = make_messages(room, 3, author=other_user)
    alice = client_for(user)
    url = poller_url(alice, room)
    client_for(other_user).post(delete_url(msgs[1]))
    page = soup(alice.get(url))
    # The tombstone, and the message after it, which continued the deleted
    # one's group and now draws its own header (services._successor_regroup).
    assert swapped_ids(page) == [msgs[1].id, msgs[2].id]
    assert appended_ids(page) == []
    assert page.select_one(f"#message-{msgs[1].id}")["data-kind"] == "deleted"
    assert "message-grouped" not in page.select_one(f"#message-{msgs[2].id}")["class"]
    assert alice.get(page.select_one("#poller")["hx-get"]).status_code == 204


# The admin: deleting a message there leaves a tombstone too.


@pytest.fixture
def admin(admin_user):
    return admin_user


def test_admin_delete_leaves_a_tombstone(admin_client, admin, bobs):
    url = reverse("admin:chat_message_delete", args=[bobs.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert_tombstone(bobs, admin)


def test_admin_bulk_delete_leaves_tombstones(
    admin_client, admin, room, other_user, make_messages
):
    msgs = make_messages(room, 3, author=other_user)
    response = admin_client.post(
        reverse("admin:chat_message_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [m.pk for m in msgs[:2]],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    first, second = (assert_tombstone(m, admin, latest=False) for m in msgs[:2])
    # One change each, in order; and the message after them, which continued
    # their group, now draws its own header: the room's latest change.
    after = fresh(msgs[2])
    assert first.seq < second.seq < after.seq == Room.objects.get(pk=room.pk).seq
    assert after.deleted_at is None and not after.continues


def test_admin_delete_of_a_tombstone_keeps_it(admin_client, admin, bobs, user):
    services.message_delete(message=bobs, deleter=user)
    stored = fresh(bobs)
    url = reverse("admin:chat_message_delete", args=[bobs.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert fresh(bobs).seq == stored.seq and fresh(bobs).deleted_by == user


def test_a_delete_racing_a_delete_changes_nothing(bobs, user, other_user):
    # Both read the message before either committed: the second finds the
    # tombstone when it changes it, and who removed it stays as it was.
    read_before = fresh(bobs)
    services.message_delete(message=bobs, deleter=other_user)
    tombstone = fresh(bobs)
    with pytest.raises(PermissionDenied):
        services.message_delete(message=read_before, deleter=user)
    stored = fresh(bobs)
    assert (stored.seq, stored.deleted_by) == (tombstone.seq, other_user)
    assert stored.deleted_at == tombstone.deleted_at


def test_the_admin_cannot_change_what_a_message_says(admin_client, room, user):
    """Only the services change a message (and number the change, so open
    pages learn of it): the admin shows it read-only and adds none."""
    said = services.message_create(room=room, author=user, content="original")
    url = f"/admin/chat/message/{said.pk}/change/"
    assert admin_client.get(url).status_code == 200
    admin_client.post(url, {"content": "rewritten"})
    assert Message.objects.get(pk=said.pk).content == "original"
    assert admin_client.get("/admin/chat/message/add/").status_code == 403
