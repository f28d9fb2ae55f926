"""The search selector (chat.search.message_search) on the database's own
engine: FTS5 on SQLite, text search on PostgreSQL. The same tests run on
both; `connection.vendor` only where the engines' English differs."""

import contextlib

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import search, services
from chat.models import Message, Room
from tests.chat.helpers import say

pytestmark = pytest.mark.django_db


def found(user, query: str, **kwargs) -> list[int]:
    return [
        r.id for r in search.message_search(user=user, query=query, **kwargs).results
    ]


# --- matching ---


def test_a_word_matches_its_forms_and_nothing_else(user, room):
    deployed = say(room, user, "We deployed the new build")
    deploying = say(room, user, "Deploying now!")
    say(room, user, "Lunch at noon?")
    assert found(user, "deploy") == [deploying.pk, deployed.pk]
    assert found(user, "DEPLOYS") == [deploying.pk, deployed.pk]
    assert found(user, "lunchbox") == []


def test_every_word_must_match_in_any_order(user, room):
    both = say(room, user, "the notes for the release")
    say(room, user, "release day")
    say(room, user, "notes taken")
    assert found(user, "release notes") == [both.pk]
    assert found(user, "notes release") == [both.pk]


def test_a_quoted_phrase_matches_only_those_words_in_that_order(user, room):
    phrase = say(room, user, "Read the release notes first")
    say(room, user, "notes on the release")
    assert found(user, '"release notes"') == [phrase.pk]
    assert found(user, '"notes release"') == []


def test_a_prefix_matches_the_words_it_begins(user, room):
    deployment = say(room, user, "the deployment failed")
    depot = say(room, user, "at the depot")
    say(room, user, "nothing to see")
    assert found(user, "deplo*") == [deployment.pk]
    assert found(user, "dep*") == [depot.pk, deployment.pk]
    # A star after a phrase makes its last word a prefix.
    assert found(user, '"the depl"*') == [deployment.pk]


def test_words_are_read_in_any_script(user, room):
    hebrew = say(room, user, "שלום עולם")
    greek = say(room, user, "Καλημέρα κόσμε")
    assert found(user, "שלום") == [hebrew.pk]
    assert found(user, "κόσμε") == [greek.pk]


def test_punctuation_around_words_is_ignored(user, room):
    message = say(room, user, "Ship it, please.")
    assert found(user, "(ship!)") == [message.pk]
    assert found(user, "it, please.") == [message.pk]


def test_words_inside_links_addresses_and_tags_are_words(user, room):
    message = say(
        room,
        user,
        "Notes: https://example.com/releases/48, ask ops@example.org\n"
        "about v1.2.3 of /usr/local/bin/tool_name <b>today</b>  e-mail\tme",
    )
    for query in (
        "releases",
        "example.com",
        '"example com releases 48"',
        "ops",
        "v1.2.3",
        "tool",
        "today",
        "mail",
        "loc*",
    ):
        assert found(user, query) == [message.pk], query
    [result] = search.message_search(user=user, query="releases ops").results
    assert str(result.html) == (
        "Notes: https://example.com/<mark>releases</mark>/48, ask "
        "<mark>ops</mark>@example.org\nabout v1.2.3 of /usr/local/bin/tool_name "
        "&lt;b&gt;today&lt;/b&gt;  e-mail\tme"
    )


@pytest.mark.parametrize(
    ("marked", "text", "onto"),
    [
        ("a b \x02c\x03", "a.b/c", "a.b/\x02c\x03"),
        ("\x02a\x03  b", "a<>b", "\x02a\x03<>b"),
        # Not the same text: left unmarked, never misplaced.
        ("\x02a\x03 b c", "a.b", "a.b"),
        ("\x02a\x03", "a.b", "a.b"),
    ],
)
def test_postgresql_headlines_are_put_back_on_the_original_text(marked, text, onto):
    assert search._marked_onto(marked, text) == onto


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="only SQLite's tokenizer folds accents"
)
def test_on_sqlite_accents_are_folded(user, room):
    message = say(room, user, "Un café crème")
    assert found(user, "cafe creme") == [message.pk]


def test_stop_words_are_searchable_on_both_engines(user, room):
    message = say(room, user, "to be or not to be")
    say(room, user, "nothing")
    assert found(user, "not") == [message.pk]
    assert found(user, '"to be"') == [message.pk]


# --- highlighting ---


def test_matches_are_marked_and_the_text_escaped(user, room):
    say(room, user, 'Deployed <script>alert("x")</script> <img src=x onerror=alert(1)>')
    [result] = search.message_search(user=user, query="deploy").results
    html = str(result.html)
    assert html.startswith("<mark>Deployed</mark> &lt;script&gt;")
    assert "<script" not in html and "<img" not in html
    tags = {tag.name for tag in BeautifulSoup(html, "html.parser").find_all(True)}
    assert tags == {"mark"}


def test_text_that_looks_like_markup_around_a_match_stays_text(user, room):
    say(room, user, "<mark>deploy</mark> &amp; </mark><b>")
    [result] = search.message_search(user=user, query="deploy").results
    page = BeautifulSoup(str(result.html), "html.parser")
    assert [mark.get_text() for mark in page.find_all("mark")] == ["deploy"]
    assert page.get_text() == "<mark>deploy</mark> &amp; </mark><b>"


@pytest.mark.parametrize(
    ("marked", "html"),
    [
        ("a \x02b\x03 c", "a <mark>b</mark> c"),
        # Stray or unclosed markers never leave a tag open or unopened.
        ("a \x03b\x02 c", "a b<mark> c</mark>"),
        ("\x02a\x02b\x03\x03", "<mark>ab</mark>"),
        ("<i>\x02&\x03", "&lt;i&gt;<mark>&amp;</mark>"),
        ("", ""),
    ],
)
def test_markers_become_balanced_tags_around_escaped_text(marked, html):
    assert search.highlight_html(marked) == html


def test_a_long_message_is_shown_around_its_first_match(user, room):
    text = "word " * 200 + "needle " + "tail " * 200
    say(room, user, text.strip())
    [result] = search.message_search(user=user, query="needle").results
    html = str(result.html)
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>needle</mark>" in html
    assert len(BeautifulSoup(html, "html.parser").get_text()) <= search.SHOWN + 2


# --- who sees what ---


def test_an_outsider_never_finds_a_private_rooms_messages(user, make_user, inner_room):
    outsider = make_user("carol")
    secret = say(inner_room.room, user, "the secret plan")
    assert found(user, "secret") == [secret.pk]
    assert found(inner_room.member, "secret") == [secret.pk]
    assert found(outsider, "secret") == []
    # Naming the room changes nothing.
    assert found(outsider, "secret", room=inner_room.room) == []


def test_a_direct_conversation_is_found_by_its_two_people_only(
    user, other_user, make_user
):
    dm = services.direct_room_get_or_create(user=user, other=other_user)
    message = say(dm, user, "just between us")
    assert found(user, "between") == [message.pk]
    assert found(other_user, "between") == [message.pk]
    assert found(make_user("carol"), "between") == []


def test_public_rooms_are_searched_without_joining_them(user, make_user, room):
    message = say(room, user, "open to all")
    assert found(make_user("carol"), "open") == [message.pk]


def test_leaving_a_private_room_takes_its_messages_out_of_ones_results(
    user, inner_room
):
    say(inner_room.room, user, "inner circle")
    services.room_leave(room=inner_room.room, user=inner_room.member)
    assert found(inner_room.member, "inner") == []


def test_an_inactive_user_finds_nothing(user, room):
    say(room, user, "hello there")
    user.is_active = False
    assert found(user, "hello") == []


# --- what is indexed ---


def test_deleted_messages_never_match(user, room):
    gone = say(room, user, "delete me soon")
    kept = say(room, user, "keep me around")
    services.message_delete(message=gone, deleter=user)
    assert found(user, "me") == [kept.pk]
    assert found(user, "delete") == []
    # The index is still sound for what comes next.
    again = say(room, user, "delete this too")
    assert found(user, "delete") == [again.pk]


def test_an_edited_message_matches_only_its_new_text(user, room):
    message = say(room, user, "the meeting is on monday")
    services.message_edit(message=message, editor=user, content="moved to tuesday")
    assert found(user, "monday") == []
    assert found(user, "tuesday") == [message.pk]
    services.message_edit(message=message, editor=user, content="back to monday")
    assert found(user, "monday") == [message.pk]
    assert found(user, "tuesday") == []


def test_actions_match_and_notices_do_not(user, make_user, room, inner_room):
    action = say(room, user, "/me waves hello")
    make_user("carol")
    services.room_member_add(room=inner_room.room, added_by=user, username="carol")
    services.room_join(room=room, user=make_user("erin"))
    assert found(user, "waves") == [action.pk]
    assert Message.objects.filter(kind="system", content__contains="added").exists()
    assert found(user, "added") == []  # "carol was added by alice", a notice


def test_reactions_and_other_changes_leave_the_index_as_it_was(user, bob, room):
    message = say(room, user, "react to this")
    services.reaction_toggle(message=message, user=bob, emoji="👍")
    Message.objects.filter(pk=message.pk).update(seq=999)
    assert found(user, "react") == [message.pk]


def test_writes_outside_the_services_keep_the_index_right(user, room):
    """Bulk inserts, updates and deletes (the admin, scripts) go through the
    triggers on SQLite; PostgreSQL's index is its own."""
    Message.objects.bulk_create(
        [Message(room=room, user=user, content=f"bulk number {i}") for i in range(3)]
    )
    assert len(found(user, "bulk")) == 3
    Message.objects.filter(content="bulk number 0").update(content="renamed")
    assert len(found(user, "bulk")) == 2
    assert len(found(user, "renamed")) == 1
    Message.objects.filter(content="bulk number 1").delete()
    assert len(found(user, "bulk")) == 1
    Room.objects.filter(pk=room.pk).delete()
    assert found(user, "bulk") == found(user, "renamed") == []


# --- order and pages ---


def test_newest_first_a_page_at_a_time(user, room, make_messages):
    messages = make_messages(room, 25, prefix="paged")
    newest = [m.pk for m in reversed(messages)]
    first = search.message_search(user=user, query="paged")
    assert [r.id for r in first.results] == newest[:20]
    assert first.older == newest[19]
    second = search.message_search(user=user, query="paged", before=first.older)
    assert [r.id for r in second.results] == newest[20:]
    assert second.older is None
    exact = search.message_search(user=user, query="paged", limit=5, before=newest[19])
    assert [r.id for r in exact.results] == newest[20:]
    assert exact.older is None


def test_a_room_alone(user, room, make_room):
    other = make_room("Other")
    here = say(room, user, "standup notes")
    there = say(other, user, "standup done")
    assert found(user, "standup") == [there.pk, here.pk]
    assert found(user, "standup", room=room) == [here.pk]
    assert found(user, "standup", room=other) == [there.pk]


def test_results_carry_their_room_and_author_in_few_queries(user, bob, room):
    for i in range(5):
        say(room, bob, f"found {i}")
    with CaptureQueriesContext(connection) as queries:
        page = search.message_search(user=user, query="found")
        for result in page.results:
            (result.room.slug, result.user.username, str(result.html))
    assert len(page.results) == 5
    assert len(queries) <= 3


# --- what a query may be ---


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('"release notes', "quote"),
        ('deploy "', "quote"),
        ("***", "empty"),
        ('""', "empty"),
        ('"" *', "empty"),
        ("?!... -- ;", "empty"),
        ("", "empty"),
        ("   ", "empty"),
        ("\x00", "empty"),
        ("a*", "prefix"),
        ("x" * 201, "long"),
    ],
)
def test_malformed_queries_are_refused_with_the_reason(user, room, query, code):
    with pytest.raises(ValidationError) as refused:
        search.message_search(user=user, query=query)
    assert refused.value.code == code
    assert refused.value.messages[0]


def test_the_longest_query_is_accepted(user, room):
    text = "x" * 100 + " " + "y" * 99
    message = say(room, user, text)
    assert found(user, text) == [message.pk]


@pytest.mark.parametrize(
    "query",
    [
        "NEAR(a b)",
        "a OR b",
        "content: a",
        "room_id : 1",
        "a AND NOT b",
        "'; DROP TABLE chat_message; --",
        "a & b | !c <-> dd:*",
        "a & b | !c <-> d:*",
        "^start",
        "{content} : x",
        "\u0301 \u0301\u0302*",  # combining marks alone: no letters
        "東京 \ue000",
        "\\' \\\" \\\\",
    ],
)
def test_engine_syntax_in_a_query_is_only_words(user, room, query):
    say(room, user, "a b c d")
    # Refused by the parser at most, never by the engine.
    with contextlib.suppress(ValidationError):
        search.message_search(user=user, query=query)
    assert Message.objects.filter(content="a b c d").exists()


def test_engine_words_are_words(user, room):
    """OR, NOT, NEAR: searched for as words, not operators."""
    message = say(room, user, "this OR that")
    say(room, user, "this alone")
    assert found(user, "this OR that") == [message.pk]


def test_the_queries_sent_to_the_engines_quote_every_word():
    terms = search.parse_query('Deploy "release notes" no* "a bc"* x\'y')
    assert search.fts5_match(terms, [3, 5]) == (
        'content : "deploy" AND content : "release notes" AND content : "no" * '
        'AND content : "a bc" * AND content : "x y" AND room_id : ("3" OR "5")'
    )
    assert search.tsquery(terms) == (
        "'deploy' & 'release' <-> 'notes' & 'no':* & 'a' <-> 'bc':* & 'x' <-> 'y'"
    )


# --- the engines' indexes ---


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers")
def test_sqlite_keeps_its_triggers():
    """A migration that makes SQLite rebuild chat_message drops its
    triggers: it must create them again (chat/migrations/0011_search.py)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'chat_message'"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert names >= {
        "chat_message_fts_insert",
        "chat_message_fts_delete",
        "chat_message_fts_update",
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's index")
def test_postgresql_searches_the_newest_then_through_its_gin_index(user, room):
    """A word not among the newest messages is looked up in the index: the
    selector's second query, as sent, can use the expression index (the
    planner picks it on a big table; here sequential scans are ruled out)."""
    say(room, user, "indexed words")
    with CaptureQueriesContext(connection) as queries:
        assert len(found(user, "indexed")) == 1
    window, through_index, page = (q["sql"] for q in queries)
    assert "@@" in window and f"LIMIT {search.RECENT}" in window
    assert "@@" in through_index and "ts_headline" in page
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + through_index)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on chat_message_search" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_postgresql_finds_a_rare_word_through_the_index_on_a_big_table(user, room):
    """With statistics of a big table, the planner left to itself would read
    it newest first for a word it cannot tell is rare; the second step's
    order keeps it on the index."""
    Message.objects.bulk_create(
        (
            Message(room=room, user=user, content=f"filler number {i}", seq=i)
            for i in range(1, 30001)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE chat_message")
    with CaptureQueriesContext(connection) as queries:
        assert len(found(user, "29999")) == 1
    through_index = queries[1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + through_index)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "chat_message_search" in plan, plan
