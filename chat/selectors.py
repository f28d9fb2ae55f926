"""Reads. Each returns plain querysets or lists, ready to render."""

from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from chat.models import Message, Room, RoomVisit


def _visible_rooms(user: AbstractBaseUser) -> QuerySet[Room]:
    public = Q(is_private=False)
    if not user.is_authenticated:
        return Room.objects.filter(public)
    mine = Room.objects.filter(is_private=True, members=user).values("pk")
    return Room.objects.filter(public | Q(pk__in=mine))


def room_get(*, slug: str, user: AbstractBaseUser) -> Room:
    """The room `user` may see; 404 (not 403) otherwise, so names do not leak."""
    try:
        return _visible_rooms(user).get(slug=slug)
    except Room.DoesNotExist:
        raise Http404("No such room.") from None


def room_list(*, user: AbstractBaseUser) -> QuerySet[Room]:
    """Visible rooms, newest activity first, each with `last_activity` and
    `unread` (others' messages after the user's last-read id; a room never
    opened counts everything)."""
    # Nested inside the unread subquery: the room is the outer query's outer.
    last_read = RoomVisit.objects.filter(
        room=OuterRef(OuterRef("pk")), user=user
    ).values("last_read_id")[:1]
    unread = (
        Message.objects.filter(
            room=OuterRef("pk"), id__gt=Coalesce(Subquery(last_read), Value(0))
        )
        .exclude(user=user)
        .order_by()
        .values("room")
        .annotate(n=Count("id"))
        .values("n")
    )
    newest = Message.objects.filter(room=OuterRef("pk")).order_by("-id")
    return (
        _visible_rooms(user)
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
    *, room: Room, after: int, limit: int | None = None
) -> list[Message]:
    qs = _messages(room).filter(id__gt=after).order_by("id")
    return list(qs[: limit or settings.CHAT_POLL_LIMIT])


def _session_model():
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return store.get_model_class() if issubclass(store, DbSessionStore) else None


def sessions_in_database() -> bool:
    """Whether the session engine keeps a row per session (db, cached_db),
    which poll_is_empty needs to see a session end."""
    return _session_model() is not None


@lru_cache(maxsize=4)
def _poll_sql(vendor: str, engine: str) -> str:
    quote = connection.ops.quote_name
    session = _session_model()._meta
    message = Message._meta
    return (
        f"SELECT EXISTS (SELECT 1 FROM {quote(session.db_table)}"
        " WHERE session_key = %s AND expire_date > %s)"
        f" AND NOT EXISTS (SELECT 1 FROM {quote(message.db_table)}"
        " WHERE room_id = %s AND id > %s)"
    )


def poll_is_empty(*, room_id: int, after: int, session_key: str) -> bool:
    """The empty poll's one query: the session is alive (its row is there and
    unexpired) and the room has nothing after `after` (an index probe on
    (room, id)). Written out because it runs for nearly every request the chat
    serves, and building it through the ORM costs more than running it
    (docs/benchmarks.md). Needs sessions_in_database()."""
    db = connections[DEFAULT_DB_ALIAS]  # looked up once: each lookup costs
    sql = _poll_sql(db.vendor, settings.SESSION_ENGINE)
    now = db.ops.adapt_datetimefield_value(timezone.now())
    with db.cursor() as cursor:
        cursor.execute(sql, [session_key, now, room_id, after])
        return bool(cursor.fetchone()[0])


def room_last_message_id(*, room: Room) -> int:
    last = (
        Message.objects.filter(room=room)
        .order_by("-id")
        .values_list("id", flat=True)[:1]
    )
    return next(iter(last), 0)
