"""case text bigrams

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 12:00:00.000000

The text search of 0004 indexed character trigrams, which cannot look up a word of two
characters, and most Chinese words have two (土地, 路灯): such a search read every case
(issue 19: 5.1 s at a million cases). The index now holds character bigrams of
``lower(title || ' ' || description)``; a word of two or more characters is looked up
by all of its bigrams, then checked as a substring (caseapp.services.pages.search).
The bigrams replace the trigrams: they serve longer words as well, so 0004's index goes.

- PostgreSQL: ``cases.text_bigrams``, a text[] column generated from the text by
  ``case_text_bigrams`` (so it follows every insert and edit, with no trigger to
  disable), with a GIN index; ``text_bigrams @> ARRAY[…]`` finds the candidates. A
  stored column rather than an expression index: a plan that reads cases in deadline
  order checks the condition on each row it reads, and recomputing the bigrams there
  costs 30–100 µs a row.
- SQLite: ``case_bigrams``, a contentless FTS5 table whose rowid is the case's id and
  whose one document is the bigrams, each written as the hex of its UTF-8 bytes (one
  ASCII token whatever the characters: the tokenizer never splits or drops one), kept
  by triggers on ``cases``. ``lower`` folds ASCII only there, as LIKE does.

Neither is in the models; ``caseapp.models.alembic_hooks.include_name`` keeps them out
of autogenerate's comparison.

Careful on SQLite: a later batch migration that recreates ``cases`` drops these
triggers with the old table and must create them again (``_create_sqlite_triggers``);
tests/services/pages/test_queue.py checks that the index follows inserts, edits and
deletes. On PostgreSQL adding the column rewrites ``cases`` (about a minute at a
million cases, the table locked meanwhile).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _sqlite_bigrams(row):
    """SQL for the FTS document of a row (``new`` or ``old``): the hex of every bigram
    of its lowered text, space-separated. json_each over an array of length-1 zeros
    counts the positions (a trigger may not hold a WITH clause)."""
    text = f"lower({row}.title || ' ' || {row}.description)"
    return (
        f"(SELECT group_concat(hex(substr(t, key + 1, 2)), ' ') "
        f"FROM (SELECT {text} AS t), "
        f"json_each('[0' || replace(hex(zeroblob(length(t) - 2)), '00', ',0') || ']'))"
    )


SQLITE_TRIGGERS = {
    'cases_bigrams_insert': f"""
        CREATE TRIGGER cases_bigrams_insert AFTER INSERT ON cases BEGIN
            INSERT INTO case_bigrams (rowid, bigrams) VALUES (new.id, {_sqlite_bigrams('new')});
        END
    """,
    # A contentless FTS table forgets a row by being told the document it indexed.
    'cases_bigrams_delete': f"""
        CREATE TRIGGER cases_bigrams_delete AFTER DELETE ON cases BEGIN
            INSERT INTO case_bigrams (case_bigrams, rowid, bigrams)
            VALUES ('delete', old.id, {_sqlite_bigrams('old')});
        END
    """,
    # Only when the text changes: status changes, the most frequent updates, skip it.
    'cases_bigrams_update': f"""
        CREATE TRIGGER cases_bigrams_update AFTER UPDATE OF title, description ON cases
        BEGIN
            INSERT INTO case_bigrams (case_bigrams, rowid, bigrams)
            VALUES ('delete', old.id, {_sqlite_bigrams('old')});
            INSERT INTO case_bigrams (rowid, bigrams) VALUES (new.id, {_sqlite_bigrams('new')});
        END
    """,
}

# 0004's trigram search, dropped here and made again by downgrade.
SQLITE_TRIGRAM_TRIGGERS = {
    'cases_search_insert': """
        CREATE TRIGGER cases_search_insert AFTER INSERT ON cases BEGIN
            INSERT INTO case_search (rowid, title, description)
            VALUES (new.id, new.title, new.description);
        END
    """,
    'cases_search_delete': """
        CREATE TRIGGER cases_search_delete AFTER DELETE ON cases BEGIN
            INSERT INTO case_search (case_search, rowid, title, description)
            VALUES ('delete', old.id, old.title, old.description);
        END
    """,
    'cases_search_update': """
        CREATE TRIGGER cases_search_update AFTER UPDATE OF title, description ON cases BEGIN
            INSERT INTO case_search (case_search, rowid, title, description)
            VALUES ('delete', old.id, old.title, old.description);
            INSERT INTO case_search (rowid, title, description)
            VALUES (new.id, new.title, new.description);
        END
    """,
}

# Every two-character substring, duplicates left in (GIN keeps each key once per row).
# IMMUTABLE: the generated column requires it; lower() is applied by the caller, so
# that the column and the query fold letters alike.
PG_BIGRAMS_FUNCTION = """
    CREATE FUNCTION case_text_bigrams(t text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
    DECLARE
        found text[] := '{}';
    BEGIN
        FOR i IN 1 .. length(t) - 1 LOOP
            found := found || substr(t, i, 2);
        END LOOP;
        RETURN found;
    END
    $$
"""


def _create_sqlite_triggers():
    for sql in SQLITE_TRIGGERS.values():
        op.execute(sql)


def upgrade():
    # Reviewed: raw DDL per dialect; nothing for autogenerate to compare (see docstring).
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for name in SQLITE_TRIGRAM_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
        op.execute('DROP TABLE IF EXISTS case_search')
        op.execute(
            "CREATE VIRTUAL TABLE case_bigrams USING fts5("
            "bigrams, content='', tokenize='ascii', detail='none')"
        )
        _create_sqlite_triggers()
        op.execute(
            f"INSERT INTO case_bigrams (rowid, bigrams) "
            f"SELECT cases.id, {_sqlite_bigrams('cases')} FROM cases"
        )
    elif dialect == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_cases_text_trgm')
        op.execute(PG_BIGRAMS_FUNCTION)
        # The expression must stay as caseapp.services.pages.search writes the text.
        op.execute(
            "ALTER TABLE cases ADD COLUMN text_bigrams text[] GENERATED ALWAYS AS "
            "(case_text_bigrams(lower(title || ' ' || description))) STORED"
        )
        op.execute('CREATE INDEX ix_cases_text_bigrams ON cases USING gin (text_bigrams)')
        op.execute('ANALYZE cases')  # the planner's estimates for @> come from these


def downgrade():
    # Reviewed: drops what upgrade made and makes 0004's trigram search again.
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
        op.execute('DROP TABLE IF EXISTS case_bigrams')
        op.execute(
            "CREATE VIRTUAL TABLE case_search USING fts5("
            "title, description, content='cases', content_rowid='id', tokenize='trigram')"
        )
        for sql in SQLITE_TRIGRAM_TRIGGERS.values():
            op.execute(sql)
        op.execute("INSERT INTO case_search (case_search) VALUES ('rebuild')")
    elif dialect == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_cases_text_bigrams')
        op.execute('ALTER TABLE cases DROP COLUMN IF EXISTS text_bigrams')
        op.execute('DROP FUNCTION IF EXISTS case_text_bigrams(text)')
        op.execute(
            "CREATE INDEX ix_cases_text_trgm ON cases "
            "USING gin ((title || ' ' || description) gin_trgm_ops)"
        )
