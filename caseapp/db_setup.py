"""Engine settings per database: SQLite gets WAL, a busy timeout and immediate writes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def configure_engine_options(app: Flask) -> None:
    """Set SQLALCHEMY_ENGINE_OPTIONS before Flask-SQLAlchemy builds the engine."""
    url: str = app.config["SQLALCHEMY_DATABASE_URI"]
    options: dict[str, Any] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if is_sqlite(url):
        timeout_s = app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000
        options.setdefault("connect_args", {}).update(
            {"timeout": timeout_s, "check_same_thread": False}
        )
    else:
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def init_app(app: Flask) -> None:
    """Attach per-connection settings to the engine Flask-SQLAlchemy made."""
    from caseapp.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _configure_sqlite(engine: sa.Engine, busy_timeout_ms: int) -> None:
    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        # Take the write lock at the start, so two writers queue on the busy timeout
        # instead of one failing with "database is locked" when it upgrades its lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def refresh_planner_statistics() -> None:
    """Let SQLite's query planner learn how the tables have grown: without statistics
    it may pick an index that makes the supervisor's queue sort every open case
    (100 ms instead of 5 at 100,000 cases). ANALYZE reads the indexes: 0.2 s at 100,000
    cases; a sample (``analysis_limit``) misjudged them. PostgreSQL's autovacuum gathers
    its own."""
    from caseapp.extensions import db

    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
