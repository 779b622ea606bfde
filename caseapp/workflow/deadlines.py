"""Deadline arithmetic (DESIGN §4): when a clock is due, how a pause or an extension
moves it, and how far it has escalated. Pure functions of times and a calendar.

A day clock of N ends at 24:00 local time on the N-th (working or calendar) day after
the day it started, that day not counted. An hour clock ends N wall-clock hours later.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from caseapp.models.enums import CaseKind, Clock, PolicyTerm, Priority, TimeUnit
from caseapp.workflow.calendar import WorkingCalendar

# Escalation levels of a running clock.
LEVEL_NONE, LEVEL_DUE_SOON, LEVEL_OVERDUE, LEVEL_SUPERVISED = 0, 1, 2, 3
DUE_SOON_SHARE = 0.8  # due soon once 80 % of the period is used …
DUE_SOON_WORKING_DAYS = 1  # … or from 1 working day before the deadline, if earlier
AUTO_SUPERVISE_WORKING_DAYS = 5  # supervised automatically 5 working days after overdue


class Audience(enum.StrEnum):
    """Whom an escalation notice goes to, in the words of DESIGN §4."""

    INTAKE = "intake"  # every intake clerk
    HANDLER = "handler"  # the case's handler, where one is named
    LEADS = "leads"  # the leads of the case's lead department
    SUPERVISORS = "supervisors"  # every supervisor (督办)
    RESPONSIBLE_LEADER = "responsible_leader"  # the case's 包联领导, where one is set


# Who is told when a clock reaches a level (DESIGN §4), at every level: the people who
# must act on it. The first-response clock is told like the resolve clock (DESIGN names
# no one for it; the same people answer the citizen).
ESCALATION_AUDIENCE: Mapping[Clock, frozenset[Audience]] = {
    Clock.ACCEPT: frozenset({Audience.INTAKE}),
    Clock.SIGN: frozenset({Audience.LEADS, Audience.HANDLER}),
    Clock.FIRST_RESPONSE: frozenset({Audience.HANDLER, Audience.LEADS}),
    Clock.RESOLVE: frozenset({Audience.HANDLER, Audience.LEADS}),
}
# … and at level 3 (督办) the supervisors and the responsible leader as well.
SUPERVISED_AUDIENCE = frozenset({Audience.SUPERVISORS, Audience.RESPONSIBLE_LEADER})
ESCALATING_CLOCKS = frozenset(ESCALATION_AUDIENCE)


def escalation_audience(clock: Clock, level: int, *, held: bool = True) -> frozenset[Audience]:
    """Who is told that ``clock`` reached ``level``. ``held``: a department holds the
    case; a returned case is back with intake, so intake is told of its resolve clock.
    Each level's audience includes the one below it, so a clock that skips levels tells
    everyone once, of the level it reached."""
    if clock not in ESCALATION_AUDIENCE:
        raise ValueError(f"the {clock} clock does not escalate")
    if level <= LEVEL_NONE:
        return frozenset()
    audience = ESCALATION_AUDIENCE[clock]
    if not held and audience & {Audience.HANDLER, Audience.LEADS}:
        audience = frozenset({Audience.INTAKE})
    if level >= LEVEL_SUPERVISED:
        audience |= SUPERVISED_AUDIENCE
    return audience


def level_after_move(level: int, due_before: datetime, due_after: datetime) -> int:
    """The escalation level a running clock keeps when a pause or an extension sets its
    deadline to ``due_after`` (DESIGN §4): a level stands while its deadline stands; a
    new deadline starts a new episode at level 0, except that 督办 (level 3) is kept."""
    if due_after == due_before:
        return level
    return LEVEL_SUPERVISED if level >= LEVEL_SUPERVISED else LEVEL_NONE


@dataclass(frozen=True)
class Period:
    """A length of time in one unit, e.g. 5 working days or 2 hours."""

    unit: TimeUnit
    value: int


@dataclass(frozen=True)
class Pause:
    """A finished pause of a clock (the case waited for the citizen)."""

    paused_at: datetime
    resumed_at: datetime


@dataclass(frozen=True)
class DeadlineMath:
    """The calendar and the city's time zone, which every computation needs."""

    calendar: WorkingCalendar
    tz: tzinfo

    # --- days in the city's zone ----------------------------------------------------------
    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def start_of_day(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz).astimezone(UTC)

    def end_of_day(self, day: date) -> datetime:
        """24:00 local time of ``day`` (= 00:00 of the next day), in UTC."""
        return self.start_of_day(day + timedelta(days=1))

    def deadline_day(self, due: datetime) -> date:
        """The last local day on which something due at ``due`` is still on time."""
        return self.local_date(due - timedelta(microseconds=1))

    # --- deadlines --------------------------------------------------------------------------
    def due_at(self, start: datetime, period: Period) -> datetime:
        """When a clock of ``period`` started at ``start`` is due."""
        if period.unit is TimeUnit.HOURS:
            return start + timedelta(hours=period.value)
        return self.end_of_day(self.add_days(self.local_date(start), period))

    def add_days(self, day: date, period: Period) -> date:
        """``day`` moved by ``period`` (working or calendar days; may be negative)."""
        if period.unit is TimeUnit.WORKING_DAYS:
            return self.calendar.add_working_days(day, period.value)
        if period.unit is TimeUnit.CALENDAR_DAYS:
            return day + timedelta(days=period.value)
        raise ValueError("hours are not days")

    def extended(self, due: datetime, extension: Period) -> datetime:
        """A deadline moved later by ``extension``."""
        if extension.unit is TimeUnit.HOURS:
            return due + timedelta(hours=extension.value)
        offset = due - self.start_of_day(self.deadline_day(due))
        return self.start_of_day(self.add_days(self.deadline_day(due), extension)) + offset

    def days_begun_during(self, unit: TimeUnit, paused_at: datetime, resumed_at: datetime) -> int:
        """How many days of ``unit`` began (at local midnight) in (paused_at, resumed_at]."""
        first = self.local_date(paused_at) + timedelta(days=1)
        last = self.local_date(resumed_at)
        if last < first:
            return 0
        if unit is TimeUnit.CALENDAR_DAYS:
            return (last - first).days + 1
        return self.calendar.working_days_in(first, last)

    def after_pause(
        self, due: datetime, unit: TimeUnit, paused_at: datetime, resumed_at: datetime
    ) -> datetime:
        """The deadline after a pause: a day clock moves by the days of its unit that
        began during the pause, an hour clock by the paused time."""
        if unit is TimeUnit.HOURS:
            return due + (resumed_at - paused_at)
        days = self.days_begun_during(unit, paused_at, resumed_at)
        return self.extended(due, Period(unit, days))

    def replayed(
        self, start: datetime, period: Period, moves: Sequence[Pause | Period]
    ) -> datetime:
        """The deadline of a clock of ``period`` started at ``start`` and moved by
        ``moves`` in the order they happened (finished pauses, approved extensions),
        counted with this calendar: what recomputing a running clock gives."""
        due = self.due_at(start, period)
        for move in moves:
            if isinstance(move, Pause):
                due = self.after_pause(due, period.unit, move.paused_at, move.resumed_at)
            else:
                due = self.extended(due, move)
        return due

    def counted_on_fallback(self, start: datetime, due: datetime, unit: TimeUnit) -> bool:
        """Whether a deadline counted in working days from ``start`` to ``due`` counted
        days of a year the calendar does not cover (Monday–Friday fallback)."""
        if unit is not TimeUnit.WORKING_DAYS:
            return False
        return bool(self.calendar.uncovered_years(self.local_date(start), self.deadline_day(due)))

    # --- escalation --------------------------------------------------------------------------
    def due_soon_from(self, start: datetime, due: datetime) -> datetime:
        """The earlier of 1 working day before the deadline and 80 % of the period used."""
        share = start + (due - start) * DUE_SOON_SHARE
        one_day_before = self.extended(due, Period(TimeUnit.WORKING_DAYS, -DUE_SOON_WORKING_DAYS))
        return min(share, one_day_before)

    def supervised_from(self, due: datetime) -> datetime:
        """When an overdue clock is supervised automatically (5 working days on)."""
        day = self.calendar.add_working_days(self.deadline_day(due), AUTO_SUPERVISE_WORKING_DAYS)
        return self.end_of_day(day)

    def escalation_level(
        self, start: datetime, due: datetime, now: datetime, supervised: bool = False
    ) -> int:
        """0 none, 1 due soon, 2 overdue, 3 supervised — for one run of a clock at ``now``."""
        if supervised or now >= self.supervised_from(due):
            return LEVEL_SUPERVISED
        if now >= due:
            return LEVEL_OVERDUE
        if now >= self.due_soon_from(start, due):
            return LEVEL_DUE_SOON
        return LEVEL_NONE

    def next_escalation_at(self, start: datetime, due: datetime, level: int) -> datetime | None:
        """The first moment ``escalation_level`` gives more than ``level`` for this run of
        a clock (None at 督办): the thresholds come in order, due soon ≤ due < supervised."""
        if level >= LEVEL_SUPERVISED:
            return None
        if level >= LEVEL_OVERDUE:
            return self.supervised_from(due)
        if level >= LEVEL_DUE_SOON:
            return due
        return self.due_soon_from(start, due)

    def working_days_late(self, due: datetime, now: datetime) -> int:
        """Working days begun since the deadline passed (0 when not late)."""
        if now < due:
            return 0
        return self.calendar.working_days_in(self.local_date(due), self.local_date(now))


# --- the policy terms a case copies at filing ------------------------------------------------


def snapshot_terms(rows: list[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """A policy's DeadlineTerm rows as the JSON a case keeps: {term: {kind|"*": {...}}}."""
    terms: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        terms.setdefault(str(row.term), {})[str(row.kind) if row.kind else "*"] = {
            "unit": str(row.unit),
            "value": row.value,
            "urgent_unit": str(row.urgent_unit) if row.urgent_unit else None,
            "urgent_value": row.urgent_value,
        }
    return terms


def period_for(
    terms: Mapping[str, Mapping[str, Mapping[str, Any]]],
    term: PolicyTerm,
    kind: CaseKind,
    priority: Priority = Priority.NORMAL,
) -> Period:
    """The period a case's copied terms give for ``term``: the kind's own row if there
    is one, else the default; the urgent value for urgent cases where one is set."""
    by_kind = terms.get(str(term))
    if not by_kind:
        raise KeyError(f"the policy sets no {term} term")
    row = by_kind.get(str(kind)) or by_kind.get("*")
    if row is None:
        raise KeyError(f"the policy sets no {term} term for {kind}")
    if priority is Priority.URGENT and row.get("urgent_value") is not None:
        return Period(TimeUnit(row["urgent_unit"] or row["unit"]), int(row["urgent_value"]))
    return Period(TimeUnit(row["unit"]), int(row["value"]))
