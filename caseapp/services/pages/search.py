"""Free-text search of cases' titles and descriptions, through a bigram index.

Chinese has no spaces between words and most of its words have two characters, so the
index holds every run of two characters of the lowered text (migration 0012): a GIN
index on ``cases.text_bigrams`` on PostgreSQL, a contentless FTS5 table of the bigrams
(each written in hex) on SQLite. A word of two or more characters is looked up by all
of its bigrams, and the cases found are then checked for the word itself (having its
bigrams is not containing it: 地局…土地 has those of 土地局): "土地" finds
"土地被征用", "公交站" finds "公交站点设置不合理". Words are separated by spaces and
must all match.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from caseapp.extensions import db
from caseapp.models import Case

# A bigram index can only look up words of at least two characters.
MIN_INDEXED_LENGTH = 2
MAX_WORDS = 5
# A query whose indexed words more cases hold than this is common (圣惠路: one case in
# nine). Its matches are then not fetched through the index and sorted (all 110,000 of
# them at a million cases, 590 ms): the queue is read in its own order and each case
# checked for the words (LIKE), which finds a page after a few hundred cases.
COMMON_MATCHES = 5000

# On SQLite: the FTS5 table of migration 0012 (its rowid is the case's id).
case_bigrams = sa.table("case_bigrams", sa.column("rowid", sa.Integer))
# On PostgreSQL: the generated column of migration 0012 (not in the model: a list
# never loads it).
text_bigrams = sa.literal_column("cases.text_bigrams", postgresql.ARRAY(sa.Text))


def search_words(q: str) -> list[str]:
    """The words of a query: split on any space (full-width too), at most MAX_WORDS."""
    return q.split()[:MAX_WORDS]


def case_text() -> sa.ColumnElement[str]:
    """``title || ' ' || description``: the text the index holds the bigrams of."""
    return Case.title.op("||")(sa.literal_column("' '")).op("||")(Case.description)


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ascii_lower(word: str) -> str:
    """Lower case as SQLite's lower() and LIKE fold it: ASCII letters only."""
    return "".join(c.lower() if c.isascii() else c for c in word)


def _fts_bigrams(word: str) -> str:
    """An FTS5 query for every bigram of ``word``, each the hex of its UTF-8 bytes as
    the triggers of migration 0012 write it (quoted: never query syntax)."""
    folded = _ascii_lower(word)
    hexes = {folded[i : i + 2].encode().hex().upper() for i in range(len(folded) - 1)}
    return " ".join(f'"{h}"' for h in sorted(hexes))


def _has_bigrams(word: str, dialect: str) -> sa.ColumnElement[bool]:
    """The index lookup: the cases whose text has every bigram of ``word``."""
    if dialect == "sqlite":
        return Case.id.in_(
            sa.select(case_bigrams.c.rowid).where(
                sa.literal_column("case_bigrams").op("MATCH")(_fts_bigrams(word))
            )
        )
    # The word's bigrams by the function that fills the column, so both fold alike.
    wanted = sa.func.case_text_bigrams(sa.func.lower(sa.cast(word, sa.Text)))
    return text_bigrams.contains(sa.type_coerce(wanted, postgresql.ARRAY(sa.Text)))


def text_matches(q: str) -> sa.ColumnElement[bool]:
    """A condition on ``Case``: every word of ``q`` is in the title or description.

    Words of two or more characters go through the bigram index, then a LIKE checks
    the word on the cases it found. One-character words cannot (there is nothing to
    look up for them); they are only the LIKE, which the database applies to the rows
    the other conditions of the query (visibility, queue, filters, the indexed words)
    have already narrowed down. So are the words of a common query (``_is_common``).
    """
    words = search_words(q)
    if not words:
        return sa.true()
    conditions = [case_text().ilike(_like_pattern(w), escape="\\") for w in words]
    looked_up = _looked_up(words)
    if looked_up is None or not _is_common(looked_up):
        return sa.and_(looked_up if looked_up is not None else sa.true(), *conditions)
    return sa.and_(*(_contains(w) for w in words))


def _contains(word: str) -> sa.ColumnElement[bool]:
    """The LIKE of ``text_matches`` for a common word, written as a position in the
    lowered text (the same match: lower() folds as ILIKE does on PostgreSQL and LIKE on
    SQLite). A LIKE the planner takes for rare and reads every case of the table; of a
    position > 0 it guesses a third, and reads the queue in order instead."""
    position = "instr" if db.engine.dialect.name == "sqlite" else "strpos"
    text = sa.func.lower(case_text())
    return getattr(sa.func, position)(text, sa.func.lower(sa.literal(word))) > 0


def _looked_up(words: list[str]) -> sa.ColumnElement[bool] | None:
    """The index lookup of the words it can look up, if any."""
    dialect = db.engine.dialect.name
    indexed = [_has_bigrams(w, dialect) for w in words if len(w) >= MIN_INDEXED_LENGTH]
    return sa.and_(*indexed) if indexed else None


def _is_common(looked_up: sa.ColumnElement[bool]) -> bool:
    """Whether the index finds at least COMMON_MATCHES cases (it stops counting there)."""
    found = sa.select(Case.id).where(looked_up).limit(COMMON_MATCHES).subquery()
    return (db.session.scalar(sa.select(sa.func.count()).select_from(found)) or 0) >= (
        COMMON_MATCHES
    )
