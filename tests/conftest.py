"""Fixtures: the app on a real database (SQLite by default, PostgreSQL when
DATABASE_URL says so), built by the real Alembic migrations, emptied after each test."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade

from caseapp import create_app
from caseapp.extensions import db, limiter
from config import TestConfig

DEMO_PASSWORD = "demo-password"


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
    """Delete every row of every application table (the schema stays)."""
    tables = [t.name for t in db.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{name}"' for name in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for name in reversed(tables):
                conn.exec_driver_sql(f'DELETE FROM "{name}"')


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    upload_dir = tmp_path_factory.mktemp("uploads")
    app = create_app(TestConfig, UPLOAD_DIR=str(upload_dir))
    with app.app_context():
        reset_database(db.engine)
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


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
def demo_base(app: Flask) -> None:
    """Departments, policies, categories and the demo accounts."""
    from caseapp.demo.base import load_base

    with app.app_context():
        load_base()
        db.session.remove()


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


ROOT = Path(__file__).resolve().parent.parent


def table_fingerprint(app: Flask) -> dict[str, object]:
    """Row counts of every table, every case's version and status, every follower's
    notices: equal before and after a request that must write nothing."""
    from caseapp.models import Case, CaseFollower

    with app.app_context():
        found: dict[str, object] = {
            table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
        found["cases"] = db.session.execute(
            sa.select(Case.id, Case.version, Case.status).order_by(Case.id)
        ).all()
        found["followers"] = db.session.execute(
            sa.select(CaseFollower.id, CaseFollower.notify_by).order_by(CaseFollower.id)
        ).all()
        db.session.remove()
    return found
