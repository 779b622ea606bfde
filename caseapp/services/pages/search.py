"""Free-text search of cases' titles and descriptions, through a trigram index.

Chinese has no spaces between words, so the index holds every run of three characters
(migration 0004): an FTS5 table with the trigram tokenizer on SQLite, a pg_trgm GIN
index on PostgreSQL. A word of three or more characters is looked up in it; "公交站"
finds "公交站点设置不合理". Words are separated by spaces and must all match.
"""

from __future__ import annotations

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case

# A trigram index can only look up words of at least three characters.
MIN_INDEXED_LENGTH = 3
MAX_WORDS = 5

# On SQLite: the FTS5 table of migration 0004 (its rowid is the case's id).
case_search = sa.table("case_search", sa.column("rowid", sa.Integer))


def search_words(q: str) -> list[str]:
    """The words of a query: split on any space (full-width too), at most MAX_WORDS."""
    return q.split()[:MAX_WORDS]


def case_text() -> sa.ColumnElement[str]:
    """``title || ' ' || description``: exactly the expression PostgreSQL's index is on.

    The space is a literal, not a bound parameter, so the planner sees the indexed
    expression as it is written in the migration.
    """
    return Case.title.op("||")(sa.literal_column("' '")).op("||")(Case.description)


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(word: str) -> str:
    """A word as an FTS5 phrase: quoted, so its characters are never query syntax."""
    return '"' + word.replace('"', '""') + '"'


def text_matches(q: str) -> sa.ColumnElement[bool]:
    """A condition on ``Case``: every word of ``q`` is in the title or description.

    Words of three or more characters go through the trigram index. Shorter ones cannot
    (a trigram index has nothing to look up for them); they become a LIKE that the
    database applies only to the rows the other conditions of the query (visibility,
    queue, filters, the indexed words) have already narrowed down.
    """
    words = search_words(q)
    if not words:
        return sa.true()
    indexed = [w for w in words if len(w) >= MIN_INDEXED_LENGTH]
    short = [w for w in words if len(w) < MIN_INDEXED_LENGTH]
    dialect = db.engine.dialect.name
    conditions: list[sa.ColumnElement[bool]] = []
    if indexed and dialect == "sqlite":
        # Phrases side by side: FTS5 wants them all.
        match = " ".join(_fts_phrase(w) for w in indexed)
        conditions.append(
            Case.id.in_(
                sa.select(case_search.c.rowid).where(
                    sa.literal_column("case_search").op("MATCH")(match)
                )
            )
        )
    elif indexed:
        # PostgreSQL's GIN trigram index serves ILIKE '%…%' on the indexed expression.
        conditions.extend(case_text().ilike(_like_pattern(w), escape="\\") for w in indexed)
    # The fallback for one- and two-character words: a LIKE over the visible rows that
    # the rest of the query leaves (no index can find them).
    conditions.extend(case_text().ilike(_like_pattern(w), escape="\\") for w in short)
    return sa.and_(*conditions)
