"""The migrations build exactly the schema of the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade

from caseapp.extensions import db
from caseapp.models import CaseEvent
from caseapp.models.alembic_hooks import compare_type, include_name, render_item
from caseapp.models.enums import EventAction
from caseapp.models.types import utcnow
from tests.factories import case_row


def _script_directory(app: Flask) -> ScriptDirectory:
    config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config)


def test_there_is_exactly_one_head(app: Flask) -> None:
    with app.app_context():
        assert len(_script_directory(app).get_heads()) == 1


def _schema_differences(app: Flask) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": compare_type,
                "render_item": render_item,
                "include_name": include_name,
            },
        )
        return compare_metadata(context, db.metadata)


def test_downgrade_to_empty_then_upgrade_matches_the_models(app: Flask) -> None:
    with app.app_context():
        downgrade(revision="base")
        leftover = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert leftover == set()
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        assert _schema_differences(app) == []


def test_case_events_cannot_be_changed_or_deleted(app_ctx: Flask, demo_base: None) -> None:
    case = case_row()
    event = CaseEvent(
        case_id=case.id,
        action=EventAction.NOTE,
        actor_kind="system",
        case_version=1,
        at=utcnow(),
    )
    db.session.add(event)
    db.session.commit()
    event.internal_text = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(event)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()


def test_naive_datetimes_are_refused(app_ctx: Flask, demo_base: None) -> None:
    from datetime import datetime

    case = case_row()
    case.received_at = datetime(2026, 1, 1, 8, 0)  # no zone: ambiguous, refused
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    "column", ["duplicate_of_id", "review_of_id", "first_responsible_id", "responsible_leader_id"]
)
def test_links_most_cases_lack_are_indexed_where_set(app_ctx: Flask, column: str) -> None:
    """Partial indexes (migration 0015): with a full index SQLite's statistics take
    ``column = ?`` for every case and scan the table (the case page: 1.5 s at a
    million cases)."""
    indexes = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("cases")}
    where = indexes[f"ix_cases_{column}"]["dialect_options"]
    condition = str(where.get("sqlite_where", where.get("postgresql_where")))
    assert column in condition and "NOT NULL" in condition.upper()
