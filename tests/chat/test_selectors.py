"""The read rules themselves: the access rule, refusals, pages and lists."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from chat import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def rooms(user, other_user):
    public = services.room_create(name="Open", created_by=user)
    private = services.room_create(name="Den", created_by=user, is_private=True)
    dm = services.direct_room_get_or_create(user=user, other=other_user)
    return public, private, dm


def visible(user) -> set[str]:
    return set(selectors.rooms_visible_to(user=user).values_list("name", flat=True))


def test_the_access_rule(rooms, user, other_user, make_user):
    *_, dm = rooms
    assert visible(user) == {"Open", "Den", dm.name}
    assert visible(other_user) == {"Open", dm.name}
    assert visible(make_user("carol")) == {"Open"}
    assert visible(AnonymousUser()) == set()
    other_user.is_active = False
    assert visible(other_user) == set()


def test_each_visible_room_carries_the_viewers_membership(rooms, user, make_user):
    public, _private, _dm = rooms
    mine = selectors.rooms_visible_to(user=user).get(pk=public.pk)
    assert mine.membership_id == public.memberships.get(user=user).pk
    theirs = selectors.rooms_visible_to(user=make_user("carol")).get(pk=public.pk)
    assert theirs.membership_id is None


def test_room_get_is_404_for_what_the_rule_hides(rooms, make_user):
    _public, private, _dm = rooms
    with pytest.raises(Http404):
        selectors.room_get(slug=private.slug, user=make_user("carol"))
    with pytest.raises(Http404):
        selectors.room_get(slug="no-such-room", user=make_user("dave"))


def test_member_add_refusals_say_why(rooms, user, other_user):
    public, private, dm = rooms
    assert selectors.member_add_refusal(room=private, user=user) is None
    for room, viewer, reason in (
        (dm, user, "direct conversation"),
        (public, user, "Public rooms"),
        (private, other_user, "creator"),
    ):
        assert reason in selectors.member_add_refusal(room=room, user=viewer)


def test_direct_room_find_reads_and_never_creates(user, other_user):
    assert selectors.direct_room_find(user=user, other=other_user) is None
    dm = services.direct_room_get_or_create(user=user, other=other_user)
    assert selectors.direct_room_find(user=other_user, other=user) == dm
    assert selectors.direct_refusal(user=user, other=user)
    assert selectors.direct_refusal(user=user, other=other_user) is None


def test_messages_after_stops_at_upto_and_at_the_limit(room, make_messages, settings):
    msgs = make_messages(room, 5)
    after = msgs[0].id
    assert (
        selectors.messages_after(room=room, after=after, upto=msgs[2].id) == msgs[1:3]
    )
    settings.CHAT_POLL_LIMIT = 2
    assert selectors.messages_after(room=room, after=after) == msgs[1:3]


def test_pages_go_back_in_order(room, make_messages):
    msgs = make_messages(room, 5)
    page = selectors.messages_latest(room=room, size=2)
    assert page.messages == msgs[3:] and page.has_older
    older = selectors.messages_before(room=room, before=page.first_id, size=10)
    assert older.messages == msgs[:3] and not older.has_older


def test_the_room_list_counts_unread_only_where_one_belongs(
    user, other_user, make_room, make_messages
):
    joined, seen = make_room("Joined"), make_room("Seen only")
    services.room_join(room=joined, user=other_user)
    make_messages(joined, 2)
    make_messages(seen, 3)
    counts = {r.name: r.unread for r in selectors.room_list(user=other_user)}
    assert counts == {"Joined": 2, "Seen only": 0}
