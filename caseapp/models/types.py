"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

# The largest id: every id column is ``sa.Integer``, 32-bit signed on PostgreSQL.
ID_MAX = 2**31 - 1


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, stored as naive UTC and always returned timezone-aware (UTC).

    SQLite keeps no offset; PostgreSQL's ``timestamp`` would shift values with the
    session's zone. Storing naive UTC on both keeps comparisons and indexes simple.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; caseapp stores only aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def str_enum(enum_class: type[enum.Enum], length: int = 32) -> sa.Enum:
    """An enum stored as its string values (not names), without a native DB type."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)
