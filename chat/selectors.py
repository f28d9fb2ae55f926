"""Reads. Each returns plain querysets or lists, ready to render."""

from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from weakref import WeakKeyDictionary

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from chat.models import Message, Room, RoomVisit


def _visible_rooms(user: AbstractBaseUser) -> QuerySet[Room]:
    public = Q(is_private=False)
    if not user.is_authenticated:
        return Room.objects.filter(public)
    mine = Room.objects.filter(is_private=True, members=user).values("pk")
    return Room.objects.filter(public | Q(pk__in=mine))


def room_get(*, slug: str, user: AbstractBaseUser) -> Room:
    """The room `user` may see; 404 (not 403) otherwise, so names do not leak.
    Two plain lookups rather than _visible_rooms' subquery: every poll that
    delivers runs this, and a public room then costs one simple query."""
    room = Room.objects.filter(slug=slug).first()
    if room is None or (
        room.is_private
        and not (user.is_authenticated and room.members.filter(pk=user.pk).exists())
    ):
        raise Http404("No such room.")
    return room


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


# "Now" by the database's own clock, in a form comparable with the session's
# expire_date as Django stores it, so the poll's query needs no parameter for
# it (adapting one costs a third of the query). SQLite keeps datetimes as text,
# microseconds and all: both sides are cut to milliseconds, which ends a
# session up to a millisecond early, never late. Other databases: full path.
_EXPIRY = {
    ("postgresql", True): ("expire_date", "statement_timestamp()"),
    ("postgresql", False): ("expire_date", "statement_timestamp()"),
    ("sqlite", True): (
        "substr(expire_date, 1, 23)",
        "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now')",
    ),
    ("sqlite", False): (
        "substr(expire_date, 1, 23)",
        "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', 'localtime')",
    ),
}


def poll_query_available() -> bool:
    """Whether poll_check can answer here: the session engine keeps a row
    per session (db, cached_db), so a session's end shows in the database, and
    the database is one whose clock the query knows how to read."""
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    return _session_model() is not None and (vendor, settings.USE_TZ) in _EXPIRY


@lru_cache(maxsize=4)
def _poll_sql(vendor: str, engine: str, use_tz: bool) -> tuple[str, str]:
    """The poll's query as Django's cursor takes it, and as the driver does."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    expires, now = _EXPIRY[vendor, use_tz]
    sql = (
        f"SELECT EXISTS (SELECT 1 FROM {quote(_session_model()._meta.db_table)}"
        f" WHERE session_key = %s AND {expires} > {now}),"
        f" EXISTS (SELECT 1 FROM {quote(Message._meta.db_table)}"
        " WHERE room_id = %s AND id > %s)"
    )
    # What Django's SQLite cursor does to each query, done once.
    driver = sql.replace("%s", "?").replace("%%", "%") if vendor == "sqlite" else sql
    return sql, driver


@dataclass(frozen=True)
class PollCheck:
    session_alive: bool
    has_new: bool


def poll_check(*, room_id: int, after: int, session_key: str) -> PollCheck:
    """The grant-carrying poll's one query: whether the session is alive (its
    row is there and unexpired) and whether the room has anything after
    `after` (an index probe on (room, id)). Written out because it runs for
    nearly every request the chat serves, and building it through the ORM
    costs more than running it (docs/benchmarks.md). Needs
    poll_query_available()."""
    db = connections[DEFAULT_DB_ALIAS]  # looked up once: each lookup costs
    sql, driver_sql = _poll_sql(db.vendor, settings.SESSION_ENGINE, settings.USE_TZ)
    params = [session_key, room_id, after]
    if db.queries_logged:
        # DEBUG, or a test counting queries: Django's cursor records it.
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            alive, new = cursor.fetchone()
            return PollCheck(session_alive=bool(alive), has_new=bool(new))
    # Django's cursor wrapper costs about twice what this query does; the
    # driver's own cursor, with Django's health check, connection and error
    # translation, answers the same.
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        cursor = db.connection.cursor()
        try:
            cursor.execute(driver_sql, params)
            alive, new = cursor.fetchone()
            return PollCheck(session_alive=bool(alive), has_new=bool(new))
        finally:
            cursor.close()


@dataclass(frozen=True)
class Batch:
    room: Room
    messages: list[Message]


@lru_cache(maxsize=4)
def _batch_sql(vendor: str) -> tuple[str, str]:
    """The room (when the viewer may see it) and the messages after a cursor,
    as room_get and messages_after would ask, spelled from the models' meta."""
    db = connections[DEFAULT_DB_ALIAS]
    q = db.ops.quote_name
    user_model = get_user_model()
    users = q(user_model._meta.db_table)
    members = Room._meta.get_field("members")
    active = (
        f" AND {q(user_model._meta.get_field('is_active').column)}"
        if any(f.name == "is_active" for f in user_model._meta.concrete_fields)
        else ""
    )
    # All concrete columns, in order: what _instances reads.
    room_columns = ", ".join("r." + q(f.column) for f in Room._meta.concrete_fields)
    message_columns = ", ".join(
        "m." + q(f.column) for f in Message._meta.concrete_fields
    )
    room_sql = (
        f"SELECT {room_columns}"
        f" FROM {q(Room._meta.db_table)} r WHERE r.id = %s"
        f" AND EXISTS (SELECT 1 FROM {users} WHERE id = %s{active})"
        f" AND (NOT r.is_private OR EXISTS (SELECT 1 FROM"
        f" {q(members.m2m_db_table())} WHERE {q(members.m2m_column_name())} = r.id"
        f" AND {q(members.m2m_reverse_name())} = %s))"
    )
    messages_sql = (
        f"SELECT {message_columns},"
        f" u.{q(user_model._meta.get_field(user_model.USERNAME_FIELD).column)}"
        f" FROM {q(Message._meta.db_table)} m LEFT JOIN {users} u"
        " ON u.id = m.user_id WHERE m.room_id = %s AND m.id > %s"
        " ORDER BY m.id LIMIT %s"
    )
    return room_sql, messages_sql


# Per connection (each thread has its own) and model: the field names, and
# which columns need which of the ORM's converters. Worked out once, not on
# every poll.
_plans: WeakKeyDictionary = WeakKeyDictionary()


def _plan(db, model) -> tuple[list[str], list]:
    plans = _plans.setdefault(db, {})
    plan = plans.get(model)
    if plan is None:
        fields = model._meta.concrete_fields
        converters = []
        for i, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            found = db.ops.get_db_converters(column) + field.get_db_converters(db)
            if found:
                converters.append((i, column, found))
        plan = plans[model] = ([f.attname for f in fields], converters)
    return plan


def _instances(db, model, rows) -> list:
    """Model instances from raw rows of all the model's concrete columns, in
    order, through the same converters (dates, booleans, JSON) the ORM
    applies."""
    names, converters = _plan(db, model)
    instances = []
    for row in rows:
        values = list(row)
        for i, column, found in converters:
            for convert in found:
                values[i] = convert(values[i], column, db)
        instances.append(model.from_db(db.alias, names, values))
    return instances


def granted_batch(*, room_id: int, user_id: int, after: int) -> Batch | None:
    """For a poll its grant authorises (chat.middleware): the room and its
    messages after `after` (perhaps none), by the same rule as room_get (an
    active user; a member, for a private room) read afresh. None when the rule
    no longer holds: the full path then answers.

    Two queries written out: every poll that delivers runs this, and the
    ORM's query building costs several times what running them does."""
    db = connections[DEFAULT_DB_ALIAS]
    room_sql, messages_sql = _batch_sql(db.vendor)
    with db.cursor() as cursor:
        cursor.execute(room_sql, [room_id, user_id, user_id])
        rooms = _instances(db, Room, cursor.fetchall())
        if not rooms:
            return None
        cursor.execute(messages_sql, [room_id, after, settings.CHAT_POLL_LIMIT])
        rows = cursor.fetchall()
    messages = _instances(db, Message, [r[:-1] for r in rows])
    # Each author as select_related("user") would give it, with only the
    # name loaded (the rest is deferred: nothing the partials show).
    user_model = get_user_model()
    names = ["id", user_model.USERNAME_FIELD]
    authors: dict[int, AbstractBaseUser] = {}
    for message, row in zip(messages, rows, strict=True):
        if message.user_id is not None:
            author = authors.get(message.user_id)
            if author is None:
                author = user_model.from_db(db.alias, names, [message.user_id, row[-1]])
                authors[message.user_id] = author
            message.user = author
    return Batch(room=rooms[0], messages=messages)


def room_last_message_id(*, room: Room) -> int:
    last = (
        Message.objects.filter(room=room)
        .order_by("-id")
        .values_list("id", flat=True)[:1]
    )
    return next(iter(last), 0)
