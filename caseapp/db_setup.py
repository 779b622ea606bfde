"""Engine settings per database, and who takes SQLite's write lock when.

SQLite runs in WAL mode: readers read a snapshot and neither wait for the one writer
nor hold it up; writers take turns on the database's single write lock. The rules:

1. **A unit that may write begins its transactions with ``BEGIN IMMEDIATE``**: every
   request whose method is not GET, HEAD or OPTIONS, every command and the worker.
   It takes the write lock before its first read, so it never has to turn a read
   transaction into a write one. That upgrade is what fails in WAL mode: when another
   connection committed after the reader's snapshot began, SQLite answers
   SQLITE_BUSY_SNAPSHOT at once, and the busy timeout cannot help, since waiting never
   makes an old snapshot current.
2. **A read-only request (GET, HEAD, OPTIONS) begins with a deferred ``BEGIN``**: it
   takes no write lock, so pages and the form's GET no longer queue behind filings.
   Should such a request write after all, the write is stopped before it reaches
   SQLite (``ReadOnlyUnitWrote``), the transaction is rolled back and the request is
   run once more as a writing unit (rule 1), with a warning in the log naming it:
   correct, if slower, and easy to find.
3. **Writers of one process queue on a lock of their own** before ``BEGIN IMMEDIATE``
   and leave it at commit or rollback. SQLite's busy handler does not queue: a
   waiting connection sleeps and tries again, at most every 100 ms once it has waited
   a while, while newcomers try within a millisecond; when the lock is nearly always
   taken, an early waiter can lose every time until its busy timeout is spent. With
   the process lock, the threads of one server wait in the operating system's queue
   for it, and only one of them at a time waits on SQLite. That one tries again
   every 2 ms instead of using the busy handler, so processes (the worker, other
   server processes) take turns fairly too. Past ``SQLITE_BUSY_TIMEOUT_MS`` in all,
   the write fails: a lock held that long is a fault, not a queue.

Why the old rule failed under a burst: every transaction, reads included, began with
``BEGIN IMMEDIATE``, and a request kept its transaction from its first query to its
end (the template rendered). Under 20 concurrent filers the write lock was taken 91 %
of the time, and the waits for it had a long tail (10.3 s at worst, while no
transaction held it longer than 0.2 s): the busy handler's unfairness above. A waiter
past the busy timeout got "database is locked" from ``BEGIN IMMEDIATE``, a 500, for
reads (the form, the confirmation page) and filings alike. Some of those cases were
saved but never acknowledged: the confirmation page failed after the filing, or the
Open311 answer, reading the case's number after the commit, began a new transaction
and failed in its ``BEGIN IMMEDIATE``. Reproduced with the timeout at 3 s: 38 of 611
requests failed in 20 s, 11 cases saved unacknowledged; at 15 s the same tail is only
rarer. With the rules above, the longest wait under that load is about 1.5 s, and
two server processes on one file wait no longer.

PostgreSQL needs none of this: rows are locked where they are written, and
``transaction_lock`` serialises what a row lock cannot cover.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, has_request_context, request
from flask.typing import ResponseReturnValue

log = logging.getLogger(__name__)

# Request methods that must not write; their transactions are deferred on SQLite.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Where a request's kind of unit is kept (the WSGI environ: it lives exactly as long
# as the request, even when a test shares one app context between requests).
UNIT_KEY = "caseapp.sqlite_unit"
# Connection.info keys: a deferred transaction; the process's writer lock held.
DEFERRED = "caseapp.sqlite_deferred"
HOLDS_WRITER_LOCK = "caseapp.sqlite_writer_lock"

SQLITE_BUSY = 5  # the primary result code; the extended ones (BUSY_SNAPSHOT…) share it
BEGIN_RETRY_INTERVAL_S = 0.002

_WRITE_STATEMENT = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|ANALYZE|REINDEX|VACUUM)\b",
    re.IGNORECASE,
)


class ReadOnlyUnitWrote(RuntimeError):
    """A read-only request tried to write in its deferred SQLite transaction."""


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
        # No JIT compilation: it cost 70-80 ms of every count over open cases at a
        # million cases, for queries that run in tens of milliseconds.
        args = options.setdefault("connect_args", {})
        args.setdefault("options", "-c jit=off")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def init_app(app: Flask) -> None:
    """Attach per-connection settings to the engine Flask-SQLAlchemy made, and on
    SQLite the choice of transaction per request (see the module's docstring)."""
    from caseapp.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        # Registered before every other hook, so that no query of the request (the
        # signed-in user's included) begins a transaction before the unit is known.
        app.before_request(_mark_read_only_request)
        _run_writing_reads_again(app)


def _mark_read_only_request() -> None:
    if request.method in READ_ONLY_METHODS:
        request.environ.setdefault(UNIT_KEY, "read")


def _in_read_only_request() -> bool:
    return has_request_context() and request.environ.get(UNIT_KEY) == "read"


def _run_writing_reads_again(app: Flask) -> None:
    """Run a read-only request again as a writing unit if it tried to write."""
    from caseapp.extensions import db

    dispatch = app.full_dispatch_request

    def full_dispatch_request() -> ResponseReturnValue:
        try:
            return dispatch()
        except ReadOnlyUnitWrote:
            db.session.rollback()
            log.warning(
                "%s %s writes: run again in a write transaction (make it a POST?)",
                request.method,
                request.path,
            )
            request.environ[UNIT_KEY] = "write"
            return dispatch()

    app.full_dispatch_request = full_dispatch_request  # type: ignore[method-assign]


def _configure_sqlite(engine: sa.Engine, busy_timeout_ms: int) -> None:
    writers = threading.Lock()
    wait_s = busy_timeout_ms / 1000

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
        if _in_read_only_request():
            connection.info[DEFERRED] = True
            connection.exec_driver_sql("BEGIN")
            return
        deadline = time.monotonic() + wait_s
        # Past the wait, go on without the process lock (one that was never given
        # back must not stop every write); the wait for SQLite's lock still applies.
        if writers.acquire(timeout=wait_s):
            connection.info[HOLDS_WRITER_LOCK] = True
        try:
            _begin_immediate(connection, deadline, busy_timeout_ms)
        except BaseException:
            release(connection.info)
            raise

    def release(info: dict[str, Any]) -> None:
        info.pop(DEFERRED, None)
        if info.pop(HOLDS_WRITER_LOCK, False):
            writers.release()

    @sa.event.listens_for(engine, "commit")
    def on_commit(connection: sa.Connection) -> None:
        release(connection.info)

    @sa.event.listens_for(engine, "rollback")
    def on_rollback(connection: sa.Connection) -> None:
        release(connection.info)

    # However a connection leaves its transaction (closed, invalidated, returned to
    # the pool), the process lock goes with it.
    @sa.event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection: Any, connection_record: Any) -> None:
        release(connection_record.info)

    @sa.event.listens_for(engine, "invalidate")
    def on_invalidate(dbapi_connection: Any, connection_record: Any, exception: Any) -> None:
        release(connection_record.info)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def guard_read_only(
        connection: sa.Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if not connection.info.get(DEFERRED) or not _in_read_only_request():
            return
        writes = context is not None and (context.isinsert or context.isupdate or context.isdelete)
        if writes or _WRITE_STATEMENT.match(statement):
            raise ReadOnlyUnitWrote(statement.split(None, 1)[0])


def _begin_immediate(connection: sa.Connection, deadline: float, busy_timeout_ms: int) -> None:
    """``BEGIN IMMEDIATE``, trying again every few milliseconds until ``deadline``
    while another process writes, instead of SQLite's busy handler (whose waits grow
    to 100 ms, so that it loses to a writer that tries sooner). Nothing has been done
    in the transaction yet, so trying again is always safe."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != SQLITE_BUSY or time.monotonic() >= deadline:
                    raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, error) from error
            time.sleep(BEGIN_RETRY_INTERVAL_S)
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


def transaction_lock(name: str) -> None:
    """Hold a lock called ``name`` until the current transaction ends, so that two
    transactions that count rows and then add one (on two hosts, say) take turns.
    PostgreSQL: a transaction-level advisory lock. SQLite: nothing more is needed, a
    writing transaction already holds the database's one write lock."""
    from caseapp.extensions import db

    if db.session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


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
