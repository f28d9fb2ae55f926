"""Writes. Views call these; nothing else touches the models for writing."""

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext as _

from chat import presence
from chat.models import Message, Room, RoomVisit


def _unique_slug(name: str) -> str:
    base = slugify(name)[:90] or "room"
    slug, n = base, 1
    while Room.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def room_create(
    *, name: str, created_by: AbstractBaseUser, is_private: bool = False
) -> Room:
    name = name.strip()
    if not name:
        raise ValidationError(_("A room needs a name."), code="blank")
    # Only rooms the creator can see count, so private names do not leak.
    visible = Q(is_private=False) | Q(members=created_by)
    if Room.objects.filter(visible, name__iexact=name).exists():
        raise ValidationError(_("A room with this name already exists."), code="taken")
    for _attempt in range(5):
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    name=name,
                    slug=_unique_slug(name),
                    created_by=created_by,
                    is_private=is_private,
                )
                room.members.add(created_by)
                # The creator is there from the start: no join notice.
                RoomVisit.objects.create(room=room, user=created_by)
                return room
        except IntegrityError:
            # Another request took the same slug between our check and insert.
            continue
    raise ValidationError(_("Could not name this room; try another name."), code="slug")


ACTION_PREFIX = "/me "
MENTION = re.compile(r"(?<![\w@])@([\w.@+-]+)")


def _mentioned_usernames(content: str) -> list[str]:
    names = {name.rstrip(".") for name in MENTION.findall(content)}
    if not names:
        return []
    found = get_user_model().objects.filter(username__in=names)
    return sorted(found.values_list("username", flat=True))


def message_create(*, room: Room, author: AbstractBaseUser, content: str) -> Message:
    """Store what a user typed: "/me waves" becomes an action, @names of
    existing users are recorded as mentions."""
    kind = Message.Kind.MESSAGE
    if content.startswith(ACTION_PREFIX):
        kind, content = Message.Kind.ACTION, content[len(ACTION_PREFIX) :].strip()
    message = _message_insert(
        room=room,
        user=author,
        kind=kind,
        content=content,
        mentions=_mentioned_usernames(content),
    )
    # Whoever just sent is no longer typing.
    presence.typing(
        room_id=room.pk,
        user_id=author.pk,
        username=author.get_username(),
        active=False,
    )
    return message


def system_notice_create(*, room: Room, text: str) -> Message:
    return _message_insert(room=room, user=None, kind=Message.Kind.SYSTEM, content=text)


def room_join(*, room: Room, user: AbstractBaseUser) -> bool:
    """Record the user's first visit, announced with a join notice."""
    if RoomVisit.objects.filter(room=room, user=user).exists():
        return False
    try:
        with transaction.atomic():
            RoomVisit.objects.create(room=room, user=user)
    except IntegrityError:  # a second tab won the race
        return False
    _message_insert(room=room, user=user, kind=Message.Kind.JOIN, content="")
    return True


def room_leave(*, room: Room, user: AbstractBaseUser) -> None:
    """Announce the leave; a private room also drops the member."""
    _message_insert(room=room, user=user, kind=Message.Kind.LEAVE, content="")
    RoomVisit.objects.filter(room=room, user=user).delete()
    if room.is_private:
        room.members.remove(user)


def room_mark_read(*, room: Room, user_id: int, message_id: int) -> None:
    """Advance the user's last-read id (never backwards); one UPDATE.

    Every poll that delivers runs it: written out, because building it through
    the ORM costs thirty times what running it does (docs/benchmarks.md)."""
    q = connection.ops.quote_name
    table = RoomVisit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(table)} SET last_read_id = %s"
            " WHERE room_id = %s AND user_id = %s AND last_read_id < %s",
            [message_id, room.pk, user_id, message_id],
        )


def _message_insert(**fields) -> Message:
    """Store a message so that, per room, ids become visible in id order.

    Pollers fetch "id > cursor", so a message that committed after a higher id
    was already seen would be skipped for good. Locking the room row before the
    insert serialises the senders of one room: the id is taken and committed
    while the lock is held, so commit order equals id order. (PostgreSQL takes
    the row lock; SQLite runs IMMEDIATE transactions, one writer at a time.)
    The savepoint makes this hold inside ATOMIC_REQUESTS too: the lock is held
    until the outer transaction commits, which is after the insert.
    """
    room = fields["room"]
    with transaction.atomic():
        Room.objects.select_for_update().only("id").get(pk=room.pk)
        return Message.objects.create(**fields)


def room_member_add(
    *, room: Room, added_by: AbstractBaseUser, username: str
) -> AbstractBaseUser:
    """Add a member to a private room; only its creator may."""
    if room.created_by_id != added_by.pk:
        raise PermissionDenied(_("Only the room's creator can add members."))
    if not room.is_private:
        raise ValidationError(_("Public rooms are open to everyone."), code="public")
    User = get_user_model()
    try:
        member = User.objects.get(username=username.strip())
    except User.DoesNotExist:
        raise ValidationError(_("No user with that name."), code="unknown") from None
    room.members.add(member)
    system_notice_create(
        room=room,
        text=_("%(member)s was added by %(by)s.")
        % {"member": member.get_username(), "by": added_by.get_username()},
    )
    return member


def dm_room_get_or_create(*, user: AbstractBaseUser, other: AbstractBaseUser) -> Room:
    """The one private room shared by two users, created on first use."""
    if user.pk == other.pk:
        raise ValidationError(_("A direct message needs someone else."), code="self")
    low, high = sorted([user, other], key=lambda u: u.pk)
    key = f"{low.pk}:{high.pk}"
    try:
        return Room.objects.get(dm_key=key)
    except Room.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            room = Room.objects.create(
                name=f"{low.get_username()} & {high.get_username()}",
                slug=f"dm-{low.pk}-{high.pk}",
                created_by=user,
                is_private=True,
                dm_key=key,
            )
            room.members.add(low, high)
            RoomVisit.objects.bulk_create(
                [RoomVisit(room=room, user=low), RoomVisit(room=room, user=high)]
            )
            return room
    except IntegrityError:
        # The other user opened it at the same moment.
        return Room.objects.get(dm_key=key)


def room_for_object(
    *, obj: models.Model, created_by: AbstractBaseUser | None = None
) -> Room:
    """The room attached to `obj`, created (public) on first use."""
    content_type = ContentType.objects.get_for_model(obj)
    lookup = {"content_type": content_type, "object_id": str(obj.pk)}
    room = Room.objects.filter(**lookup).first()
    if room is not None:
        return room
    name = (str(obj).strip() or content_type.name)[:80]
    try:
        with transaction.atomic():
            return Room.objects.create(
                name=name, slug=_unique_slug(name), created_by=created_by, **lookup
            )
    except IntegrityError:  # created at the same moment by another request
        return Room.objects.get(**lookup)
