"""The public figures kept per day (issue 19): the same as computed from the events,
read without touching a case, and scorecard statements that do not grow with the data."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Case, DailyTotalsState
from caseapp.models.enums import CaseStatus
from caseapp.models.types import utcnow
from caseapp.reports import public_stats, scorecards
from caseapp.reports.daily_totals import RECENT_SECONDS, rebuild_daily_totals, refresh_daily_totals
from caseapp.services.casework import clocks as deadlines
from caseapp.workflow.visibility import publicly_counted
from tests.factories import case_in

# A statement that reads the cases or their events names the table after FROM or JOIN.
CASE_TABLES = re.compile(r"\b(FROM|JOIN)\s+\"?(cases|case_events)\b", re.I)


class Statements:
    """The statements sent to the database while it listens, with their parameters."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []

    def __call__(
        self, _conn: object, _cursor: object, statement: str, params: object, *_: object
    ) -> None:
        self.sent.append((statement, params))

    def parameters(self) -> list[int]:
        def count(params: object) -> int:
            if isinstance(params, dict):
                return len(params)
            if isinstance(params, list | tuple):
                return len(params)
            return 0

        return [count(params) for _statement, params in self.sent]


@pytest.fixture
def listen(app: Flask) -> Iterator[Callable[[Callable[[], object]], Statements]]:
    with app.app_context():
        engine = db.engine

    def run(work: Callable[[], object]) -> Statements:
        heard = Statements()
        sa.event.listen(engine, "before_cursor_execute", heard)
        try:
            work()
        finally:
            sa.event.remove(engine, "before_cursor_execute", heard)
        return heard

    yield run


def _every_scorecard(now: datetime) -> None:
    """The staff month scorecards, their trend and the cases behind each figure, and the
    public year's."""
    math = deadlines.deadline_math()
    period = scorecards.period_containing(scorecards.PeriodKind.MONTH, math.local_date(now))
    result = scorecards.report(period, now, math)
    scorecards.weekly_trend(period, now, math)
    start, end = period.bounds(math)
    for figure in scorecards.Figure:
        scorecards.cases_behind(
            scorecards.rows_behind(result.outcomes, figure),
            sa.true(),
            scorecards.figure_cases(figure, start, end),
        )
    public_stats.public_scorecards(math, now)


def test_scorecard_statements_do_not_grow_with_the_cases(
    app_ctx: Flask, demo_base: None, listen: Callable[[Callable[[], object]], Statements]
) -> None:
    now = datetime.now(UTC)
    sizes = []
    for cases in (2, 12):
        while db.session.scalar(sa.select(sa.func.count()).select_from(Case)) < cases:
            case_in(CaseStatus.CLOSED, now=now - timedelta(hours=2))
        db.session.commit()
        heard = listen(lambda: _every_scorecard(utcnow()))
        assert max(heard.parameters()) < 40
        sizes.append(sorted(heard.parameters()))
    assert sizes[0] == sizes[1]  # the same statements, whatever the number of cases


def test_rebuilt_totals_give_the_public_figures_of_the_events(
    app_ctx: Flask, demo_city: None
) -> None:
    now = utcnow()
    math = deadlines.deadline_math()
    rebuild_daily_totals(now, math)
    kept = public_stats.kept_figures("en", math)
    assert kept is not None
    assert kept.statistics == public_stats.public_statistics("en", math.tz, now)
    direct = public_stats.public_scorecards(math, now)
    assert direct.departments  # the demo city has figures to compare
    assert kept.scorecards == direct


def test_the_refresh_counts_what_happened_since(app_ctx: Flask, demo_city: None) -> None:
    math = deadlines.deadline_math()
    before = utcnow()
    rebuild_daily_totals(before, math)
    case_in(CaseStatus.CLOSED, now=before + timedelta(minutes=1))
    case_in(CaseStatus.IN_PROGRESS, now=before + timedelta(minutes=1))
    later = before + timedelta(minutes=30)
    refreshed = refresh_daily_totals(later)
    assert refreshed is not None and refreshed.statuses
    kept = public_stats.kept_figures("en", math)
    assert kept is not None
    assert kept.statistics == public_stats.public_statistics("en", math.tz, later)
    assert kept.scorecards == public_stats.public_scorecards(math, later)
    # Nothing new, and the last days were counted a moment ago: nothing to do.
    quiet = refresh_daily_totals(later + timedelta(seconds=RECENT_SECONDS - 1))
    assert quiet is not None and quiet.days == 0


def test_the_first_refresh_counts_every_day(app_ctx: Flask, demo_base: None) -> None:
    case_in(CaseStatus.CLOSED)
    refreshed = refresh_daily_totals()
    assert refreshed is not None and refreshed.built
    assert db.session.get(DailyTotalsState, 1) is not None


def test_an_anonymous_visit_reads_no_case_once_counted(
    app: Flask,
    client: FlaskClient,
    demo_city: None,
    listen: Callable[[Callable[[], object]], Statements],
) -> None:
    with app.app_context():
        rebuild_daily_totals()
    responses = []
    heard = listen(
        lambda: responses.extend(client.get(url) for url in ("/stats", "/stats?lang=en"))
    )
    assert [r.status_code for r in responses] == [200, 200]
    assert "by-department" in responses[1].get_data(as_text=True)
    touching = [statement for statement, _ in heard.sent if CASE_TABLES.search(statement)]
    assert touching == []
    assert len(heard.sent) < 20  # a few kept rows, not a count


def test_before_the_first_count_the_page_says_so(
    app: Flask,
    client: FlaskClient,
    demo_base: None,
    listen: Callable[[Callable[[], object]], Statements],
) -> None:
    with app.app_context():
        case_in(CaseStatus.CLOSED)
    responses = []
    heard = listen(
        lambda: responses.extend(client.get(url) for url in ("/stats", "/stats?lang=en"))
    )
    assert [r.status_code for r in responses] == [200, 200]
    assert "have not been computed yet" in responses[1].get_data(as_text=True)
    assert [s for s, _ in heard.sent if CASE_TABLES.search(s)] == []


def test_the_staff_scorecards_read_the_same_with_a_scope(app_ctx: Flask, demo_city: None) -> None:
    """``figure_cases`` reads the cases a figure was counted from: every row behind a
    figure finds its case."""
    now = utcnow()
    math = deadlines.deadline_math()
    period = scorecards.custom_period(
        math.local_date(now) - timedelta(days=364), math.local_date(now)
    )
    start, end = period.bounds(math)
    outcomes = scorecards.collect(start, end, now, math, publicly_counted())
    for figure in scorecards.Figure:
        rows = scorecards.rows_behind(outcomes, figure)
        found = scorecards.cases_behind(
            rows, sa.true(), scorecards.figure_cases(figure, start, end, scope=publicly_counted())
        )
        assert len(found) == len(rows)
    assert isinstance(period.first, date)
