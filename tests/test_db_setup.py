"""Database setup: the planner's statistics that the worker refreshes, and on SQLite
who takes the write lock when (the burst itself is tests/test_sqlite_burst.py)."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp import create_app
from caseapp.db_setup import refresh_planner_statistics, transaction_lock
from caseapp.extensions import db
from caseapp.models import Setting
from caseapp.models.enums import CaseStatus
from config import TestConfig
from tests.conftest import database_kind
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


# --- SQLite: who takes the write lock when (caseapp/db_setup.py) ---------------------------

sqlite_only = pytest.mark.skipif(
    database_kind() != "sqlite", reason="SQLite's write lock; PostgreSQL locks rows"
)


@contextmanager
def write_lock_held_elsewhere(database: str) -> Iterator[sqlite3.Connection]:
    """Another connection (another process, say) holds the database's write lock."""
    other = sqlite3.connect(database, isolation_level=None, timeout=0, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


def _database(app: Flask) -> str:
    with app.app_context():
        return str(db.engine.url.database)


@sqlite_only
def test_a_page_is_read_while_another_connection_writes(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    # The old rule began every transaction with BEGIN IMMEDIATE: this page waited for
    # the busy timeout (15 s) and answered 500 "database is locked".
    with write_lock_held_elsewhere(_database(app)):
        started = time.monotonic()
        page = client.get("/requests/new?category=bus-stop")
        assert page.status_code == 200
        assert time.monotonic() - started < 3


@sqlite_only
def test_a_write_waits_its_turn_then_succeeds(app: Flask, demo_base: None) -> None:
    with write_lock_held_elsewhere(_database(app)) as other:
        threading.Timer(0.5, lambda: other.execute("COMMIT")).start()
        started = time.monotonic()
        with app.app_context():
            db.session.add(Setting(key="burst-test", value=1))
            db.session.commit()
            waited = time.monotonic() - started
            assert db.session.get(Setting, "burst-test") is not None
    assert 0.4 < waited < 5


def _same_database(app: Flask) -> dict[str, str]:
    """A second app on the suite's database (this worker's, under xdist)."""
    return {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}


@sqlite_only
def test_a_writer_gives_up_after_the_busy_timeout_and_leaves_the_lock_free(
    app: Flask, demo_base: None
) -> None:
    impatient = create_app(TestConfig, SQLITE_BUSY_TIMEOUT_MS=300, **_same_database(app))
    with write_lock_held_elsewhere(_database(app)), impatient.app_context():
        started = time.monotonic()
        db.session.add(Setting(key="burst-test", value=1))
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            db.session.commit()
        assert time.monotonic() - started < 3
        db.session.rollback()
    # The process's writer lock went back with the failed BEGIN: the next write of the
    # same app does not wait.
    with impatient.app_context():
        started = time.monotonic()
        db.session.add(Setting(key="burst-test", value=2))
        db.session.commit()
        assert time.monotonic() - started < 0.25
        db.session.remove()
        db.engine.dispose()


@sqlite_only
def test_a_get_that_writes_is_run_again_as_a_writing_request(
    app: Flask, demo_base: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A deferred read whose snapshot another writer has overtaken cannot become a
    write (SQLITE_BUSY_SNAPSHOT, whatever the busy timeout): the write is stopped before
    SQLite sees it and the request runs again in BEGIN IMMEDIATE."""
    writes_on_get = create_app(TestConfig, **_same_database(app))
    database = _database(app)
    attempts: list[bool] = []

    @writes_on_get.route("/_test/get-that-writes")
    def get_that_writes() -> str:
        attempts.append(True)
        db.session.scalar(sa.select(sa.func.count()).select_from(Setting))  # the snapshot
        if len(attempts) == 1:
            # Another connection commits after this request's snapshot began.
            other = sqlite3.connect(database, isolation_level=None, timeout=0)
            other.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES ('other', '1', '2026-01-01')"
            )
            other.close()
        db.session.add(Setting(key="from-a-get", value=len(attempts)))
        db.session.commit()
        return "done"

    with caplog.at_level(logging.WARNING, logger="caseapp.db_setup"):
        answer = writes_on_get.test_client().get("/_test/get-that-writes")
    assert answer.status_code == 200 and len(attempts) == 2
    assert "GET /_test/get-that-writes writes" in caplog.text
    with app.app_context():
        settings = dict(db.session.execute(sa.select(Setting.key, Setting.value)).tuples().all())
    assert settings == {"other": 1, "from-a-get": 2}
    with writes_on_get.app_context():
        db.engine.dispose()


@pytest.mark.skipif(database_kind() != "postgresql", reason="an advisory lock of PostgreSQL")
def test_a_transaction_lock_keeps_a_second_transaction_waiting(app: Flask) -> None:
    with app.app_context():
        transaction_lock("tracking-code:13812345678")
        key = int.from_bytes(
            hashlib.sha256(b"tracking-code:13812345678").digest()[:8], "big", signed=True
        )
        with db.engine.connect() as other:
            taken = other.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key})
            assert taken.scalar() is False
            other.rollback()
        db.session.rollback()  # the lock ends with the transaction
        with db.engine.connect() as other:
            taken = other.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key})
            assert taken.scalar() is True
