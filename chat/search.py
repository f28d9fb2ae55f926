"""Full-text search over the messages a user may see, on the database's own
engine (the index: chat/migrations/0011_search.py).

One selector, `message_search`, and one query syntax for both engines:
words (all must match, in any order), "quoted phrases" (these words in
this order) and prefixes (`deplo*`: at least two letters before the star).
The user's text is parsed here, into words of letters, digits and marks,
and the engine's query is built from those words alone, every one quoted:
no input can reach the engine as syntax, so none can make it fail.
Malformed input (an unclosed quote, nothing to search for, more than
QUERY_MAX characters) is a ValidationError saying what to fix.

- SQLite: FTS5 (tokenizer `porter unicode61 remove_diacritics 2`). This
  part is hand-written SQL, because the ORM has no way to name a virtual
  table, its MATCH operator, `highlight()` or the order of the index's own
  rowids, which is what makes a search stop after one page: the index is
  read newest first and joined to chat_message by primary key, with the
  visible rooms as part of the MATCH (the index has a `room_id` column), so
  words that are everywhere in rooms one cannot see cost nothing.
- PostgreSQL: `django.contrib.postgres.search`, to_tsquery on the
  `chat_english` configuration (English stemming without stop words, as
  SQLite's) against the GIN index on the same SearchVector expression, in
  two steps (the newest messages, then the index: _postgresql says why),
  `ts_headline` for the highlights. The text is searched with its address
  punctuation as spaces (SEPARATORS), so PostgreSQL finds "example" in
  example.com and "releases" in a link, as SQLite does.

They differ only where the engines' English differs: both stem (deploy,
deployed, deploying match each other), with Porter's original rules on
SQLite and Snowball's on PostgreSQL, which differ at the edges ("deploy"
finds "deployment" on PostgreSQL only: Porter makes it "deploi"); only
SQLite folds accents (cafe matches café). A prefix is matched against the
stemmed words on both: `deploym*` does not find "deployment".

Privacy: the rooms come from selectors.rooms_visible_to, as everywhere.
Deleted messages and notices are not in the SQLite index at all, and both
engines filter them again.

Highlighting: the engine marks each match with the control characters
START and STOP, which no stored message can hold (the forms refuse control
characters). `highlight_html` escapes the text first and only then turns
balanced markers into `<mark>`: a message is never markup.
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVector
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BigIntegerField, ExpressionWrapper, F, Func, TextField
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from chat.models import Message, Room
from chat.selectors import rooms_visible_to

QUERY_MAX = 200
PREFIX_MIN = 2
KINDS = (Message.Kind.MESSAGE, Message.Kind.ACTION)
# Around the engines' matches: control characters, which the forms refuse
# in messages (chat.forms), so none in a message can pose as one.
START, STOP = "\x02", "\x03"
# PostgreSQL's text search configuration (the migration's: English
# stemming, no stop words); the index is built on it.
CONFIG = "chat_english"
# Above this many visible rooms the MATCH leaves them out (it would grow
# long); the join still keeps only theirs.
ROOMS_IN_MATCH = 500
# PostgreSQL's parser reads addresses, paths, e-mails, versions and tags as
# whole words ("example.com", "/releases/48", "<b>"): these characters are
# made spaces first, so it finds the words in them as SQLite does. One for
# one: the text keeps its length, and a headline's markers fall in place on
# the original text (_marked_onto). The index is on the same expression.
SEPARATORS = "./@:-_~&;<>+=?#"
# PostgreSQL: how many of the newest messages a search tests one by one
# before it turns to the index (chat.search._postgresql).
RECENT = 2000
# How much of a long message a result shows, around its first match.
SHOWN = 300
SHOWN_BEFORE = 80
# A "quoted phrase" (a star after it: its last word a prefix), or a chunk
# between spaces and quotes (a star at its end: a prefix).
TOKEN = re.compile(r'"([^"]*)"(\*?)|([^\s"]+)')


@dataclass(frozen=True)
class Term:
    """Words that must follow each other (one word, or a phrase); the last
    one a prefix when `prefix`."""

    words: tuple[str, ...]
    prefix: bool = False


def _words(text: str) -> tuple[str, ...]:
    """The runs of letters, digits and combining marks in `text`: all that
    is ever sent to an engine. Everything else (punctuation, symbols,
    control characters, NUL, lone surrogates) separates words."""
    kept = "".join(
        c if unicodedata.category(c)[0] in "LNM" else " " for c in text.lower()
    )
    return tuple(kept.split())


def parse_query(text: str) -> list[Term]:
    """The terms of a search, or a ValidationError saying what to fix."""
    text = text.strip()
    if len(text) > QUERY_MAX:
        raise ValidationError(
            _("Search for at most %(max)d characters.") % {"max": QUERY_MAX},
            code="long",
        )
    if text.count('"') % 2:
        raise ValidationError(
            _('A quote is not closed: add the closing ".'), code="quote"
        )
    terms = []
    for phrase, star, chunk in TOKEN.findall(text):
        words = _words(phrase or chunk)
        if not words:
            continue
        prefix = bool(star) if phrase else chunk.endswith("*")
        if prefix and len(words[-1]) < PREFIX_MIN:
            raise ValidationError(
                _("Put at least %(n)d letters before a *.") % {"n": PREFIX_MIN},
                code="prefix",
            )
        terms.append(Term(words=words, prefix=prefix))
    if not terms:
        raise ValidationError(
            _("Type a word to search for: punctuation alone finds nothing."),
            code="empty",
        )
    return terms


def fts5_match(terms: list[Term], room_ids: list[int] | None = None) -> str:
    """The FTS5 MATCH expression: every term a quoted string in the
    `content` column (`"deploy notes"`, `"deplo" *`), all required; and,
    given, the rooms the message must be in."""
    parts = [
        'content : "{}"{}'.format(" ".join(term.words), " *" if term.prefix else "")
        for term in terms
    ]
    if room_ids is not None:
        parts.append("room_id : ({})".format(" OR ".join(f'"{n}"' for n in room_ids)))
    return " AND ".join(parts)


def tsquery(terms: list[Term]) -> str:
    """The to_tsquery text: `'deploy' <-> 'notes'`, `'deplo':*`, joined by
    &. The words hold letters, digits and marks only, quoted all the same."""
    return " & ".join(
        " <-> ".join(
            f"'{word}'" + (":*" if term.prefix and n == len(term.words) - 1 else "")
            for n, word in enumerate(term.words)
        )
        for term in terms
    )


def marked_parts(marked: str) -> list[tuple[str, bool]]:
    """The text between the engine's markers, as (text, matched) pieces.
    Markers only count in pairs: a stray one is dropped, an unclosed one is
    closed at the end."""
    parts: list[tuple[str, bool]] = []
    inside, piece = False, []
    for char in marked:
        if char in (START, STOP):
            if (char == START) != inside:  # opens outside, closes inside
                if piece:
                    parts.append(("".join(piece), inside))
                inside, piece = not inside, []
            continue
        piece.append(char)
    if piece:
        parts.append(("".join(piece), inside))
    return parts


def _window(parts: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """At most SHOWN characters of a long text, from a little before its
    first match, with an ellipsis where text was left out."""
    total = sum(len(text) for text, _hit in parts)
    if total <= SHOWN:
        return parts
    first, at = 0, 0
    for text, hit in parts:
        if hit:
            first = at
            break
        at += len(text)
    start = max(0, min(first - SHOWN_BEFORE, total - SHOWN))
    end = start + SHOWN
    # Cut between words where one is near.
    plain = "".join(text for text, _hit in parts)
    if start > 0 and (space := plain.find(" ", start, start + 20)) != -1:
        start = space + 1
    if end < total and (space := plain.rfind(" ", end - 20, end)) > start:
        end = space
    shown, at = [], 0
    for text, hit in parts:
        piece = text[max(0, start - at) : max(0, end - at)]
        if piece:
            shown.append((piece, hit))
        at += len(text)
    if start > 0:
        shown.insert(0, ("…", False))
    if end < total:
        shown.append(("…", False))
    return shown


def highlight_html(marked: str) -> SafeString:
    """The text with its matches in `<mark>`, everything else escaped: the
    text is escaped piece by piece and only the markers become tags."""
    return mark_safe(
        "".join(
            f"<mark>{escape(text)}</mark>" if hit else escape(text)
            for text, hit in _window(marked_parts(marked))
        )
    )


def _searchable() -> Func:
    """A message's text as PostgreSQL searches it: SEPARATORS as spaces."""
    spaces = " " * len(SEPARATORS)
    return Func(
        F("content"),
        template=f"translate(%(expressions)s, '{SEPARATORS}', '{spaces}')",
        output_field=TextField(),
    )


def _marked_onto(marked: str, text: str) -> str:
    """The markers of `marked` (a headline of `text` with SEPARATORS as
    spaces) put on `text` itself; `text` unmarked if the two do not align."""
    out, at = [], 0
    for char in marked:
        if char in (START, STOP):
            out.append(char)
        elif at < len(text):
            out.append(text[at])
            at += 1
        else:
            return text
    return "".join(out) if at == len(text) else text


@dataclass(frozen=True)
class SearchResult:
    """A message found, and its text as the engine marked the matches."""

    message: Message
    marked: str

    @property
    def id(self) -> int:
        return self.message.id

    @property
    def room(self) -> Room:
        return self.message.room

    @property
    def user(self):
        return self.message.user

    @property
    def created_at(self):
        return self.message.created_at

    @cached_property
    def html(self) -> SafeString:
        return highlight_html(self.marked)


@dataclass(frozen=True)
class SearchPage:
    """A page of results, newest first; `older`: the `before` of the next
    page, None on the last one. Nothing counts the matches: a million of
    them cost as little as twenty."""

    results: list[SearchResult]
    older: int | None


def message_search(
    *,
    user: AbstractBaseUser,
    query: str,
    room: Room | None = None,
    before: int | None = None,
    limit: int = 20,
) -> SearchPage:
    """The messages `user` may see whose text matches `query`, newest first,
    `limit` at most, older than the message `before` when given (keyset
    pagination), in `room` alone when given. A ValidationError for a
    malformed query."""
    terms = parse_query(query)
    limit = max(1, min(limit, 100))
    rooms = rooms_visible_to(user=user)
    if room is not None:
        rooms = rooms.filter(pk=room.pk)
    messages = Message.objects.select_related("room", "user__profile")
    if connection.vendor == "postgresql":
        query = SearchQuery(tsquery(terms), search_type="raw", config=CONFIG)
        found = [
            (message_id, None)
            for message_id in _postgresql(query, rooms, before=before, limit=limit + 1)
        ]
        # The headlines of the page's messages alone, read with them.
        messages = messages.annotate(
            marked=SearchHeadline(
                _searchable(),
                query,
                config=CONFIG,
                start_sel=START,
                stop_sel=STOP,
                highlight_all=True,
            )
        )
    else:
        found = _sqlite(terms, rooms, before=before, limit=limit + 1)
    # The page's messages, drawn with their room and author in one query.
    by_id = messages.in_bulk([message_id for message_id, _marked in found[:limit]])
    results = [
        SearchResult(
            message=by_id[message_id],
            marked=marked
            if marked is not None
            else _marked_onto(by_id[message_id].marked, by_id[message_id].content),
        )
        for message_id, marked in found[:limit]
        if message_id in by_id
    ]
    older = found[limit - 1][0] if len(found) > limit else None
    return SearchPage(results=results, older=older)


def _sqlite(terms: list[Term], rooms, *, before: int | None, limit: int) -> list:
    """(id, marked text) of the newest matches, on FTS5."""
    room_ids = list(rooms.values_list("pk", flat=True))
    if not room_ids:
        return []
    match = fts5_match(terms, room_ids if len(room_ids) <= ROOMS_IN_MATCH else None)
    # CROSS JOIN keeps the index as the outer loop: read newest first, it
    # stops at the page's end.
    sql = (
        "SELECT chat_message_fts.rowid, "
        "highlight(chat_message_fts, 0, %s, %s) "
        "FROM chat_message_fts CROSS JOIN chat_message "
        "ON chat_message.id = chat_message_fts.rowid "
        "WHERE chat_message_fts MATCH %s AND chat_message_fts.rowid < %s "
        "AND chat_message.room_id IN (SELECT value FROM json_each(%s)) "
        "AND chat_message.kind IN (%s, %s) AND chat_message.deleted_at IS NULL "
        "ORDER BY chat_message_fts.rowid DESC LIMIT %s"
    )
    params = [START, STOP, match, before if before is not None else 2**63 - 1]
    params += [json.dumps(room_ids), *KINDS, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _postgresql(query: SearchQuery, rooms, *, before: int | None, limit: int):
    """The ids of the newest matches, on PostgreSQL, in two steps, as its
    planner cannot: it knows how common the commonest words are, not how
    rare the others, and would read the whole table newest first looking
    for a rare word (seconds over a million messages), or sort every match
    of a common one it read through the index (as long).

    1. The newest RECENT messages of the rooms, read newest first, tested
       one by one: a word that is anywhere common fills the page here.
    2. Only if it did not: the older matches through the GIN index, sorted
       (`id + 0`: an order the primary key's index cannot give, so the
       planner reads the GIN index); a word that got here is rare enough
       for that to be quick."""
    scope = Message.objects.filter(
        room__in=rooms.values("pk"), kind__in=KINDS, deleted_at__isnull=True
    )
    if before is not None:
        scope = scope.filter(id__lt=before)

    def matching(messages):
        return messages.annotate(
            document=SearchVector(_searchable(), config=CONFIG)
        ).filter(document=query)

    recent = scope.order_by("-id").values("id")[:RECENT]
    ids = list(
        matching(Message.objects.filter(id__in=recent))
        .order_by("-id")
        .values_list("id", flat=True)[:limit]
    )
    if len(ids) == limit:
        return ids
    # Every match of the window is in `ids`: what is older than its oldest.
    older = scope.filter(id__lt=ids[-1]) if ids else scope
    newest_first = ExpressionWrapper(F("id") + 0, output_field=BigIntegerField())
    return ids + list(
        matching(older)
        .order_by(newest_first.desc())
        .values_list("id", flat=True)[: limit - len(ids)]
    )
