"""``flask bench seed`` and ``flask bench run``: what the synthetic cases must get right
(numbers, clocks, confidentiality, events, determinism), not how fast they are."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from caseapp.bench import benchmark_names, load, seed
from caseapp.extensions import db
from caseapp.models import ApiKey, Case, CaseClock, CaseEvent, CaseNumberSequence, User
from caseapp.models.enums import (
    CONFIDENTIAL_KINDS,
    OPEN_STATUSES,
    CaseStatus,
    CloseReason,
    EventAction,
)
from caseapp.models.types import utcnow
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.filing.cases import NewCase, submit_case
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


# The columns filing sets from what is filed; a new seeded case must hold what filing the
# same input gives. Not compared: the number and access key (drawn), the times the
# filing takes from its clock (created_at, updated_at), the escalation level (it
# depends on how long ago the seeded case was received) and the version (the optimistic
# lock's counter: a clerk's filing updates the new row once more in the same transaction,
# so it starts at 2; the seeder starts every case at 1).
FILED_COLUMNS = (
    "kind",
    "category_id",
    "priority",
    "channel",
    "status",
    "language",
    "title",
    "description",
    "address",
    "public_location",
    "district_department_id",
    "latitude",
    "longitude",
    "answers",
    "anonymous",
    "citizen_name",
    "citizen_phone",
    "citizen_email",
    "citizen_postal_address",
    "notify_by",
    "consent_privacy_at",
    "consent_public",
    "identity_confidential",
    "created_by_id",
    "first_responsible_id",
    "lead_department_id",
    "handler_id",
    "responsible_leader_id",
    "received_at",
    "accepted_at",
    "policy_terms",
    "next_deadline_at",
    "paused_at",
    "close_reason",
    "decision",
    "public_answer",
    "repeat_of_final",
    "duplicate_of_id",
    "review_of_id",
    "review_level",
)


def _as_filed(row: dict[str, object], category_code: str) -> NewCase:
    """The filing a seeded case's row stands for."""
    return NewCase(
        kind=row["kind"],
        category_code=category_code,
        title=row["title"],
        description=row["description"],
        channel=row["channel"],
        priority=row["priority"],
        address=row["address"],
        public_location=row["public_location"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        citizen_name=row["citizen_name"],
        citizen_phone=row["citizen_phone"],
        notify_by=row["notify_by"],
        consent_privacy=row["consent_privacy_at"] is not None,
        consent_public=row["consent_public"],
        anonymous=row["anonymous"],
        language=row["language"],
        # Only a clerk sets the day received; a citizen's filing is received as filed.
        received_at=row["received_at"] if row["created_by_id"] is not None else None,
    )


def test_a_seeded_new_case_holds_what_filing_gives(app_ctx: Flask, demo_base: None) -> None:
    city = seed.City.load(utcnow())
    codes = {category.id: category.code for category in city.categories}
    rng = random.Random(11)
    drafts = [seed.draft_case(rng, city, CaseStatus.NEW) for _ in range(80)]
    # One of each kind and way of filing (the citizen on the web, a clerk for them).
    picked = {(d.case["kind"], d.case["created_by_id"] is not None): d for d in drafts}
    assert len(picked) >= 10
    clerk = db.session.get(User, city.intake_id)
    for (kind, by_clerk), draft in picked.items():
        row = draft.case
        actor = Actor.staff(clerk) if by_clerk else Actor.citizen()
        case, _key = submit_case(
            _as_filed(row, codes[row["category_id"]]), actor, now=row["created_at"]
        )
        filed = {column: getattr(case, column) for column in FILED_COLUMNS}
        seeded = {column: row[column] for column in FILED_COLUMNS}
        assert seeded == filed, (kind, by_clerk)


# --- bench load: the figures and the filings' check (the load itself runs in CI's
# tools/bench-smoke on PostgreSQL: 30 users for 20 seconds) ----------------------------


def _results(requests: list[tuple[str, int, float]], **extra: object) -> dict[str, object]:
    """A results file's contents as the locustfile writes them."""
    return {"started": 100.0, "stopped": 110.0, "users": {"Citizen": 3, "Intake": 1},
            "requests": requests, "connection_errors": [], "task_errors": [],
            "filings": [["web", "LT-000000000001", "YC2026-000001"]], "lost": [], **extra}  # fmt: skip


def test_load_figures_per_page() -> None:
    case_page = [("GET /staff/cases/<number>", 200, float(ms)) for ms in range(1, 101)]
    run = load.read_results(
        _results(
            [
                *case_page,
                ("POST /staff/cases/<number>/act/dispatch", 302, 30.0),
                ("POST /staff/cases/<number>/act/dispatch", 409, 20.0),
                ("POST /staff/cases/<number>/act/dispatch", 409, 25.0),
                ("POST /staff/cases/<number>/act/dispatch", 400, 10.0),
                ("GET /", 200, 5.0),
            ]
        )
    )
    assert run.user_count == 4 and run.seconds == 10.0
    assert run.requests == 105 and run.per_second == 10.5
    pages = {p.name: p for p in run.pages}
    assert [p.name for p in run.pages] == sorted(pages)
    case = pages["GET /staff/cases/<number>"]
    assert (case.count, case.p50_ms, case.p95_ms, case.max_ms) == (100, 50.5, 95.05, 100.0)
    dispatch = pages["POST /staff/cases/<number>/act/dispatch"]
    assert dispatch.client_errors == {400: 1, 409: 2}
    assert dispatch.server_errors == 0 and dispatch.unanswered == 0
    # Refusals and conflicts are answers: the run passes.
    check = load.FilingCheck(acknowledged=1, stored_once=1, new_cases=1)
    assert load.failures(run, check) == []
    lines = load.report(run, check)
    assert lines[0] == "users 4 (Citizen 3, Intake 1), seconds 10.0, requests 105, 10.5 requests/s"
    row = next(line for line in lines if line.startswith("POST /staff/cases/<number>/act/dispatch"))
    assert row.split()[-2:] == ["400×1", "409×2"]
    assert any(line.startswith("all pages ") and " 105 " in line for line in lines)
    assert any("filings acknowledged 1 (web 1, Open311 0): stored exactly once 1" in line
               for line in lines)  # fmt: skip


@pytest.mark.parametrize(
    ("requests", "extra", "reason"),
    [
        ([("GET /stats", 500, 3.0), ("GET /stats", 200, 2.0)], {}, "1 answers were 5xx"),
        ([("GET /", 0, 60000.0)], {"connection_errors": ["GET /: timeout"]},
         "1 requests had no answer"),
        ([("GET /", 200, 1.0)], {"task_errors": ["Citizen: KeyError('x')"]},
         "1 user tasks failed"),
        ([("GET /", 200, 1.0)], {"filings": []}, "no filing was acknowledged"),
    ],
)  # fmt: skip
def test_load_fails_on_errors(
    requests: list[tuple[str, int, float]], extra: dict[str, object], reason: str
) -> None:
    run = load.read_results(_results(requests, **extra))
    reasons = load.failures(run, load.FilingCheck(acknowledged=1, stored_once=1, new_cases=1))
    assert len(reasons) == 1 and reasons[0].startswith(reason), reasons


def test_load_checks_every_filing_in_the_database(app_ctx: Flask, demo_base: None) -> None:
    before = new_case()  # not the run's: filed before it
    after_id = load.last_case_id()
    serial = iter(f"LT-{n:012x}" for n in range(1, 100))

    def filing(via: str = "web") -> tuple[load.Filing, str]:
        s = next(serial)
        case = new_case(description=f"红旗西街人行道砖块松动，老人容易绊倒。（{s}）")
        return load.Filing(via, s, case.number), s

    good = [filing(), filing("open311"), filing()]
    acknowledged = [f for f, _s in good]
    passed = load.check_filings(after_id, acknowledged, [])
    assert passed.ok and load.failures(_passing_run(), passed) == []
    assert (passed.acknowledged, passed.stored_once, passed.new_cases) == (3, 3, 3)
    assert before.number not in passed.unexplained

    # A filing whose answer was lost but which was stored; one lost and not stored.
    stored_lost, lost_serial = filing()
    lost = [load.LostAnswer("web", lost_serial, "POST: 0"),
            load.LostAnswer("open311", next(serial), "stopped")]  # fmt: skip
    # An acknowledged number never stored; one stored for another filing; a filing
    # stored twice; a case nobody filed.
    missing = load.Filing("web", next(serial), "YC2026-999999")
    other, _s = filing()
    wrong = load.Filing("web", next(serial), other.number)
    twice, twice_serial = filing()
    new_case(description=f"同一件事又存了一次（{twice_serial}）")
    stray = new_case(description="谁也没有提交过的案件")
    check = load.check_filings(
        after_id,
        [*acknowledged, missing, wrong, twice],
        [*lost, load.LostAnswer("web", other.serial, "x")],
    )
    assert check.missing == 1
    assert check.wrong == [other.number]
    assert check.doubled == [twice_serial]
    assert check.unexplained == [stray.number]
    assert check.stored_once == 3 and check.new_cases == 8
    assert (check.lost, check.lost_stored) == (3, 2)
    assert not check.ok
    reasons = load.failures(_passing_run(), check)
    assert [r.split(" ", 1)[1] for r in reasons] == [
        "acknowledged numbers are not stored",
        "acknowledged numbers hold another filing",
        "filings are stored more than once",
        "new cases were neither acknowledged nor lost",
    ]
    assert stored_lost.number not in check.unexplained


def _passing_run() -> load.LoadRun:
    return load.read_results(_results([("GET /", 200, 1.0)]))


def test_load_staff_parts_are_demo_accounts() -> None:
    parts = load.staff_parts()
    assert parts == {
        "intake": ["intake"],
        "handler": ["handler", "handler2"],
        "lead": ["lead"],
        "supervisor": ["supervisor", "leader"],
    }


def test_load_locustfile_loads_in_locust() -> None:
    """Locust (a subprocess: gevent stays out of this one) imports the locustfile and
    finds its users."""
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "locust"), "-f", str(load.LOCUSTFILE), "--list"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    users = {line.strip() for line in listed.stdout.splitlines()}
    assert {"Citizen", "Open311Client", "Intake", "Lead", "Handler", "Supervisor"} <= users


def test_load_asks_and_refuses_bad_input(app: Flask, runner: FlaskCliRunner) -> None:
    for args in (["--users", "0"], ["--seconds", "0"], ["--spawn-rate", "0"], ["--workers", "0"]):
        result = runner.invoke(args=["bench", "load", *args])
        assert result.exit_code == 2 and "Invalid value" in result.output, args
    result = runner.invoke(args=["bench", "load", "--users", "5"], input="n\n")
    assert result.exit_code == 1 and "with 5 users" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
