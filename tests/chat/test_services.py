"""The write rules themselves, without HTTP: who may do what, and what each
service leaves behind."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from chat import selectors, services
from chat.models import Membership, Message, Room

pytestmark = pytest.mark.django_db


def kinds(room) -> list[str]:
    return list(room.messages.values_list("kind", flat=True))


def test_room_create_makes_the_creator_a_member_without_a_notice(user):
    room = services.room_create(name="Plans", created_by=user)
    assert room.kind == Room.Kind.PUBLIC and room.slug == "plans"
    assert list(room.members.all()) == [user]
    assert kinds(room) == []


def test_a_private_room_gets_a_random_slug(user):
    one = services.room_create(name="Plans", created_by=user, is_private=True)
    two = services.room_create(name="Other", created_by=user, is_private=True)
    assert one.kind == Room.Kind.PRIVATE
    assert one.slug != two.slug and "plans" not in one.slug


def test_room_names_must_be_new_among_the_rooms_one_can_see(user, other_user):
    services.room_create(name="Plans", created_by=user, is_private=True)
    with pytest.raises(ValidationError):
        services.room_create(name="plans", created_by=user)
    # bob cannot see alice's private room: the name is free for him.
    assert services.room_create(name="Plans", created_by=other_user).slug == "plans"


def test_joining_a_public_room_once_with_a_notice_and_caught_up(room, other_user):
    older = services.message_create(room=room, author=room.created_by, content="x")
    assert services.room_join(room=room, user=other_user) is True
    assert services.room_join(room=room, user=other_user) is False
    assert kinds(room) == ["message", "join"]
    mark = Membership.objects.get(room=room, user=other_user).last_read_id
    assert mark > older.id  # what came before joining is not unread


def test_private_rooms_and_conversations_are_not_joined_but_added(user, other_user):
    private = services.room_create(name="Den", created_by=user, is_private=True)
    with pytest.raises(PermissionDenied):
        services.room_join(room=private, user=other_user)
    assert not Membership.objects.filter(user=other_user).exists()


def test_leaving_posts_a_notice_only_for_a_member(room, other_user):
    assert services.room_leave(room=room, user=other_user) is False
    services.room_join(room=room, user=other_user)
    assert services.room_leave(room=room, user=other_user) is True
    assert kinds(room) == ["join", "leave"]


def test_a_direct_conversation_cannot_be_left_or_widened(user, other_user, make_user):
    make_user("carol")
    dm = services.direct_room_get_or_create(user=user, other=other_user)
    with pytest.raises(PermissionDenied):
        services.room_leave(room=dm, user=user)
    with pytest.raises(PermissionDenied):
        services.room_member_add(room=dm, added_by=user, username="carol")
    assert set(dm.members.all()) == {user, other_user}


def test_one_direct_conversation_per_pair_and_none_with_oneself(user, other_user):
    dm = services.direct_room_get_or_create(user=user, other=other_user)
    assert services.direct_room_get_or_create(user=other_user, other=user) == dm
    assert dm.kind == Room.Kind.DIRECT and dm.dm_key == f"{user.pk}:{other_user.pk}"
    with pytest.raises(ValidationError):
        services.direct_room_get_or_create(user=user, other=user)


def test_a_direct_conversation_of_two_long_usernames_fits_its_column(make_user):
    # Usernames take 150 characters; the room name only 80, and PostgreSQL
    # refuses a longer value (SQLite would store it, so check the field).
    first, second = make_user("a" * 150), make_user("b" * 150)
    dm = services.direct_room_get_or_create(user=first, other=second)
    dm.refresh_from_db()
    dm.full_clean()
    assert dm.name.startswith("a" * 40) and dm.name.endswith("…")


def test_only_a_private_rooms_creator_adds_members(user, other_user, make_user):
    carol = make_user("carol")
    den = services.room_create(name="Den", created_by=user, is_private=True)
    member = services.room_member_add(room=den, added_by=user, username="bob")
    assert member == other_user
    assert kinds(den) == ["system"]
    with pytest.raises(PermissionDenied):
        services.room_member_add(room=den, added_by=other_user, username="carol")
    with pytest.raises(ValidationError):
        services.room_member_add(room=den, added_by=user, username="bob")  # again
    with pytest.raises(ValidationError):
        services.room_member_add(room=den, added_by=user, username="nobody")
    public = services.room_create(name="Open", created_by=user)
    with pytest.raises(PermissionDenied):
        services.room_member_add(room=public, added_by=user, username="carol")
    assert not Membership.objects.filter(user=carol).exists()


def test_a_first_message_joins_a_public_room(room, other_user):
    services.message_create(room=room, author=other_user, content="/me waves")
    services.message_create(room=room, author=other_user, content="hi @alice")
    assert kinds(room) == ["join", "action", "message"]
    assert Message.objects.last().mentions == ["alice"]


def test_the_read_mark_only_moves_forward_and_only_for_members(
    room, user, other_user, make_messages
):
    msgs = make_messages(room, 3)
    services.room_mark_read(room=room, user_id=user.pk, message_id=msgs[2].id)
    services.room_mark_read(room=room, user_id=user.pk, message_id=msgs[0].id)
    assert Membership.objects.get(user=user).last_read_id == msgs[2].id
    services.room_mark_read(room=room, user_id=other_user.pk, message_id=msgs[2].id)
    assert not Membership.objects.filter(user=other_user).exists()


def test_delivering_marks_what_it_delivers_and_nothing_when_empty(
    room, user, make_messages, django_assert_num_queries
):
    msgs = make_messages(room, 2)
    room.refresh_from_db()
    changes = selectors.page_changes(
        room=room, after=0, since=0, start=0, newest=room.seq
    )
    services.changes_deliver(room=room, user_id=user.pk, changes=changes)
    assert changes.new == msgs and changes.seq == room.seq
    assert Membership.objects.get(user=user).last_read_id == msgs[1].id
    with django_assert_num_queries(1):  # the read, no write
        nothing = selectors.page_changes(
            room=room, after=msgs[1].id, since=room.seq, start=0, newest=room.seq
        )
        services.changes_deliver(room=room, user_id=user.pk, changes=nothing)
    assert not nothing
