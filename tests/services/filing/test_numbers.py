"""Case numbers: prefix, year, six digits, gap-free — also under concurrent filing."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Case
from caseapp.models.enums import CaseStatus
from caseapp.services.casework import intake
from caseapp.services.errors import StaleVersion
from tests.factories import department, new_case, staff


def test_numbers_have_prefix_year_and_six_digits(app_ctx: Flask, demo_base: None) -> None:
    first = new_case()
    second = new_case()
    assert re.fullmatch(r"YC\d{4}-\d{6}", first.number)
    assert first.number.endswith("-000001") and second.number.endswith("-000002")


def test_the_year_is_the_city_s_local_year(app_ctx: Flask, demo_base: None) -> None:
    # 31 December 2025 17:00 UTC is already 1 January 2026 in Shanghai.
    case = new_case(now=datetime(2025, 12, 31, 17, 0, tzinfo=UTC))
    assert case.number.startswith("YC2026-")
    older = new_case(now=datetime(2025, 12, 31, 15, 0, tzinfo=UTC))
    assert older.number == "YC2025-000001"


def test_a_failed_filing_gives_its_number_back(app_ctx: Flask, demo_base: None) -> None:
    new_case()
    try:
        new_case(citizen_phone="12345")  # refused: not a mobile number
    except Exception:
        db.session.rollback()
    assert new_case().number.endswith("-000002")


def _run_together(app: Flask, count: int, work) -> list[object]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                results[index] = work(index)
            except Exception as exc:  # noqa: BLE001 - the test inspects what each got
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


@pytest.mark.long
def test_200_parallel_filings_get_200_distinct_gap_free_numbers(
    app: Flask, demo_base: None
) -> None:
    results = _run_together(app, 200, lambda i: new_case(title=f"并发 {i}").number)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    numbers = sorted(int(str(n).rsplit("-", 1)[1]) for n in results)
    assert numbers == list(range(1, 201))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 200


def test_two_dispatches_at_once_one_wins_one_is_stale(app: Flask, demo_base: None) -> None:
    with app.app_context():
        number = new_case().number
        version = db.session.scalar(sa.select(Case.version).where(Case.number == number))
        targets = [department("zjj").id, department("cgj").id]

    def dispatch(index: int) -> str:
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case is not None
        intake.dispatch_case(case, staff("intake"), targets[index], version=version)
        return "dispatched"

    results = _run_together(app, 2, dispatch)
    assert sorted(type(r).__name__ for r in results) == ["StaleVersion", "str"], results
    assert any(isinstance(r, StaleVersion) for r in results)
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.status is CaseStatus.DISPATCHED
        dispatches = [e for e in db.session.scalars(case.events.select()) if e.action == "dispatch"]
        assert len(dispatches) == 1
