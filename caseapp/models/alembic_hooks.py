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
