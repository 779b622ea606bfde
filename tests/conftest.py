"""Fixtures: the app on a real database (SQLite by default, PostgreSQL when
DATABASE_URL says so), built by the real Alembic migrations, emptied after each test.

Under pytest-xdist each worker has a database of its own (``test-gw0.sqlite3``, or the
PostgreSQL database's name with ``_gw0``). The demo base and the demo city are loaded
once per worker through the real loaders, then kept as a snapshot of every table's rows:
a test that asks for them gets the rows put back in a few milliseconds instead of
loading them again (``Snapshots``)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from werkzeug.routing import AnyConverter, Rule

from caseapp import create_app
from caseapp.extensions import db, limiter
from config import TestConfig

DEMO_PASSWORD = "demo-password"
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("CASEAPP_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """The last run's screenshots go, once, before any xdist worker takes new ones; not
    in a run without the browser tests (CI's PostgreSQL pass keeps the SQLite pass's)."""
    browsers_left_out = "not browser" in (session.config.option.markexpr or "")
    if not hasattr(session.config, "workerinput") and not browsers_left_out:
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark the tests that never touch the database (no ``app`` among their fixtures):
    CI runs them once, in the SQLite pass, with the browser tests. Marked as collected,
    before ``-m`` selects."""
    if "app" not in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.database_free)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the long tests first (marked ``long``; tests/browser/conftest.py marks the
    browser tests, so this runs last): pytest-xdist hands tests out in this order as
    workers get free, so no worker is left running a long one alone at the end while
    the other waits."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def reset_database(engine: sa.Engine) -> None:
    """Drop every table (and the Alembic version) so migrations start from empty."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        return
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for table in reversed(meta.sorted_tables):
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}"')


def empty_tables(engine: sa.Engine) -> None:
    """Delete every row of every application table (the schema stays); on PostgreSQL
    the id sequences start again at 1, as they do on a new SQLite file."""
    tables = [t.name for t in db.metadata.sorted_tables]
    deletes = [f'DELETE FROM "{name}"' for name in reversed(tables)]
    with engine.begin() as conn:
        if engine.dialect.name != "postgresql":
            for statement in deletes:
                conn.exec_driver_sql(statement)
            return
        # One round trip: tables that point at each other empty in any order. setval is
        # what ALTER SEQUENCE … RESTART does, without its catalog write (27 sequences:
        # 4 ms instead of 28, twice for most tests).
        restarts = ", ".join(f"setval('\"{s}\"', 1, false)" for s in _sequences(conn))
        script = ["SET LOCAL session_replication_role = replica", *deletes]
        if restarts:
            script.append(f"SELECT {restarts}")
        conn.exec_driver_sql(";\n".join(script))


_SEQUENCES: dict[str, list[str]] = {}


def _sequences(conn: sa.Connection) -> list[str]:
    """The id sequences of the schema (read once per database: migrations ran before)."""
    key = conn.engine.url.render_as_string(hide_password=True)
    if key not in _SEQUENCES:
        _SEQUENCES[key] = list(
            conn.exec_driver_sql(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            ).scalars()
        )
    return _SEQUENCES[key]


class Snapshots:
    """Rows of every table, taken once after a loader ran, put back on demand."""

    def __init__(self) -> None:
        self._saved: dict[str, dict[str, list[dict[str, object]]]] = {}

    def save(self, name: str) -> None:
        """Keep the rows the database holds now as ``name``."""
        db.session.remove()
        with db.engine.connect() as conn:
            self._saved[name] = {
                table.name: [dict(row) for row in conn.execute(sa.select(table)).mappings()]
                for table in db.metadata.sorted_tables
            }

    def restore(self, name: str, load: Callable[[], object]) -> None:
        """Leave the database holding exactly what ``load`` makes from empty tables."""
        engine = db.engine
        empty_tables(engine)
        if name not in self._saved:
            load()
            self.save(name)
            return
        saved = self._saved[name]
        postgres = engine.dialect.name == "postgresql"
        with engine.begin() as conn:
            # Rows of a table may point at later rows of it (a merged case, a child
            # department): the keys are checked once all are back.
            conn.exec_driver_sql(
                "SET LOCAL session_replication_role = replica"
                if postgres
                else "PRAGMA defer_foreign_keys = ON"
            )
            for table in db.metadata.sorted_tables:
                if saved[table.name]:
                    conn.execute(table.insert(), saved[table.name])
            if postgres:
                # The sequences go on after the ids put back, in one statement.
                setvals = [
                    f"setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'(SELECT max(id) FROM "{table.name}"))'
                    for table in db.metadata.sorted_tables
                    if saved[table.name] and "id" in table.c
                ]
                if setvals:
                    conn.exec_driver_sql("SELECT " + ", ".join(setvals))


def worker_database_url() -> str:
    """The test database of this pytest-xdist worker (the configured one without xdist)."""
    url: str = TestConfig.SQLALCHEMY_DATABASE_URI
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    if url.startswith("sqlite"):
        return url.replace(".sqlite3", f"-{worker}.sqlite3")
    parsed = sa.make_url(url)
    name = f"{parsed.database}_{worker}"
    _recreate_database(parsed, name)
    worker_url = parsed.set(database=name).render_as_string(hide_password=False)
    # Subprocesses of the tests (CLI runs, second hosts) read it from the environment.
    os.environ["DATABASE_URL"] = worker_url
    return worker_url


def _recreate_database(url: sa.URL, name: str, *, drop_only: bool = False) -> None:
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            # A commit returns before its WAL reaches the disk: what every other
            # session (a second host, a server the crash tests restart) sees is the
            # same, only a crash of PostgreSQL itself could lose the last commits. The
            # suite commits thousands of times a minute: 0.18 ms a commit instead of
            # 0.34 (500 one-row commits on this machine, 2026-12-06).
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    server.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    upload_dir = tmp_path_factory.mktemp("uploads")
    url = worker_database_url()
    app = create_app(TestConfig, UPLOAD_DIR=str(upload_dir), SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        reset_database(db.engine)
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if os.environ.get("PYTEST_XDIST_WORKER") and not url.startswith("sqlite"):
        parsed = sa.make_url(url)
        _recreate_database(parsed, str(parsed.database), drop_only=True)


@pytest.fixture(scope="session")
def snapshots(app: Flask) -> Snapshots:
    return Snapshots()


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the app: no rows, no rate-limit counters, no uploads."""
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        empty_tables(db.engine)
        limiter.reset()
    upload_dir = Path(app.config["UPLOAD_DIR"])
    for child in upload_dir.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def demo_base(request: pytest.FixtureRequest, app: Flask, snapshots: Snapshots) -> None:
    """Departments, policies, categories and the demo accounts; the whole demo city
    with them when the test asks for ``demo_city`` too, so that both are in place
    before anyone signs in (signing in writes to the account's row)."""
    from caseapp.demo.base import load_base

    with app.app_context():
        if "demo_city" in request.fixturenames:
            snapshots.restore("city", load_demo_city)
        else:
            snapshots.restore("base", load_base)
        db.session.remove()


def load_demo_city() -> None:
    from caseapp.demo.base import load_base
    from caseapp.demo.city import load_city

    load_base()
    assert load_city() is True


@pytest.fixture
def demo_city(demo_base: None) -> None:
    """The demo base and the whole demo city (cases in every state, ledgers): put in
    place by ``demo_base``."""


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on the page at ``url``."""
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


class AuthActions:
    """Signs a test client in and out, through the real sign-in form."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str, password: str = DEMO_PASSWORD, **kwargs: object):
        token = csrf_token(self._client, "/staff/login")
        return self._client.post(
            "/staff/login",
            data={"username": username, "password": password, "csrf_token": token},
            **kwargs,
        )

    def logout(self):
        token = csrf_token(self._client, "/staff/queue")
        return self._client.post("/staff/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


def _client_as(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    response = AuthActions(client).login(username)
    assert response.status_code == 302, f"{username} could not sign in"
    return client


@pytest.fixture
def intake_client(app: Flask, demo_base: None) -> FlaskClient:
    return _client_as(app, "intake")


@pytest.fixture
def handler_client(app: Flask, demo_base: None) -> FlaskClient:
    return _client_as(app, "handler")


@pytest.fixture
def supervisor_client(app: Flask, demo_base: None) -> FlaskClient:
    return _client_as(app, "supervisor")


@pytest.fixture
def admin_client(app: Flask, demo_base: None) -> FlaskClient:
    return _client_as(app, "admin")


def database_kind() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def table_fingerprint(app: Flask) -> dict[str, object]:
    """Row counts of every table, every case's version and status, every follower's
    notices: equal before and after a request that must write nothing. The audit log's
    security events are left out: a refusal (403, 404, 429) is written there on purpose
    (caseapp.services.access.security_log)."""
    from caseapp.models import AuditLog, Case, CaseFollower

    with app.app_context():
        found: dict[str, object] = {
            table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
        found["audit_log"] = db.session.scalar(
            sa.select(sa.func.count(AuditLog.id)).where(AuditLog.entity != "security")
        )
        found["cases"] = db.session.execute(
            sa.select(Case.id, Case.version, Case.status).order_by(Case.id)
        ).all()
        found["followers"] = db.session.execute(
            sa.select(CaseFollower.id, CaseFollower.notify_by).order_by(CaseFollower.id)
        ).all()
        db.session.remove()
    return found


def rule_url(rule: Rule, id_value: str = "987654") -> str:
    """An address of ``rule``: ``id_value`` for each id in it (by default one that names
    no row), the first choice of an ``any(...)``, a value that exists nowhere for the rest."""
    values = {
        name: _path_value(converter, id_value) for name, converter in rule._converters.items()
    }
    return rule.build(values, append_unknown=False)[1]


def _path_value(converter: object, id_value: str) -> str:
    if isinstance(converter, AnyConverter):
        return converter.regex.removeprefix("(?:").split("|")[0]  # its first choice
    return {"IdConverter": id_value, "PathConverter": "x/y"}.get(
        type(converter).__name__, "no-such-thing"
    )
