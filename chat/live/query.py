"""The project's hand-written SQL: the empty poll's one query, the sidebar's
version (and its unchanged refresh's one query), and the read mark every
delivering poll moves.

Nearly every request the chat serves is a tab asking "anything new?". For a
poll that carries its grant (chat.live.grants) one statement answers both
halves of that: whether the grant still counts, and the room's change
number (anything after the page's?). Each part is an index probe.

Why written out: built through the ORM (four Exists() in a values() query),
the same statement costs more to compose than to run; bench/inprocess.py's
"empty poll" pair measures it (docs/benchmarks.md, part a).

What "still counts" checks is what a grant issued under the access rule
(chat.selectors.rooms_visible_to) depends on:
- the session's row is there and unexpired (a logout, an expiry or an
  administrator deleting it ends the grant),
- the user is active,
- the membership the grant names still exists (leaving or being removed
  ends it; 0 names none: a public room the user had not joined).
A new access rule must end grants too: tests/chat/test_access.py runs every
rule down this path and the ORM's.

The sidebar's version (sidebar_version, sidebar_check): every open tab asks
every five seconds whether its sidebar changed. The aggregate through the
ORM (rooms_visible_to's FilteredRelation, four aggregates) cost 1,380 µs to
compose beside 16 µs to run, written out (bench/history.md, "The sidebar's
unchanged refresh"). It states the access rule's "public, or one's own" for
the rooms it counts; tests/chat/test_access.py and tests/chat/test_sidebar.py
hold it to the selectors.

mark_read: every poll that delivers moves its viewer's read mark, one UPDATE.
Through the ORM (QuerySet.update) it cost ten times the statement written out
on the benchmark machine (bench/statements.py; docs/benchmarks.md, part b).
"""

from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import DEFAULT_DB_ALIAS, connections

from accounts.models import Profile
from chat.models import Membership, Message, Room
from chat.selectors import RECEIPTS_COUNTED


def _session_model():
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return store.get_model_class() if issubclass(store, DbSessionStore) else None


# "Now" by the database's own clock, in a form comparable with the session's
# expire_date as Django stores it, so the query needs no parameter for it.
# SQLite keeps datetimes as text, microseconds and all: both sides are cut to
# milliseconds, which ends a session up to a millisecond early, never late.
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


def available() -> bool:
    """Whether poll_check can answer here: the session engine keeps a row
    per session (db, cached_db), so a session's end shows in the database,
    the database is one whose clock the query knows how to read, and the
    user model has is_active. Elsewhere every poll takes the full path."""
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    user_fields = {f.name for f in get_user_model()._meta.concrete_fields}
    return (
        _session_model() is not None
        and (vendor, settings.USE_TZ) in _EXPIRY
        and "is_active" in user_fields
    )


def _grant_counts(vendor: str, use_tz: bool) -> list[str]:
    """What every grant depends on, as conditions: its session's row is there
    and unexpired, its user active (parameters: session key, user id)."""
    q = connections[DEFAULT_DB_ALIAS].ops.quote_name
    users = get_user_model()._meta
    expires, now = _EXPIRY[vendor, use_tz]
    return [
        f"EXISTS (SELECT 1 FROM {q(_session_model()._meta.db_table)}"
        f" WHERE session_key = %s AND {expires} > {now})",
        f"EXISTS (SELECT 1 FROM {q(users.db_table)} WHERE {q(users.pk.column)} = %s"
        f" AND {q(users.get_field('is_active').column)})",
    ]


def _for_driver(vendor: str, sql: str) -> str:
    """What Django's SQLite cursor does to every statement, done once."""
    return sql.replace("%s", "?").replace("%%", "%") if vendor == "sqlite" else sql


def _fetchone(sql: str, params: list) -> tuple:
    """One row, on the driver's own cursor (see poll_check); Django's
    connection handling and error translation stay around it."""
    db = connections[DEFAULT_DB_ALIAS]
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        cursor = db.connection.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchone()
        finally:
            cursor.close()


@lru_cache(maxsize=16)
def _sql(vendor: str, use_tz: bool, membership: bool, receipts: bool) -> str:
    """The statement as the driver takes it (SQLite's placeholders are ?)."""
    q = connections[DEFAULT_DB_ALIAS].ops.quote_name
    counts = _grant_counts(vendor, use_tz)
    if membership:
        counts.append(
            f"EXISTS (SELECT 1 FROM {q(Membership._meta.db_table)}"
            " WHERE id = %s AND user_id = %s AND room_id = %s)"
        )
    # The room's change number: one primary-key probe. Who has read up to
    # the room's newest message, and lets it be known (selectors.
    # room_receipts, the same rule): a range of the (room, last read) index,
    # cut at RECEIPTS_COUNTED.
    messages, profiles = Message._meta.db_table, Profile._meta.db_table
    readers = (
        f"SELECT 1 FROM {q(Membership._meta.db_table)} m WHERE m.room_id = %s"
        f" AND m.last_read_id >= (SELECT MAX(id) FROM {q(messages)}"
        " WHERE room_id = %s)"
        f" AND NOT EXISTS (SELECT 1 FROM {q(profiles)} p"
        " WHERE p.user_id = m.user_id AND NOT p.read_receipts)"
        f" LIMIT {RECEIPTS_COUNTED}"
    )
    # Counted only for the newest message's author, whose page shows them:
    # to anyone else the count is -1 whatever it is, or a poll's `r` would
    # tell them how many have read someone else's message.
    author = (
        f"(SELECT user_id FROM {q(messages)} WHERE room_id = %s"
        " ORDER BY id DESC LIMIT 1)"
    )
    counted = (
        f" CASE WHEN {author} = %s"
        f" THEN (SELECT COUNT(*) FROM ({readers}) readers) ELSE -1 END"
    )
    sql = (
        f"SELECT {' AND '.join(counts)},"
        f" (SELECT seq FROM {q(Room._meta.db_table)} WHERE id = %s),"
        + (counted if receipts else " 0")
    )
    return _for_driver(vendor, sql)


@dataclass(frozen=True)
class PollCheck:
    counts: bool  # the grant still counts
    newest: int  # the room's change number (Room.seq; 0: nothing yet)
    # Read receipts at the newest message, if asked (else 0); None when
    # the viewer did not write it and so sees none.
    readers: int | None

    def has_new(self, since: int) -> bool:
        """Whether anything changed after the page's change number."""
        return self.newest > since


def poll_check(
    *,
    session_key: str,
    user_id: int,
    room_id: int,
    membership_id: int,
    receipts: bool = False,
) -> PollCheck:
    """Whether a grant still counts, and the room's change number, in one
    query. Needs available().

    Run on the driver's own cursor, always (tests see it through the
    driver's hooks: tests/conftest.py, driver_statements). Django's cursor
    wrapper, with its placeholder rewriting, costs 30 µs beside the driver's
    12 µs for this statement on the benchmark machine, a seventh of the whole
    empty poll (docs/benchmarks.md, "Before and after"); Django's connection
    handling and error translation stay around it."""
    db = connections[DEFAULT_DB_ALIAS]
    params: list = [session_key, user_id]
    if membership_id:
        params += [membership_id, user_id, room_id]
    params.append(room_id)
    if receipts:  # the page shows its viewer who read their message
        params += [room_id, user_id, room_id, room_id]
    sql = _sql(db.vendor, settings.USE_TZ, bool(membership_id), receipts)
    counts, newest, readers = _fetchone(sql, params)
    return PollCheck(
        counts=bool(counts),
        newest=newest or 0,
        readers=None if readers < 0 else readers,
    )


# The sidebar's version: what it shows, summed up by the rooms one sees (the
# access rule: public, or one's own), in one aggregate.
_SIDEBAR_PARTS = (
    # how many rooms, the newest: a room made, deleted, opened to one or not
    "COUNT(r.id)",
    "MAX(r.id)",
    # which rooms one belongs to, their change numbers (a message, an edit,
    # a delete: unread counts, mentions) and one's read marks there
    "SUM(CASE WHEN mine.id IS NOT NULL THEN r.id END)",
    "SUM(CASE WHEN mine.id IS NOT NULL THEN r.seq END)",
    "SUM(mine.last_read_id)",
    # each direct conversation's other person, as drawn: there (1), and
    # their display name and avatar (Profile.appearance moves with both)
    "SUM(CASE WHEN mine.id IS NOT NULL AND r.kind = %s THEN ({partner}) END)",
)


@lru_cache(maxsize=16)
def _sidebar_sql(vendor: str, use_tz: bool, check: bool) -> str:
    """The version's statement; with `check`, led by the grant's conditions
    (for the driver's cursor), else for Django's."""
    q = connections[DEFAULT_DB_ALIAS].ops.quote_name
    memberships, profiles = Membership._meta.db_table, Profile._meta.db_table
    partner = (
        f"SELECT 1 + COALESCE(p.appearance, 0) FROM {q(memberships)} o"
        f" LEFT JOIN {q(profiles)} p ON p.user_id = o.user_id"
        " WHERE o.room_id = r.id AND o.user_id <> %s ORDER BY o.user_id LIMIT 1"
    )
    parts = [part.format(partner=partner) for part in _SIDEBAR_PARTS]
    if check:
        parts.insert(0, " AND ".join(_grant_counts(vendor, use_tz)))
    sql = (
        f"SELECT {', '.join(parts)} FROM {q(Room._meta.db_table)} r"
        f" LEFT JOIN {q(memberships)} mine"
        " ON mine.room_id = r.id AND mine.user_id = %s"
        " WHERE r.kind = %s OR mine.id IS NOT NULL"
    )
    return _for_driver(vendor, sql) if check else sql


def _sidebar_params(user_id: int) -> list:
    return [Room.Kind.DIRECT.value, user_id, user_id, Room.Kind.PUBLIC.value]


def _version(parts) -> str:
    # PostgreSQL sums come back as Decimal, SQLite's as int: both print alike.
    return ".".join(str(part or 0) for part in parts)


# The version of a sidebar with nothing in it (no user, or an inactive one).
SIDEBAR_EMPTY = _version([0] * len(_SIDEBAR_PARTS))


def sidebar_version(*, user_id: int) -> str:
    """A short fingerprint of what the sidebar of the (active) user
    `user_id` shows: equal versions, the same sidebar. Through Django's
    cursor, as the other reads of the full path."""
    db = connections[DEFAULT_DB_ALIAS]
    sql = _sidebar_sql(db.vendor, settings.USE_TZ, False)
    with db.cursor() as cursor:
        cursor.execute(sql, _sidebar_params(user_id))
        return _version(cursor.fetchone())


@dataclass(frozen=True)
class SidebarCheck:
    counts: bool  # the grant still counts (session alive, user active)
    version: str  # sidebar_version's, for the grant's user


def sidebar_check(*, session_key: str, user_id: int) -> SidebarCheck:
    """Whether a sidebar grant still counts, and the sidebar's version, in
    one query on the driver's cursor. Needs available()."""
    db = connections[DEFAULT_DB_ALIAS]
    sql = _sidebar_sql(db.vendor, settings.USE_TZ, True)
    counts, *parts = _fetchone(sql, [session_key, user_id, *_sidebar_params(user_id)])
    return SidebarCheck(counts=bool(counts), version=_version(parts))


def mark_read(*, room_id: int, user_id: int, message_id: int) -> None:
    """Move a member's read mark forward to `message_id` (never back): what
    Membership.objects.filter(room_id=…, user_id=…, last_read_id__lt=…)
    .update(last_read_id=…) does, written out."""
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(
            _mark_read_sql(db.vendor), [message_id, room_id, user_id, message_id]
        )


@lru_cache(maxsize=4)
def _mark_read_sql(vendor: str) -> str:
    q = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return (
        f"UPDATE {q(Membership._meta.db_table)} SET last_read_id = %s"
        " WHERE room_id = %s AND user_id = %s AND last_read_id < %s"
    )
