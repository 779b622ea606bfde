"""Database setup: the planner's statistics that the worker refreshes."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from caseapp.db_setup import refresh_planner_statistics
from caseapp.extensions import db
from caseapp.models.enums import CaseStatus
from tests.factories import case_in


def test_refreshing_statistics_tells_sqlite_about_the_case_indexes(
    app_ctx: Flask, demo_base: None
) -> None:
    for status in (CaseStatus.NEW, CaseStatus.IN_PROGRESS, CaseStatus.CLOSED):
        case_in(status)
    refresh_planner_statistics()
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL's autovacuum gathers its own; the call must simply not fail
    rows = db.session.execute(
        sa.text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'cases'")
    ).all()
    stats = dict(rows)
    assert stats["ix_cases_status_next_deadline"].startswith("3 ")
    assert "ix_cases_next_deadline_at" in stats
