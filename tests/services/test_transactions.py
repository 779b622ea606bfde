"""One service call, one transaction: what a refused or failing call wrote is gone when
the error reaches the view, and every service function that commits is such a call."""

from __future__ import annotations

import ast
import importlib
import pathlib

import pytest
import sqlalchemy as sa
from flask import Flask

import caseapp.services
from caseapp.extensions import db
from caseapp.models import Department
from caseapp.services.errors import StaleVersion, ValidationFailed
from caseapp.services.transactions import one_transaction
from tests.factories import department

SERVICES = pathlib.Path(caseapp.services.__file__).parent


def _calls(node: ast.AST) -> set[str]:
    return {ast.unparse(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}


def _committing_functions() -> list[tuple[str, str]]:
    """(module, function) for every public module-level service function that commits,
    itself or through a private helper of its module such as ``_commit_with_files`` (a
    context manager such as ``admin.audit.audited`` rolls back in its own body)."""
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        module = ".".join(path.relative_to(SERVICES.parent.parent).with_suffix("").parts)
        functions = [
            n
            for n in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(n, ast.FunctionDef)
        ]
        helpers: set[str] = set()  # private functions that commit, directly or not
        while True:
            more = {
                n.name
                for n in functions
                if n.name.startswith("_")
                and any(c.endswith("commit") or c in helpers for c in _calls(n))
            }
            if more <= helpers:
                break
            helpers |= more
        for node in functions:
            if node.name.startswith("_"):
                continue
            calls = {c for c in _calls(node) if c.endswith("commit") or c in helpers}
            managers = [d for d in node.decorator_list if ast.unparse(d) == "contextmanager"]
            if calls and node.name != "commit" and not managers:
                found.append((module, node.name))
    return found


COMMITTING = _committing_functions()


def test_the_search_finds_the_services_that_commit() -> None:
    names = {f"{module.rsplit('.', 1)[-1]}.{name}" for module, name in COMMITTING}
    assert {
        "handling.resolve_case",  # through _commit_with_files
        "handling.citizen_replies",
        "items.create_item",
        "accounts.change_own_password",
    } <= names
    assert len(COMMITTING) >= 45


@pytest.mark.database_free
@pytest.mark.parametrize(("module", "name"), COMMITTING, ids=[f"{m}.{n}" for m, n in COMMITTING])
def test_every_service_function_that_commits_rolls_back_when_it_raises(
    module: str, name: str
) -> None:
    function = getattr(importlib.import_module(module), name)
    assert getattr(function, "__wrapped__", None) is not None, (
        f"{module}.{name} commits but is not @one_transaction"
    )
    assert function.__code__ is one_transaction(lambda: None).__code__


def test_a_refused_call_leaves_nothing_written_or_changed(app_ctx: Flask, demo_base: None) -> None:
    zjj = department("zjj")
    name_before = zjj.name_zh

    @one_transaction
    def half_way() -> None:
        db.session.add(Department(code="half", name_zh="半途", name_en="Half way"))
        zjj.name_zh = "改了一半"
        db.session.flush()
        raise ValidationFailed("refused after writing")

    with pytest.raises(ValidationFailed):
        half_way()
    assert not db.session.new and not db.session.dirty
    assert department("zjj").name_zh == name_before
    assert db.session.scalar(sa.select(Department).where(Department.code == "half")) is None
    # What the caller commits next holds none of it.
    db.session.commit()
    assert db.session.scalar(sa.select(Department).where(Department.code == "half")) is None


def test_a_call_that_succeeds_keeps_what_it_committed(app_ctx: Flask, demo_base: None) -> None:
    @one_transaction
    def adds() -> str:
        db.session.add(Department(code="kept", name_zh="留下", name_en="Kept"))
        db.session.commit()
        return "done"

    assert adds() == "done"
    db.session.rollback()
    assert db.session.scalar(sa.select(Department).where(Department.code == "kept")) is not None


def test_the_error_reaches_the_caller_unchanged(app_ctx: Flask, demo_base: None) -> None:
    error = StaleVersion("changed by someone else")

    @one_transaction
    def stale() -> None:
        raise error

    with pytest.raises(StaleVersion) as raised:
        stale()
    assert raised.value is error
