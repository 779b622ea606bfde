"""Timings of the queries the busiest pages run (DESIGN §11).

``run_benchmarks`` times the staff queue, the navigation counts, the escalation board,
the public statistics, the scorecards and the Open311 list, called as their views call
them. Targets are read from the printed figures, never asserted in timed unit tests.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from caseapp.bench.seed import ROADS
from caseapp.extensions import db
from caseapp.models import Case, User
from caseapp.models.types import utcnow
from caseapp.workflow.deadlines import DeadlineMath


@dataclass(frozen=True)
class Figure:
    """One benchmark: the best and median of its repeats in milliseconds, and how many
    rows the call gave (cases on a page or list, departments on the board, or the cases
    or outcomes a count-only call counted)."""

    name: str
    best_ms: float
    median_ms: float
    rows: int


@dataclass(frozen=True)
class _Benchmark:
    name: str
    prepare: Callable[[], Any]  # not timed: the signed-in user, a cursor
    call: Callable[[Any], int]  # timed; returns the rows


QUEUE_USERS = ("supervisor", "intake", "handler")
SEARCH_WORD = ROADS[0]


def _user(username: str) -> User:
    found = db.session.scalar(
        sa.select(User).where(User.username == username).options(selectinload(User.role_rows))
    )
    if found is None:
        raise LookupError(f"no user {username!r}: load the demo base (bench seed does)")
    return found


def _benchmarks(now: datetime) -> list[_Benchmark]:
    return [*_staff_page_benchmarks(now), *_report_benchmarks(now)]


def _staff_page_benchmarks(now: datetime) -> list[_Benchmark]:
    """The queue pages, text search, navigation counts and escalation board."""
    from caseapp.services.pages import escalation_board
    from caseapp.services.pages import queue as q

    def first_page(username: str) -> _Benchmark:
        def call(user: User) -> int:
            page = q.queue_page(user, q.default_view(user), q.QueueFilters(), now=now)
            return len(page.cases)

        return _Benchmark(f"queue page 1: {username}", lambda: _user(username), call)

    def next_page(username: str) -> _Benchmark:
        def prepare() -> tuple[User, q.Cursor | None]:
            user = _user(username)
            cursor = q.queue_page(user, q.default_view(user), q.QueueFilters(), now=now)
            after = cursor.next_cursor
            db.session.remove()
            return _user(username), after

        def call(prepared: tuple[User, q.Cursor | None]) -> int:
            user, after = prepared
            if after is None:
                return 0  # a single page: nothing after it
            page = q.queue_page(user, q.default_view(user), q.QueueFilters(), after, now=now)
            return len(page.cases)

        return _Benchmark(f"queue page 2: {username}", prepare, call)

    def search(user: User) -> int:
        filters = q.QueueFilters(q=SEARCH_WORD)
        return len(q.queue_page(user, q.default_view(user), filters, now=now).cases)

    def navigation(user: User) -> int:
        counts = q.navigation_counts(user, now)
        return counts.due_today + counts.overdue + counts.approvals

    def board_counts(user: User) -> int:
        return len(escalation_board.counts_by_department(user, now))

    def board_overdue(user: User) -> int:
        return len(escalation_board.overdue_cases(user, now))

    return [
        *(first_page(u) for u in QUEUE_USERS),
        *(next_page(u) for u in QUEUE_USERS),
        _Benchmark("queue text search (road): supervisor", lambda: _user("supervisor"), search),
        _Benchmark("navigation counts: handler", lambda: _user("handler"), navigation),
        _Benchmark("escalation counts: supervisor", lambda: _user("supervisor"), board_counts),
        _Benchmark("escalation overdue: supervisor", lambda: _user("supervisor"), board_overdue),
    ]


def _report_benchmarks(now: datetime) -> list[_Benchmark]:
    """The public statistics, the scorecards and the Open311 list."""
    from caseapp.reports import public_stats
    from caseapp.reports import scorecards as cards
    from caseapp.services import open311
    from caseapp.services.casework import clocks as deadlines

    def statistics_page(_: None) -> int:
        zone = ZoneInfo(current_app.config["CITY_TIMEZONE"])
        return public_stats.public_statistics("zh_CN", zone, now).filed

    def outcomes(card: cards.Scorecard) -> int:
        return card.response.whole + card.answered + card.rated + card.excluded + card.redos

    def public_scorecards(_: None) -> int:
        return outcomes(public_stats.department_scorecards(deadlines.deadline_math(), now).total)

    def public_page(_: None) -> int:
        kept = public_stats.kept_figures("zh_CN", deadlines.deadline_math())
        return 0 if kept is None else len(kept.scorecards.departments)

    def month_period(math: DeadlineMath) -> cards.ReportPeriod:
        return cards.period_containing(cards.PeriodKind.MONTH, math.local_date(now))

    def scorecard_report(_: None) -> int:
        math = deadlines.deadline_math()
        return outcomes(cards.report(month_period(math), now, math).total)

    def scorecard_trend(_: None) -> int:
        math = deadlines.deadline_math()
        return sum(
            outcomes(point.card) for point in cards.weekly_trend(month_period(math), now, math)
        )

    def open311_list(_: None) -> int:
        return len(open311.find_requests(open311.request_query({}, now)))

    def nothing() -> None:
        return None

    return [
        # What /stats reads: the daily totals the worker keeps (none before `stats rebuild`).
        _Benchmark("public page (kept totals)", nothing, public_page),
        # Computed from the cases, as the worker's counting does.
        _Benchmark("public statistics (direct)", nothing, statistics_page),
        _Benchmark("public scorecards 365 days (direct)", nothing, public_scorecards),
        _Benchmark("scorecards: this month", nothing, scorecard_report),
        _Benchmark("scorecards: 12-week trend", nothing, scorecard_trend),
        _Benchmark("open311 requests (90 days)", nothing, open311_list),
    ]


def benchmark_names() -> list[str]:
    """The names ``run_benchmarks`` reports, in its order."""
    return [bench.name for bench in _benchmarks(utcnow())]


def run_benchmarks(repeats: int = 5) -> list[Figure]:
    """Time each benchmark ``repeats`` times with an empty session before each repeat (so
    every repeat reads the database), as of one moment; LookupError without the demo
    users."""
    if repeats < 1:
        raise ValueError("repeat at least once")
    now = utcnow()
    figures: list[Figure] = []
    for bench in _benchmarks(now):
        times: list[float] = []
        rows = 0
        for _ in range(repeats):
            db.session.remove()
            prepared = bench.prepare()
            started = time.perf_counter()
            rows = bench.call(prepared)
            times.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        db.session.remove()
        figures.append(Figure(bench.name, min(times), statistics.median(times), rows))
    return figures


def count_cases() -> int:
    """How many cases the database holds."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Case)) or 0
