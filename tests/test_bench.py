"""``flask bench seed`` and ``flask bench run``: what the synthetic cases must get right
(numbers, clocks, confidentiality, events, determinism), not how fast they are."""

from __future__ import annotations

from collections import Counter, defaultdict

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from caseapp.bench import benchmark_names
from caseapp.extensions import db
from caseapp.models import Case, CaseClock, CaseEvent, CaseNumberSequence
from caseapp.models.enums import (
    CONFIDENTIAL_KINDS,
    OPEN_STATUSES,
    CaseStatus,
    CloseReason,
    EventAction,
)
from caseapp.models.types import utcnow
from tests.conftest import empty_tables
from tests.factories import new_case

SEEDED = 300


def _seed(runner: FlaskCliRunner, count: int = SEEDED, *extra: str) -> str:
    result = runner.invoke(args=["bench", "seed", "--yes", "--cases", str(count), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _first_rows(count: int = 20) -> list[tuple[str, str, str]]:
    rows = db.session.execute(
        sa.select(Case.status, Case.kind, Case.title).order_by(Case.id).limit(count)
    )
    return [(str(status), str(kind), title) for status, kind, title in rows]


def test_seed_adds_consistent_cases(app: Flask, runner: FlaskCliRunner) -> None:
    output = _seed(runner, SEEDED, "--batch", "120")
    assert "120 / 300 cases" in output and "300 / 300 cases" in output
    assert "added 300 cases in" in output and "cases/s" in output
    with app.app_context():
        cases = db.session.scalars(sa.select(Case)).all()
        assert len(cases) == SEEDED

        # Numbers: unique, PREFIX+year-seq, and each year's sequence advanced past them.
        assert len({c.number for c in cases}) == SEEDED
        top: dict[int, int] = defaultdict(int)
        for c in cases:
            assert c.number == f"YC{c.number_year}-{c.number_seq:06d}"
            top[c.number_year] = max(top[c.number_year], c.number_seq)
        sequences = dict(
            db.session.execute(sa.select(CaseNumberSequence.year, CaseNumberSequence.last_value))
            .tuples()
            .all()
        )
        assert sequences == dict(top)
        assert len(top) >= 3  # about three years of history

        # Statuses and kinds are spread as asked.
        statuses = Counter(c.status for c in cases)
        assert set(statuses) == set(CaseStatus)
        assert statuses[CaseStatus.CLOSED] > SEEDED // 3
        assert {c.kind for c in cases} >= CONFIDENTIAL_KINDS
        assert all(c.identity_confidential == (c.kind in CONFIDENTIAL_KINDS) for c in cases)
        assert sum(c.identity_confidential for c in cases) < SEEDED // 10
        assert all(len(c.citizen_phone) == 11 and c.citizen_phone[:2] in ("13", "15", "18")
                   for c in cases if not c.anonymous)  # fmt: skip
        assert all(c.policy_terms.get("resolve") for c in cases)
        assert len({c.access_key_hash for c in cases}) == SEEDED

        # Clocks: one running (not paused, not stopped) per open case, its due the
        # case's next deadline; none for finished cases; some open cases overdue.
        running: dict[int, list[CaseClock]] = defaultdict(list)
        for clock in db.session.scalars(
            sa.select(CaseClock).where(
                CaseClock.stopped_at.is_(None), CaseClock.paused_at.is_(None)
            )
        ):
            running[clock.case_id].append(clock)
        overdue, now = 0, utcnow()
        for c in cases:
            if c.status in OPEN_STATUSES:
                assert len(running[c.id]) == 1, c
                assert c.next_deadline_at == running[c.id][0].due_at, c
                overdue += c.next_deadline_at < now
            else:
                assert running[c.id] == [] and c.next_deadline_at is None, c
            if c.status is CaseStatus.NEW:
                assert running[c.id][0].clock == "accept" and c.accepted_at is None
        assert overdue > 0

        # Times follow the status.
        for c in cases:
            assert (c.closed_at is not None) == (c.status is CaseStatus.CLOSED), c
            if c.status is CaseStatus.CLOSED:
                assert c.received_at <= c.accepted_at <= c.resolved_at <= c.closed_at  # type: ignore[operator]
                assert c.close_reason in (CloseReason.RATED, CloseReason.NO_RATING)
            if c.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
                assert c.resolved_at is not None and c.public_answer
            if c.status in (CaseStatus.IN_PROGRESS, CaseStatus.DISPATCHED):
                assert c.accepted_at is not None and c.lead_department_id is not None

        # Events: a SUBMIT for every case, a RESOLVE for every answered one.
        actions: dict[int, Counter[EventAction]] = defaultdict(Counter)
        for case_id, action, version in db.session.execute(
            sa.select(CaseEvent.case_id, CaseEvent.action, CaseEvent.case_version)
        ):
            actions[case_id][action] += 1
            assert version >= 1
        for c in cases:
            assert actions[c.id][EventAction.SUBMIT] == 1, c
            answered = c.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
            assert actions[c.id][EventAction.RESOLVE] == int(answered), c
            assert actions[c.id][EventAction.REJECT] == int(c.status is CaseStatus.REJECTED)

        # A real filing afterwards continues the sequence: no clash.
        seeded_numbers = {c.number for c in cases}
        filed = new_case()
        assert filed.number not in seeded_numbers
        assert filed.number_seq == top.get(filed.number_year, 0) + 1
        db.session.remove()


def test_same_seed_same_cases(app: Flask, runner: FlaskCliRunner) -> None:
    _seed(runner, 60, "--seed", "7")
    with app.app_context():
        first = _first_rows()
        db.session.remove()
        empty_tables(db.engine)
    _seed(runner, 60, "--seed", "7")
    with app.app_context():
        assert _first_rows() == first
        assert any("圣惠路" in title or "人民路" in title for _s, _k, title in _first_rows(60))
    _seed(runner, 60, "--seed", "8")
    with app.app_context():
        assert _first_rows(120)[60:80] != first


def test_run_prints_every_figure(app: Flask, runner: FlaskCliRunner) -> None:
    _seed(runner, 120)
    result = runner.invoke(args=["bench", "run", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "cases in the database: 120"
    for name in benchmark_names():
        assert sum(line.startswith(name + "  ") for line in lines) == 1, name


def test_bad_input_is_refused(app: Flask, runner: FlaskCliRunner) -> None:
    for args in (["seed", "--cases", "0"], ["seed", "--cases", "5", "--batch", "0"]):
        result = runner.invoke(args=["bench", *args])
        assert result.exit_code == 2, result.output
        assert "Invalid value" in result.output
    assert runner.invoke(args=["bench", "run", "--repeats", "0"]).exit_code == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_seeding_asks_before_it_writes(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["bench", "seed", "--cases", "5"], input="n\n")
    assert result.exit_code == 1 and "synthetic cases" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
