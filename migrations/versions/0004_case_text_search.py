"""case text search

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00.000000

Staff search titles and descriptions for Chinese words, which have no spaces between
them, so the index holds character trigrams (DESIGN §11: searched through an index, not
a scan of every case).

- SQLite: an FTS5 table with the trigram tokenizer over ``cases`` (external content: it
  stores only the index), kept in step by triggers on ``cases``.
- PostgreSQL: pg_trgm and a GIN trigram index on ``title || ' ' || description``; it
  serves ``ILIKE '%…%'``.

Neither is in the models; ``caseapp.models.alembic_hooks.include_name`` keeps them out
of autogenerate's comparison. caseapp.services.pages.search.text_matches queries them.

Careful on SQLite: a later batch migration that recreates ``cases`` (copy, drop,
rename) drops these triggers with the old table. Such a migration must create them
again (copy ``_create_sqlite_triggers`` below); tests/services/pages/test_queue.py checks
that the index follows inserts, edits and deletes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


SQLITE_TRIGGERS = {
    'cases_search_insert': """
        CREATE TRIGGER cases_search_insert AFTER INSERT ON cases BEGIN
            INSERT INTO case_search (rowid, title, description)
            VALUES (new.id, new.title, new.description);
        END
    """,
    # An external-content FTS table forgets a row by being told its old values.
    'cases_search_delete': """
        CREATE TRIGGER cases_search_delete AFTER DELETE ON cases BEGIN
            INSERT INTO case_search (case_search, rowid, title, description)
            VALUES ('delete', old.id, old.title, old.description);
        END
    """,
    # Only when the text changes: status changes, the most frequent updates, skip it.
    'cases_search_update': """
        CREATE TRIGGER cases_search_update AFTER UPDATE OF title, description ON cases BEGIN
            INSERT INTO case_search (case_search, rowid, title, description)
            VALUES ('delete', old.id, old.title, old.description);
            INSERT INTO case_search (rowid, title, description)
            VALUES (new.id, new.title, new.description);
        END
    """,
}


def _create_sqlite_triggers():
    for sql in SQLITE_TRIGGERS.values():
        op.execute(sql)


def upgrade():
    # Reviewed: raw DDL per dialect; nothing for autogenerate to compare (see docstring).
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute(
            "CREATE VIRTUAL TABLE case_search USING fts5("
            "title, description, content='cases', content_rowid='id', tokenize='trigram')"
        )
        _create_sqlite_triggers()
        # Backfill: 'rebuild' reads every row of the content table (cases).
        op.execute("INSERT INTO case_search (case_search) VALUES ('rebuild')")
    elif dialect == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        # The expression must stay exactly as text_matches writes it, or the planner
        # will not use the index.
        op.execute(
            "CREATE INDEX ix_cases_text_trgm ON cases "
            "USING gin ((title || ' ' || description) gin_trgm_ops)"
        )


def downgrade():
    # Reviewed: drops exactly what upgrade made.
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
        op.execute('DROP TABLE IF EXISTS case_search')
    elif dialect == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_cases_text_trgm')
        # caseapp is pg_trgm's only user here; should anything else depend on it, the
        # drop (without CASCADE) fails and the downgrade rolls back rather than break it.
        op.execute('DROP EXTENSION IF EXISTS pg_trgm')
