"""Department scorecards (DESIGN §6), derived from case events.

What each figure counts, for the events of a period:

- **response rate**: every run of the first-response clock that ended with a response
  in the period, or fell due in it. A response is a recorded contact, a public note, a
  question to the citizen or the answer. The run is on time when the response came by
  its deadline. A run that stopped because the case left the department before its
  deadline (return, forward, reassignment) is nobody's response and is not counted.
- **ratings** (resolution and satisfaction rates): a case's latest rating, when it fell
  in the period and no reopening annulled it since. A rating a supervisor excluded
  (甄别) after it is left out of the rates and counted apart.
- **answers** (on-time resolution, mean working days): a case's latest answer (办结),
  when it fell in the period and no redo came after it. On time against the resolve
  deadline it met; working days from the acceptance, the day of acceptance not counted.
- **redos**: every redo in the period (an unsatisfied rating sending the case back, an
  approved further redo, a reopening).
- **overdue now**: open cases past their next deadline, whatever the period.

A figure belongs to the department the event snapshot names: the department that held
the case when it happened. The "latest only" rules look at every later event, so a
past period's figures change when a case is reopened or answered again — as the
design asks: a close that a reopen annuls is never counted.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseClock, CaseEvent, Department, Setting
from caseapp.models.enums import Clock, EventAction, Satisfaction
from caseapp.workflow import deadline_states
from caseapp.workflow.deadlines import DeadlineMath

A = EventAction
RESPONSE_ACTIONS = (A.RECORD_CONTACT, A.ASK_CITIZEN, A.RESOLVE)
BASICALLY_SATISFIED_WEIGHT = Decimal("0.9")
ONE_PLACE = Decimal("0.1")
WEIGHTS_SETTING = "scorecard_weights"
MAX_CUSTOM_DAYS = 366
TREND_WEEKS = 12


# --- periods ------------------------------------------------------------------------------


class PeriodKind(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    CUSTOM = "custom"


@dataclass(frozen=True)
class ReportPeriod:
    """Whole local days, ``first`` to ``last`` included."""

    kind: PeriodKind
    first: date
    last: date

    def bounds(self, math: DeadlineMath) -> tuple[datetime, datetime]:
        """The period as UTC instants: from local midnight of ``first`` to 24:00 of ``last``."""
        return math.start_of_day(self.first), math.end_of_day(self.last)

    def weeks(self, count: int = TREND_WEEKS) -> list[ReportPeriod]:
        """The ``count`` ISO weeks up to the one holding ``last``, oldest first."""
        monday = self.last - timedelta(days=self.last.weekday())
        return [
            ReportPeriod(PeriodKind.WEEK, start, start + timedelta(days=6))
            for start in (monday - timedelta(weeks=n) for n in range(count - 1, -1, -1))
        ]


class BadPeriod(ValueError):
    """A custom period that ends before it starts or is longer than a year."""


def period_containing(kind: PeriodKind, day: date) -> ReportPeriod:
    """The week (Monday to Sunday), month or quarter holding ``day``."""
    if kind is PeriodKind.WEEK:
        monday = day - timedelta(days=day.weekday())
        return ReportPeriod(kind, monday, monday + timedelta(days=6))
    if kind is PeriodKind.MONTH:
        first = day.replace(day=1)
        months = 1
    elif kind is PeriodKind.QUARTER:
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        months = 3
    else:
        raise BadPeriod("a custom period names its own days")
    index = first.year * 12 + first.month - 1 + months
    return ReportPeriod(kind, first, date(index // 12, index % 12 + 1, 1) - timedelta(days=1))


def custom_period(first: date, last: date) -> ReportPeriod:
    if last < first:
        raise BadPeriod("the period ends before it starts")
    if (last - first).days >= MAX_CUSTOM_DAYS:
        raise BadPeriod("a period is at most a year")
    return ReportPeriod(PeriodKind.CUSTOM, first, last)


# --- what happened, case by case -------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    case_id: int
    department_id: int | None
    at: datetime  # the response, or the deadline it missed
    due_at: datetime
    responded_at: datetime | None
    on_time: bool


@dataclass(frozen=True)
class Rating:
    case_id: int
    department_id: int | None
    at: datetime
    solved: bool
    satisfaction: Satisfaction
    excluded: bool


@dataclass(frozen=True)
class Answer:
    case_id: int
    department_id: int | None
    at: datetime
    due_at: datetime | None
    on_time: bool
    working_days: int


@dataclass(frozen=True)
class Redo:
    case_id: int
    department_id: int | None
    at: datetime
    action: EventAction


@dataclass(frozen=True)
class Outcomes:
    """Everything the figures of a period are counted from."""

    responses: list[Response] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    redos: list[Redo] = field(default_factory=list)

    def where(self, keep: Callable[[Any], bool]) -> Outcomes:
        return Outcomes(
            [r for r in self.responses if keep(r)],
            [r for r in self.ratings if keep(r)],
            [r for r in self.answers if keep(r)],
            [r for r in self.redos if keep(r)],
        )

    def between(self, start: datetime, end: datetime) -> Outcomes:
        return self.where(lambda row: start <= row.at < end)

    def of_department(self, department_id: int | None) -> Outcomes:
        """One department's, or all of them for ``None``."""
        if department_id is None:
            return self
        return self.where(lambda row: row.department_id == department_id)

    def department_ids(self) -> set[int]:
        rows: Iterable[Any] = [*self.responses, *self.ratings, *self.answers, *self.redos]
        return {row.department_id for row in rows if row.department_id is not None}


def collect(
    start: datetime,
    end: datetime,
    now: datetime,
    math: DeadlineMath,
    scope: sa.ColumnElement[bool] | None = None,
) -> Outcomes:
    """What happened in [start, end) on the cases ``scope`` admits (all when None)."""
    where = scope if scope is not None else sa.true()
    return Outcomes(
        _responses(start, end, now, where),
        _ratings(start, end, where),
        _answers(start, end, math, where),
        _redos(start, end, where),
    )


def _first_responses_in(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    """First-response clocks that stopped, or fell due, in [start, end)."""
    return sa.and_(
        CaseClock.clock == Clock.FIRST_RESPONSE,
        sa.or_(
            sa.and_(CaseClock.stopped_at >= start, CaseClock.stopped_at < end),
            sa.and_(CaseClock.due_at >= start, CaseClock.due_at < end),
        ),
    )


def _responses(
    start: datetime, end: datetime, now: datetime, where: sa.ColumnElement[bool]
) -> list[Response]:
    runs = (
        sa.select(CaseClock)
        .join(Case, Case.id == CaseClock.case_id)
        .where(
            _first_responses_in(start, end),
            where,
        )
    )
    clocks = list(db.session.scalars(runs))
    if not clocks:
        return []
    responded = sa.or_(
        CaseEvent.action.in_(RESPONSE_ACTIONS),
        sa.and_(CaseEvent.action == A.NOTE, CaseEvent.public.is_(True)),
    )
    events: dict[int, list[datetime]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(CaseEvent.case_id, CaseEvent.at)
        .where(
            CaseEvent.case_id.in_(runs.with_only_columns(CaseClock.case_id).scalar_subquery()),
            responded,
        )
        .order_by(CaseEvent.id)
    )
    for case_id, at in rows:
        events[case_id].append(at)
    found: list[Response] = []
    for run in clocks:
        until = run.stopped_at or now
        answer = min(
            (at for at in events[run.case_id] if run.started_at <= at <= until), default=None
        )
        if answer is not None and answer <= run.due_at:
            moment, on_time = answer, True
        elif run.stopped_at is not None and run.stopped_at < run.due_at:
            continue  # the case left the department before the deadline
        elif run.due_at <= now:
            moment, on_time = run.due_at, False
        else:
            continue  # still running, not yet due
        if start <= moment < end:
            found.append(
                Response(run.case_id, run.department_id, moment, run.due_at, answer, on_time)
            )
    return found


# What the outcomes read of an event. Rows of these columns, not whole events: a
# month's scorecards read tens of thousands of events, and building each as an object
# with its texts cost more than the queries themselves.
EVENT_FACTS = (
    CaseEvent.id,
    CaseEvent.case_id,
    CaseEvent.at,
    CaseEvent.action,
    CaseEvent.data,
    CaseEvent.department_id,
)


class EventFacts(Protocol):
    """An event as the outcomes read it (a row of ``EVENT_FACTS`` or a ``CaseEvent``)."""

    id: int
    case_id: int
    at: datetime
    action: EventAction
    data: dict[str, Any]
    department_id: int | None


def _events_in(
    actions: Sequence[EventAction], start: datetime, end: datetime, where: sa.ColumnElement[bool]
) -> sa.Select[Any]:
    return (
        sa.select(*EVENT_FACTS)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.action.in_(actions), CaseEvent.at >= start, CaseEvent.at < end, where)
    )


def _facts(query: sa.Select[Any]) -> list[EventFacts]:
    return list(db.session.execute(query))  # type: ignore[arg-type]


def _later_events(
    of: sa.Select[Any], actions: Sequence[EventAction]
) -> dict[int, list[EventFacts]]:
    """Every event of ``actions`` on the cases ``of`` found, by case, in order."""
    case_ids = of.with_only_columns(CaseEvent.case_id).scalar_subquery()
    by_case: dict[int, list[EventFacts]] = defaultdict(list)
    for event in _facts(
        sa.select(*EVENT_FACTS)
        .where(CaseEvent.case_id.in_(case_ids), CaseEvent.action.in_(actions))
        .order_by(CaseEvent.id)
    ):
        by_case[event.case_id].append(event)
    return by_case


def is_redo(event: EventFacts) -> bool:
    """Whether the event gave the case a fresh resolve period (DESIGN §3)."""
    if event.action is A.REOPEN:
        return True
    if event.action is A.RATE:
        return bool(event.data.get("redo"))
    if event.action is A.DECIDE_REDO:
        return bool(event.data.get("approved"))
    return False


def _ratings(start: datetime, end: datetime, where: sa.ColumnElement[bool]) -> list[Rating]:
    rated = _events_in((A.RATE,), start, end, where)
    later = _later_events(rated, (A.RATE, A.REOPEN, A.EXCLUDE_RATING))
    found: list[Rating] = []
    for event in _facts(rated):
        after = [e for e in later[event.case_id] if e.id > event.id]
        if any(e.action in (A.RATE, A.REOPEN) for e in after):
            continue  # rated again later, or the close was annulled
        found.append(
            Rating(
                event.case_id,
                event.department_id,
                event.at,
                bool(event.data.get("solved")),
                Satisfaction(event.data["satisfaction"]),
                excluded=any(e.action is A.EXCLUDE_RATING for e in after),
            )
        )
    return found


def _answers(
    start: datetime, end: datetime, math: DeadlineMath, where: sa.ColumnElement[bool]
) -> list[Answer]:
    answered = _events_in((A.RESOLVE,), start, end, where)
    later = _later_events(answered, (A.RESOLVE, A.REOPEN, A.RATE, A.DECIDE_REDO))
    events = [
        event
        for event in _facts(answered)
        if not any(
            e.id > event.id and (e.action is A.RESOLVE or is_redo(e)) for e in later[event.case_id]
        )
    ]
    if not events:
        return []
    # The cases answered in the period, as a subquery on the same conditions: a list
    # of their ids would grow with the data (and passes PostgreSQL's 65,535 bound
    # parameters at a large city's year).
    answered_cases = answered.with_only_columns(CaseEvent.case_id).scalar_subquery()
    accepted = dict(
        db.session.execute(sa.select(Case.id, Case.accepted_at).where(Case.id.in_(answered_cases)))
        .tuples()
        .all()
    )
    runs: dict[int, list[tuple[datetime | None, datetime]]] = defaultdict(list)
    for case_id, stopped_at, due_at in db.session.execute(
        sa.select(CaseClock.case_id, CaseClock.stopped_at, CaseClock.due_at).where(
            CaseClock.case_id.in_(answered_cases), CaseClock.clock == Clock.RESOLVE
        )
    ):
        runs[case_id].append((stopped_at, due_at))
    found: list[Answer] = []
    for event in events:
        # The answer stops the resolve clock at the very moment of its event.
        met = next((due for stopped, due in runs[event.case_id] if stopped == event.at), None)
        since = accepted.get(event.case_id) or event.at
        days = math.calendar.working_days_in(
            math.local_date(since) + timedelta(days=1), math.local_date(event.at)
        )
        found.append(
            Answer(
                event.case_id,
                event.department_id,
                event.at,
                met,
                on_time=met is not None and event.at <= met,
                working_days=days,
            )
        )
    return found


def _redos(start: datetime, end: datetime, where: sa.ColumnElement[bool]) -> list[Redo]:
    events = _facts(_events_in((A.RATE, A.REOPEN, A.DECIDE_REDO), start, end, where))
    return [Redo(e.case_id, e.department_id, e.at, e.action) for e in events if is_redo(e)]


def overdue_now(now: datetime, scope: sa.ColumnElement[bool] | None = None) -> dict[int, int]:
    """Open cases past their next deadline, per lead department."""
    rows = db.session.execute(
        sa.select(Case.lead_department_id, sa.func.count())
        .where(
            deadline_states.overdue(now),
            Case.lead_department_id.is_not(None),
            scope if scope is not None else sa.true(),
        )
        .group_by(Case.lead_department_id)
    ).tuples()
    return {department_id: count for department_id, count in rows if department_id is not None}


# --- the figures ------------------------------------------------------------------------------


def one_place(value: Decimal) -> float:
    """Rounded to one decimal place, halves up (as people round), for page and sheet alike."""
    return float(value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Ratio:
    part: Decimal | int
    whole: int

    @property
    def value(self) -> Decimal | None:
        """The share (0 … 1), or None when nothing was counted."""
        return Decimal(self.part) / self.whole if self.whole else None

    @property
    def percent(self) -> float | None:
        """The share in percent to one place (83.3), the figure the page and sheet show."""
        value = self.value
        return one_place(value * 100) if value is not None else None


@dataclass(frozen=True)
class Weights:
    """The composite score's weights, in percent (DESIGN §6 defaults)."""

    response: float = 10
    resolution: float = 50
    satisfaction: float = 40


@dataclass(frozen=True)
class Scorecard:
    department: Department | None  # None: every department together
    response: Ratio
    resolution: Ratio
    satisfaction: Ratio
    weighted_satisfaction: Ratio
    on_time: Ratio
    mean_working_days: float | None
    answered: int
    rated: int
    excluded: int
    redos: int
    overdue_now: int
    composite: float | None


def composite_score(
    response: Decimal | None, resolution: Decimal | None, satisfaction: Decimal | None, w: Weights
) -> float | None:
    """The weighted score out of 100 over the rates that exist; the weights of the
    others are shared out among them. None when none of the three exists."""
    parts = [(w.response, response), (w.resolution, resolution), (w.satisfaction, satisfaction)]
    present = [
        (Decimal(str(weight)), value) for weight, value in parts if value is not None and weight > 0
    ]
    total = sum((weight for weight, _value in present), Decimal(0))
    if not total:
        return None
    return one_place(100 * sum((weight * value for weight, value in present), Decimal(0)) / total)


def scorecard(
    outcomes: Outcomes, department: Department | None, overdue: int, weights: Weights
) -> Scorecard:
    """The figures of one department (or of all, ``department`` None) from its outcomes."""
    counted = [r for r in outcomes.ratings if not r.excluded]
    satisfied = sum(1 for r in counted if r.satisfaction is Satisfaction.SATISFIED)
    basically = sum(1 for r in counted if r.satisfaction is Satisfaction.BASICALLY_SATISFIED)
    response = Ratio(sum(1 for r in outcomes.responses if r.on_time), len(outcomes.responses))
    resolution = Ratio(sum(1 for r in counted if r.solved), len(counted))
    satisfaction = Ratio(satisfied + basically, len(counted))
    answers = outcomes.answers
    return Scorecard(
        department=department,
        response=response,
        resolution=resolution,
        satisfaction=satisfaction,
        weighted_satisfaction=Ratio(
            satisfied + BASICALLY_SATISFIED_WEIGHT * basically, len(counted)
        ),
        on_time=Ratio(sum(1 for a in answers if a.on_time), len(answers)),
        mean_working_days=(
            one_place(Decimal(sum(a.working_days for a in answers)) / len(answers))
            if answers
            else None
        ),
        answered=len(answers),
        rated=len(counted),
        excluded=sum(1 for r in outcomes.ratings if r.excluded),
        redos=len(outcomes.redos),
        overdue_now=overdue,
        composite=composite_score(response.value, resolution.value, satisfaction.value, weights),
    )


@dataclass(frozen=True)
class TrendPoint:
    week: ReportPeriod
    card: Scorecard


@dataclass(frozen=True)
class ScorecardReport:
    period: ReportPeriod
    weights: Weights
    total: Scorecard
    departments: list[Scorecard]  # best composite first
    outcomes: Outcomes  # what the figures were counted from, for the lists behind them


def weights() -> Weights:
    """The admin's weights (a Setting), else the defaults."""
    stored = db.session.get(Setting, WEIGHTS_SETTING)
    if stored is None or not isinstance(stored.value, dict):
        return Weights()
    defaults = Weights()
    return Weights(
        **{
            name: float(stored.value.get(name, getattr(defaults, name)))
            for name in ("response", "resolution", "satisfaction")
        }
    )


def report(
    period: ReportPeriod,
    now: datetime,
    math: DeadlineMath,
    scope: sa.ColumnElement[bool] | None = None,
) -> ScorecardReport:
    """Every department's scorecard for ``period``, and the city's."""
    start, end = period.bounds(math)
    outcomes = collect(start, end, now, math, scope)
    overdue = overdue_now(now, scope)
    chosen = weights()
    ids = outcomes.department_ids() | set(overdue)
    # Every department (dozens), not a list of the ids found: no statement grows with
    # the data.
    departments = {d.id: d for d in db.session.scalars(sa.select(Department)) if d.id in ids}
    cards = [
        scorecard(outcomes.of_department(i), departments[i], overdue.get(i, 0), chosen)
        for i in ids
        if i in departments
    ]
    cards.sort(
        key=lambda c: (
            c.composite is None,
            -(c.composite or 0),
            c.department.code if c.department else "",
        )
    )
    total = scorecard(outcomes, None, sum(overdue.values()), chosen)
    return ScorecardReport(period, chosen, total, cards, outcomes)


def weekly_trend(
    period: ReportPeriod,
    now: datetime,
    math: DeadlineMath,
    department_id: int | None = None,
    scope: sa.ColumnElement[bool] | None = None,
) -> list[TrendPoint]:
    """The figures of each of the last TREND_WEEKS weeks up to ``period``'s end, for one
    department or all: one pass over the whole span, split by week."""
    weeks = period.weeks()
    start, _ = weeks[0].bounds(math)
    _, end = weeks[-1].bounds(math)
    outcomes = collect(start, end, now, math, scope).of_department(department_id)
    chosen = weights()
    points = []
    for week in weeks:
        week_start, week_end = week.bounds(math)
        points.append(
            TrendPoint(week, scorecard(outcomes.between(week_start, week_end), None, 0, chosen))
        )
    return points


# --- the cases behind a figure -----------------------------------------------------------------


class Figure(enum.StrEnum):
    """The lists a scorecard's figures link to."""

    RESPONSES = "responses"  # response rate
    RATINGS = "ratings"  # resolution and satisfaction rates
    EXCLUDED = "excluded"  # excluded ratings
    ANSWERS = "answers"  # on-time resolution, mean working days
    REDOS = "redos"


def rows_behind(outcomes: Outcomes, figure: Figure) -> list[Any]:
    """The outcomes a figure was counted from, oldest first."""
    rows: list[Any] = {
        Figure.RESPONSES: outcomes.responses,
        Figure.RATINGS: outcomes.ratings,
        Figure.EXCLUDED: [r for r in outcomes.ratings if r.excluded],
        Figure.ANSWERS: outcomes.answers,
        Figure.REDOS: outcomes.redos,
    }[figure]
    return sorted(rows, key=lambda row: (row.at, row.case_id))


def figure_cases(
    figure: Figure,
    start: datetime,
    end: datetime,
    department_id: int | None = None,
    scope: sa.ColumnElement[bool] | None = None,
) -> sa.ScalarSelect[int]:
    """The ids of the cases a figure of [start, end) may have been counted from, as a
    subquery on the conditions ``collect`` reads them with (a superset: the rules
    "latest only" and "on time" are applied in Python)."""
    where = scope if scope is not None else sa.true()
    if figure is Figure.RESPONSES:
        query = (
            sa.select(CaseClock.case_id)
            .join(Case, Case.id == CaseClock.case_id)
            .where(
                _first_responses_in(start, end),
                where,
            )
        )
        if department_id is not None:
            query = query.where(CaseClock.department_id == department_id)
        return query.scalar_subquery()
    actions = {
        Figure.RATINGS: (A.RATE,),
        Figure.EXCLUDED: (A.RATE,),
        Figure.ANSWERS: (A.RESOLVE,),
        Figure.REDOS: (A.RATE, A.REOPEN, A.DECIDE_REDO),
    }[figure]
    query = _events_in(actions, start, end, where).with_only_columns(CaseEvent.case_id)
    if department_id is not None:
        query = query.where(CaseEvent.department_id == department_id)
    return query.scalar_subquery()


def cases_behind(
    rows: list[Any], visible: sa.ColumnElement[bool], among: sa.ScalarSelect[int]
) -> list[tuple[Case, Any]]:
    """Each outcome with its case, for the cases ``visible`` admits (one query). The
    cases are read from ``among`` (``figure_cases``), a subquery, not a list of ids."""
    ids = {row.case_id for row in rows}
    cases = {
        case.id: case
        for case in db.session.scalars(sa.select(Case).where(Case.id.in_(among), visible))
        if case.id in ids
    }
    return [(cases[row.case_id], row) for row in rows if row.case_id in cases]
