"""Reads, in plain ORM. Each returns querysets, lists or model instances,
ready to render. The room access rule is stated once, in rooms_visible_to."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import (
    Count,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from chat.models import Membership, Message, Room


def rooms_visible_to(*, user: AbstractBaseUser) -> QuerySet[Room]:
    """The room access rule, the only statement of it: an active, signed-in
    user sees the public rooms and the rooms they belong to. Each room
    carries `membership_id`, the viewer's membership (None where they have
    none).

    Every way in goes through here: pages, fragments, sends, the API, the
    room list, the duplicate-name check. A poll on a grant (chat/live/) was
    issued under it, and its one query checks what the grant depends on
    (session, active user, membership); tests/chat/test_access.py runs every
    case down every path.
    """
    if not (user.is_authenticated and user.is_active):
        return Room.objects.none()
    # A join on the viewer's own membership (at most one row: unique per user
    # and room), rather than a subquery: the same rows, cheaper for the ORM
    # to build (every page, send and full-path poll builds it).
    mine = FilteredRelation("memberships", condition=Q(memberships__user=user))
    return (
        Room.objects.annotate(mine=mine)
        .filter(Q(kind=Room.Kind.PUBLIC) | Q(mine__isnull=False))
        .annotate(membership_id=F("mine__id"))
    )


def room_get(*, slug: str, user: AbstractBaseUser) -> Room:
    """The room `user` may see; 404 (not 403) otherwise, so names do not leak."""
    try:
        return rooms_visible_to(user=user).get(slug=slug)
    except Room.DoesNotExist:
        raise Http404("No such room.") from None


def room_by_id(room_id: int) -> Room | None:
    """A room by id, for a poll whose grant chat.live found still good: the
    grant was issued under the access rule, and the same request checked
    what it depends on."""
    return Room.objects.filter(pk=room_id).first()


def direct_room_find(*, user: AbstractBaseUser, other: AbstractBaseUser) -> Room | None:
    """The direct conversation of two users, if they have started one."""
    low, high = sorted([user.pk, other.pk])
    return rooms_visible_to(user=user).filter(dm_key=f"{low}:{high}").first()


def direct_refusal(*, user: AbstractBaseUser, other: AbstractBaseUser) -> str | None:
    """Why `user` may not start a direct conversation with `other`, or None."""
    if user.pk == other.pk:
        return _("A direct message needs someone else.")
    return None


def member_add_refusal(*, room: Room, user: AbstractBaseUser) -> str | None:
    """Why `user` may not add members to `room`, or None when they may: only
    the creator of a private room may. A direct conversation never gains a
    third person."""
    if room.kind == Room.Kind.DIRECT:
        return _(
            "A direct conversation stays between its two people. "
            "Create a private room to talk with more."
        )
    if room.kind == Room.Kind.PUBLIC:
        return _("Public rooms are open to everyone: there is no one to add.")
    if room.created_by_id != user.pk:
        return _("Only the room's creator can add members.")
    return None


def room_list(*, user: AbstractBaseUser) -> QuerySet[Room]:
    """Visible rooms, newest activity first, each with `last_activity` and
    `unread` (others' messages after the user's last-read id, in the rooms
    the user belongs to)."""
    # Nested inside the unread subquery: the room is the outer query's outer.
    # No membership, no read mark: a room one has not joined counts nothing.
    last_read = Membership.objects.filter(
        room=OuterRef(OuterRef("pk")), user=user
    ).values("last_read_id")[:1]
    unread = (
        Message.objects.filter(room=OuterRef("pk"), id__gt=Subquery(last_read))
        .exclude(user=user)
        .order_by()
        .values("room")
        .annotate(n=Count("id"))
        .values("n")
    )
    newest = Message.objects.filter(room=OuterRef("pk")).order_by("-id")
    return (
        rooms_visible_to(user=user)
        .annotate(
            last_activity=Coalesce(
                Subquery(newest.values("created_at")[:1]), "created_at"
            ),
            unread=Coalesce(Subquery(unread), Value(0)),
        )
        .order_by("-last_activity", "name")
    )


def room_members(*, room: Room) -> QuerySet:
    return room.members.order_by("username")


def _messages(room: Room) -> QuerySet[Message]:
    return Message.objects.filter(room=room).select_related("user")


@dataclass(frozen=True)
class Page:
    messages: list[Message]
    has_older: bool

    @property
    def first_id(self) -> int | None:
        return self.messages[0].id if self.messages else None

    @property
    def last_id(self) -> int | None:
        return self.messages[-1].id if self.messages else None


def _page_before(qs: QuerySet[Message], size: int) -> Page:
    # Fetch one extra row to learn whether anything older exists.
    rows = list(qs.order_by("-id")[: size + 1])
    return Page(messages=rows[:size][::-1], has_older=len(rows) > size)


def messages_latest(*, room: Room, size: int | None = None) -> Page:
    return _page_before(_messages(room), size or settings.CHAT_PAGE_SIZE)


def messages_before(*, room: Room, before: int, size: int | None = None) -> Page:
    return _page_before(
        _messages(room).filter(id__lt=before), size or settings.CHAT_PAGE_SIZE
    )


def messages_after(
    *, room: Room, after: int, upto: int | None = None, limit: int | None = None
) -> list[Message]:
    """Messages after the cursor `after` (and up to `upto`, when given), in id
    order, at most CHAT_POLL_LIMIT."""
    qs = _messages(room).filter(id__gt=after).order_by("id")
    if upto is not None:
        qs = qs.filter(id__lte=upto)
    return list(qs[: limit or settings.CHAT_POLL_LIMIT])


def room_for_object(*, obj: models.Model, user: AbstractBaseUser) -> Room | None:
    """The room attached to `obj`, if it was started and `user` may see it."""
    content_type = ContentType.objects.get_for_model(obj)
    return (
        rooms_visible_to(user=user)
        .filter(content_type=content_type, object_id=str(obj.pk))
        .first()
    )
