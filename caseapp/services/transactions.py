"""One service call, one transaction (DESIGN §11): a service function commits what it
did at its end, and if it raises instead, nothing it wrote is left in the session.
Views never roll back: the page that says why a call was refused starts from the
database as it was."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from caseapp.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def one_transaction(func: Callable[P, R]) -> Callable[P, R]:
    """Roll the session back when ``func`` raises, then let the error go on.

    ``func`` commits itself where it succeeds (some commit more than once, on purpose:
    a filing's number before its files); this is the other half, so a refused call
    (ValidationFailed, NotAllowed, StaleVersion …) or a failure half-way never leaves
    pending rows or changed objects for the caller to commit by mistake."""

    @functools.wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return call
