"""How Alembic writes and compares our column types (used by migrations/env.py and the
schema test, so both see the same rules)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from caseapp.models.types import UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our column types as plain SQL types, so migrations need no app imports.

    Enums are stored as strings without a CHECK constraint (the app validates them),
    and UTC times are a plain DateTime.
    """
    if type_ == "type":
        if isinstance(obj, UTCDateTime):
            return "sa.DateTime()"
        if isinstance(obj, sa.Enum):
            return f"sa.String(length={obj.length})"
    return False


def compare_type(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    """Compare a string-stored enum by the string it is; else Alembic's default."""
    if isinstance(metadata_type, sa.Enum):
        return not (
            isinstance(inspected_type, sa.String) and inspected_type.length == metadata_type.length
        )
    return None


# The text-search index lives outside the models (migration 0012, replacing 0004's: an
# FTS5 table and its shadow tables on SQLite, a generated column and its GIN index on
# PostgreSQL); autogenerate must neither drop them nor count them as differences. Only
# these names are left out.
SEARCH_TABLES = frozenset(
    {
        "case_bigrams",
        "case_bigrams_config",
        "case_bigrams_content",
        "case_bigrams_data",
        "case_bigrams_docsize",
        "case_bigrams_idx",
        "case_search",
        "case_search_config",
        "case_search_content",
        "case_search_data",
        "case_search_docsize",
        "case_search_idx",
    }
)
SEARCH_INDEXES = frozenset({"ix_cases_text_trgm", "ix_cases_text_bigrams"})
SEARCH_COLUMNS = frozenset({("cases", "text_bigrams")})


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Whether autogenerate compares a reflected object: all but the text search's."""
    if type_ == "table":
        return name not in SEARCH_TABLES
    if type_ == "index":
        return name not in SEARCH_INDEXES
    if type_ == "column":
        return (parent_names.get("table_name"), name) not in SEARCH_COLUMNS
    return True
