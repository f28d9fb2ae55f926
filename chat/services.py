"""Writes. Views call these; nothing else touches the models for writing."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from chat.models import Message, Room


def _unique_slug(name: str) -> str:
    base = slugify(name)[:90] or "room"
    slug, n = base, 1
    while Room.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def room_create(*, name: str, created_by: AbstractBaseUser) -> Room:
    name = name.strip()
    if not name:
        raise ValidationError("A room needs a name.", code="blank")
    if Room.objects.filter(name__iexact=name).exists():
        raise ValidationError("A room with this name already exists.", code="taken")
    for _ in range(5):
        try:
            with transaction.atomic():
                return Room.objects.create(
                    name=name, slug=_unique_slug(name), created_by=created_by
                )
        except IntegrityError:
            # Another request took the same slug between our check and insert.
            continue
    raise ValidationError("Could not name this room; try another name.", code="slug")


def message_create(*, room: Room, author: AbstractBaseUser, content: str) -> Message:
    """Store a message so that, per room, ids become visible in id order.

    Pollers fetch "id > cursor", so a message that committed after a higher id
    was already seen would be skipped for good. Locking the room row before the
    insert serialises the senders of one room: the id is taken and committed
    while the lock is held, so commit order equals id order. (PostgreSQL takes
    the row lock; SQLite runs IMMEDIATE transactions, one writer at a time.)
    The savepoint makes this hold inside ATOMIC_REQUESTS too: the lock is held
    until the outer transaction commits, which is after the insert.
    """
    with transaction.atomic():
        Room.objects.select_for_update().only("id").get(pk=room.pk)
        return Message.objects.create(room=room, user=author, content=content)
