"""The figures of the public statistics page, kept per local day (issue 19).

At a million cases a year of scorecards took 16 s to compute, and the page is open to
anyone: the worker now counts each day once, into small tables (caseapp.models.stats),
and the page adds up those rows. What is kept, for the cases the public may see:

- per department and day, the sums the scorecards' rates are made of (``ScorecardDaily``,
  counted by ``scorecards.collect`` exactly as the staff scorecards count them);
- per day, the requests received (``PublicDailyFiling``), for the months' chart;
- by category and status, the requests as they stand (``PublicStatusCount``).

A day's figures change after the day: a reopening annuls a close counted months ago, a
new rating replaces an old one. The refresh reads what happened since its last run
(events and cases with higher ids than it has seen) and counts again every day that
news touches — the days of the case's ratings, answers and redos, the day of the news
itself — and, every few minutes, the last days, whose clocks fall due as time passes.
``rebuild_daily_totals`` counts every day again (``flask stats rebuild``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import (
    Case,
    CaseEvent,
    DailyTotalsState,
    PublicDailyFiling,
    PublicStatusCount,
    ScorecardDaily,
)
from caseapp.models.enums import CaseStatus, EventAction, Satisfaction
from caseapp.models.types import utcnow
from caseapp.reports import scorecards
from caseapp.workflow.deadlines import DeadlineMath
from caseapp.workflow.visibility import public_cases, publicly_counted

log = logging.getLogger(__name__)

A = EventAction
STATE_ID = 1
# Days counted in one pass: a month's events are read at once, then split by day.
CHUNK_DAYS = 31
# The last days are counted again this often even when nothing happened: first-response
# clocks fall due with the passing time, not with an event.
RECENT_SECONDS = 300
RECENT_DAYS = 3
# News of these kinds can change a past day's figures (annul a close or a rating,
# replace an answer, exclude a rating); the days of these events of the same case are
# counted again.
ANNULLING = (A.RATE, A.REOPEN, A.RESOLVE, A.DECIDE_REDO, A.EXCLUDE_RATING)
DATED = (A.RATE, A.REOPEN, A.RESOLVE, A.DECIDE_REDO)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Refreshed:
    """What one refresh counted again."""

    days: int
    statuses: bool
    built: bool = False


def _math() -> DeadlineMath:
    from caseapp.services.casework import clocks

    return clocks.deadline_math()


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days as contiguous runs of at most CHUNK_DAYS days, (first, last)."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs:
            first, last = runs[-1]
            if day == last + timedelta(days=1) and (day - first).days < CHUNK_DAYS:
                runs[-1] = (first, day)
                continue
        runs.append((day, day))
    return runs


def _count_days(first: date, last: date, now: datetime, math: DeadlineMath) -> None:
    """Count ``first`` … ``last`` again: the old rows go, the new ones are added (the
    caller commits)."""
    start, end = math.start_of_day(first), math.end_of_day(last)
    outcomes = scorecards.collect(start, end, now, math, publicly_counted())
    sums: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(row: object, **counts: int) -> None:
        department_id = getattr(row, "department_id", None)
        if department_id is None:
            return  # no department held the case: in no department's figures
        cell = sums[(department_id, math.local_date(row.at))]  # type: ignore[attr-defined]
        for name, value in counts.items():
            cell[name] += value

    for response in outcomes.responses:
        add(response, responses=1, responses_on_time=int(response.on_time))
    for rating in outcomes.ratings:
        if rating.excluded:
            add(rating, excluded=1)
            continue
        add(
            rating,
            rated=1,
            solved=int(rating.solved),
            satisfied=int(rating.satisfaction is Satisfaction.SATISFIED),
            basically_satisfied=int(rating.satisfaction is Satisfaction.BASICALLY_SATISFIED),
        )
    for answer in outcomes.answers:
        add(
            answer,
            answered=1,
            answered_on_time=int(answer.on_time),
            answer_working_days=answer.working_days,
        )
    for redo in outcomes.redos:
        add(redo, redos=1)

    db.session.execute(
        sa.delete(ScorecardDaily).where(ScorecardDaily.day >= first, ScorecardDaily.day <= last)
    )
    db.session.execute(
        sa.delete(PublicDailyFiling).where(
            PublicDailyFiling.day >= first, PublicDailyFiling.day <= last
        )
    )
    cells = [
        {"department_id": department_id, "day": day, **counts}
        for (department_id, day), counts in sums.items()
    ]
    if cells:
        names = [c.key for c in ScorecardDaily.__table__.columns]
        db.session.execute(
            sa.insert(ScorecardDaily),
            [{name: cell.get(name, 0) for name in names} for cell in cells],
        )
    received = _received_per_day(first, last, math)
    if received:
        db.session.execute(
            sa.insert(PublicDailyFiling),
            [{"day": day, "received": count} for day, count in received.items()],
        )


def _received_per_day(first: date, last: date, math: DeadlineMath) -> dict[date, int]:
    """Public requests received on each day of ``first`` … ``last`` (at most
    CHUNK_DAYS): the day boundaries are computed here, in the city's zone, and the
    database compares the stored UTC times with them (as ``counts_by_month`` does)."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    ends = [math.end_of_day(day) for day in days]
    day_index = sa.case(
        *((Case.received_at < ends[i], sa.literal(i)) for i in range(len(days)))
    ).label("day_index")
    received = (
        public_cases()
        .with_only_columns(day_index)
        .where(Case.received_at >= math.start_of_day(first), Case.received_at < ends[-1])
        .subquery()
    )
    query = sa.select(received.c.day_index, sa.func.count()).group_by(received.c.day_index)
    return {days[i]: count for i, count in db.session.execute(query).tuples()}


def status_cells() -> sa.Select[tuple[int, CaseStatus, int]]:
    """The public cases counted per (category_id, status, n): what the kept totals hold
    and the public page counts directly (``public_stats.category_status_counts``)."""
    return (
        public_cases()
        .with_only_columns(Case.category_id, Case.status, sa.func.count().label("n"))
        .group_by(Case.category_id, Case.status)
    )


def _count_statuses() -> None:
    """The public requests by category and status, as they stand now."""
    db.session.execute(sa.delete(PublicStatusCount))
    rows = [
        {"category_id": category_id, "status": status, "cases": count}
        for category_id, status, count in db.session.execute(status_cells())
    ]
    if rows:
        db.session.execute(sa.insert(PublicStatusCount), rows)


def _seen() -> tuple[int, int]:
    """The highest event and case ids now: what a count started now has read."""
    events = db.session.scalar(sa.select(sa.func.max(CaseEvent.id))) or 0
    cases = db.session.scalar(sa.select(sa.func.max(Case.id))) or 0
    return events, cases


def _first_day(math: DeadlineMath, today: date) -> date:
    earliest = [
        db.session.scalar(sa.select(sa.func.min(Case.received_at))),
        db.session.scalar(sa.select(sa.func.min(CaseEvent.at))),
    ]
    moments = [moment for moment in earliest if moment is not None]
    return min((math.local_date(m) for m in moments), default=today)


def _save_state(now: datetime, events: int, cases: int, *, recent: bool) -> None:
    state = db.session.get(DailyTotalsState, STATE_ID)
    if state is None:
        state = DailyTotalsState(id=STATE_ID, recent_at=now)
        db.session.add(state)
    state.computed_at = now
    if recent:
        state.recent_at = now
    state.events_seen = events
    state.cases_seen = cases


def rebuild_daily_totals(
    now: datetime | None = None, math: DeadlineMath | None = None, progress: Progress | None = None
) -> int:
    """Count every day again, from the first case or event to today, in one
    transaction (the page shows the old figures until it commits); the days counted."""
    now = now or utcnow()
    math = math or _math()
    say = progress or (lambda _message: None)
    db.session.get(DailyTotalsState, STATE_ID, with_for_update=True)
    events, cases = _seen()
    today = math.local_date(now)
    first = _first_day(math, today)
    db.session.execute(sa.delete(ScorecardDaily))
    db.session.execute(sa.delete(PublicDailyFiling))
    runs = _runs(first + timedelta(days=n) for n in range((today - first).days + 1))
    for number, (run_first, run_last) in enumerate(runs, start=1):
        _count_days(run_first, run_last, now, math)
        say(f"{run_first} … {run_last} ({number}/{len(runs)})")
    _count_statuses()
    say("requests by category and status")
    _save_state(now, events, cases, recent=True)
    db.session.commit()
    return (today - first).days + 1


def _touched_days(state: DailyTotalsState, math: DeadlineMath) -> set[date]:
    """The days the news since the last refresh may have changed."""
    news = CaseEvent.id > state.events_seen
    moments = list(db.session.scalars(sa.select(CaseEvent.at).where(news).distinct()))
    annulling = (
        sa.select(CaseEvent.case_id).where(news, CaseEvent.action.in_(ANNULLING)).scalar_subquery()
    )
    moments += db.session.scalars(
        sa.select(CaseEvent.at)
        .where(CaseEvent.case_id.in_(annulling), CaseEvent.action.in_(DATED))
        .distinct()
    )
    moments += db.session.scalars(
        public_cases().with_only_columns(Case.received_at).where(Case.id > state.cases_seen)
    )
    return {math.local_date(moment) for moment in moments}


def refresh_daily_totals(now: datetime | None = None) -> Refreshed | None:
    """Bring the kept figures up to date, for the worker's every round: the days the
    news touched and, every RECENT_SECONDS, the last RECENT_DAYS; all of them when none
    were ever counted. Never raises: a failure is logged, and the next round tries
    again (the worker's notices must not wait for statistics). None when it failed."""
    now = now or utcnow()
    try:
        math = _math()
        state = db.session.get(DailyTotalsState, STATE_ID, with_for_update=True)
        if state is None:
            days = rebuild_daily_totals(now, math)
            return Refreshed(days, statuses=True, built=True)
        events, cases = _seen()
        news = events != state.events_seen or cases != state.cases_seen
        touched = _touched_days(state, math) if news else set()
        recent = (now - state.recent_at).total_seconds() >= RECENT_SECONDS
        today = math.local_date(now)
        if recent or news:
            touched |= {today - timedelta(days=n) for n in range(RECENT_DAYS)}
        if not touched:
            db.session.rollback()
            return Refreshed(0, statuses=False)
        for first, last in _runs(day for day in touched if day <= today):
            _count_days(first, last, now, math)
        if news:
            _count_statuses()
        _save_state(now, events, cases, recent=recent or news)
        db.session.commit()
        return Refreshed(len(touched), statuses=news)
    except Exception:
        db.session.rollback()
        log.exception("the public statistics were not refreshed")
        return None
