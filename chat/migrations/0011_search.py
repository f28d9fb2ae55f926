"""Full-text search over message text, on each database's own engine
(chat/search.py queries it).

SQLite: an FTS5 table over chat_message (external content: the text is not
stored twice; `highlight()` reads it back from chat_message by id), kept in
step by triggers, so every write keeps it right (services, admin, bulk
inserts, cascades). Indexed: the kinds `message` and `action`, never a
deleted message. `room_id` is a column of it too, so a search within some
rooms narrows inside the index.

A later migration that makes SQLite rebuild chat_message (Django copies the
table and drops the old one) drops its triggers with it: it must create them
again. tests/chat/test_search.py fails until it does.

PostgreSQL: a text search configuration, `chat_english` (the `english`
one without its stop words), and a GIN index on the very expression
chat.search queries (to_tsvector('chat_english', ...) of the text with its
address punctuation as spaces); no table, no triggers.
"""

from django.db import migrations



def indexed(row: str) -> str:
    """Which rows the index holds (written out here, not imported: a
    migration keeps what it did)."""
    return f"{row}kind IN ('message', 'action') AND {row}deleted_at IS NULL"


SQLITE = [
    "CREATE VIRTUAL TABLE chat_message_fts USING fts5("
    "content, room_id, content='chat_message', content_rowid='id', "
    # English stemming, any script's letters, accents folded; prefix
    # indexes for two and three characters (a short prefix otherwise
    # merges thousands of terms).
    "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3')",
    f"""CREATE TRIGGER chat_message_fts_insert AFTER INSERT ON chat_message
    WHEN {indexed("new.")}
    BEGIN
        INSERT INTO chat_message_fts (rowid, content, room_id)
        VALUES (new.id, new.content, new.room_id);
    END""",
    # An external-content index forgets a row only when told what it held:
    # the old values, and only for a row it indexed.
    f"""CREATE TRIGGER chat_message_fts_delete AFTER DELETE ON chat_message
    WHEN {indexed("old.")}
    BEGIN
        INSERT INTO chat_message_fts (chat_message_fts, rowid, content, room_id)
        VALUES ('delete', old.id, old.content, old.room_id);
    END""",
    # One trigger, in this order: the old text out, then the new one in (an
    # edit), or only out (a delete). Updates of other columns (change
    # numbers, reactions) leave the index alone.
    f"""CREATE TRIGGER chat_message_fts_update
    AFTER UPDATE OF id, room_id, kind, content, deleted_at ON chat_message
    BEGIN
        INSERT INTO chat_message_fts (chat_message_fts, rowid, content, room_id)
        SELECT 'delete', old.id, old.content, old.room_id
        WHERE {indexed("old.")};
        INSERT INTO chat_message_fts (rowid, content, room_id)
        SELECT new.id, new.content, new.room_id
        WHERE {indexed("new.")};
    END""",
    # What was stored before.
    "INSERT INTO chat_message_fts (rowid, content, room_id) "
    f"SELECT id, content, room_id FROM chat_message WHERE {indexed('')}",
]

SQLITE_UNDO = [
    "DROP TRIGGER IF EXISTS chat_message_fts_insert",
    "DROP TRIGGER IF EXISTS chat_message_fts_delete",
    "DROP TRIGGER IF EXISTS chat_message_fts_update",
    "DROP TABLE IF EXISTS chat_message_fts",
]

POSTGRESQL = [
    # English stemming without stop words, as SQLite's porter tokenizer:
    # "the" is searchable, and a prefix such as "not*" is not dropped.
    "CREATE TEXT SEARCH DICTIONARY chat_english_stem "
    "(TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION chat_english (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION chat_english "
    "ALTER MAPPING REPLACE english_stem WITH chat_english_stem",
    # The expression Django writes for chat.search's SearchVector (the text
    # with . / @ : - _ ~ & ; < > + = ? # as spaces, so that addresses, paths
    # and tags split into words as on SQLite): the planner uses the index
    # only for a query on the same expression.
    "CREATE INDEX chat_message_search ON chat_message USING gin "
    "(to_tsvector('chat_english'::regconfig, COALESCE(translate(content, "
    "'./@:-_~&;<>+=?#', '               '), '')))",
]

POSTGRESQL_UNDO = [
    "DROP INDEX IF EXISTS chat_message_search",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS chat_english",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS chat_english_stem",
]


def run(statements: dict[str, list[str]]):
    def apply(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0010_attachments"),
    ]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            run({"sqlite": SQLITE_UNDO, "postgresql": POSTGRESQL_UNDO}),
        ),
    ]
