"""Case numbers: prefix + year + a gap-free sequence of at least six digits."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from caseapp.extensions import db
from caseapp.models import CaseNumberSequence


def next_case_number(year: int) -> tuple[str, int]:
    """The next number of ``year`` and its sequence value.

    The counter row is incremented in the caller's transaction: the row lock (an
    immediate transaction on SQLite) makes concurrent filers queue, and a rolled-back
    filing gives its number back, so numbers have no gaps.
    """
    value = reserve_case_numbers(year, 1)
    return format_case_number(year, value), value


def format_case_number(year: int, value: int) -> str:
    """``YC2026-000123`` for the city's prefix, ``year`` and sequence ``value``."""
    prefix = current_app.config["CASE_NUMBER_PREFIX"]
    digits = current_app.config["CASE_NUMBER_DIGITS"]
    return f"{prefix}{year}-{value:0{digits}d}"


def reserve_case_numbers(year: int, count: int) -> int:
    """Advance ``year``'s counter by ``count`` in the caller's transaction and return the
    first sequence value reserved (bulk loads reserve a whole range at once)."""
    prefix = current_app.config["CASE_NUMBER_PREFIX"]
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(CaseNumberSequence)
        .values(prefix=prefix, year=year, last_value=0)
        .on_conflict_do_nothing(index_elements=["prefix", "year"])
    )
    last = db.session.execute(
        sa.update(CaseNumberSequence)
        .where(CaseNumberSequence.prefix == prefix, CaseNumberSequence.year == year)
        .values(last_value=CaseNumberSequence.last_value + count)
        .returning(CaseNumberSequence.last_value)
    ).scalar_one()
    return int(last) - count + 1
