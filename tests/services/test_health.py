"""The health check of the database: a trivial query, and the transaction it opens
ended whether the query ran or not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from caseapp import create_app
from caseapp.extensions import db
from caseapp.services.health import database_reachable
from config import TestConfig


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[Flask]:
    """An app whose SQLite file lies in a folder that does not exist."""
    missing = tmp_path / "no-such-dir" / "db.sqlite3"
    broken = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")
    with broken.app_context():
        yield broken
        db.session.remove()
        db.engine.dispose()


def test_the_real_database_is_reachable(app_ctx: Flask) -> None:
    assert database_reachable() == (True, "")


def test_the_check_leaves_no_transaction_open(app_ctx: Flask) -> None:
    database_reachable()
    assert not db.session().in_transaction()


def test_an_unreachable_database_is_reported_by_the_error_class(unreachable: Flask) -> None:
    assert database_reachable() == (False, "OperationalError")


def test_a_failed_check_rolls_back_so_the_next_check_starts_clean(unreachable: Flask) -> None:
    database_reachable()
    assert not db.session().in_transaction()
    assert database_reachable() == (False, "OperationalError")
