"""Health of the parts the app needs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from caseapp.extensions import db


def database_reachable() -> tuple[bool, str]:
    """(True, "") when a trivial query runs; else (False, the error's class name)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError as exc:
        db.session.rollback()
        return False, type(exc).__name__
    return True, ""
