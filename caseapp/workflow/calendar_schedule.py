"""A year's official holiday schedule (节假日安排) as a small text file, read and checked
for completeness before the admin imports it (DESIGN §4).

The format, one year per file, UTF-8 (examples in ``caseapp/calendar_schedules/``)::

    # comments and blank lines are ignored
    year: 2026
    source: 国务院办公厅关于2026年部分节假日安排的通知
    status: official

    元旦    2026-01-01..2026-01-03  workdays 2026-01-04
    清明节  2026-04-04..2026-04-06  workdays none
    …

The header names the year, the notice the file copies (``source``) and its ``status``:
``official`` or ``test-example`` (a made-up schedule for tests and demos, never an
official one). Then one line per holiday period of the notice: the festival, the days
off (one day, or first..last, every day of it off, weekends included) and the make-up
working days (调休上班) that go with the period, or ``none``.

Complete means: each of the seven statutory festivals has its period, once (中秋节 may
share 国庆节's period, written ``国庆节、中秋节``), each period says its make-up days
(``none`` included), every date lies in the year, periods do not overlap, make-up days
are Saturdays or Sundays outside every period, and the statutory days fixed by date or
by the solar term (元旦 1 January, 清明节 the 清明 term, 劳动节 1–2 May, 国庆节 1–3
October) and the seasons of the lunar festivals hold. A one-off holiday is written
``其他:<name>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

from caseapp.models.enums import CalendarDayKind
from caseapp.services.messages import N_, Message

OFFICIAL = "official"
TEST_EXAMPLE = "test-example"
STATUSES = (OFFICIAL, TEST_EXAMPLE)
MAX_BYTES = 16 * 1024
MAX_LINES = 200
SOURCE_MAX = 300
PERIOD_MAX_DAYS = 15
OTHER_PREFIX = "其他:"

# The seven statutory festivals (全国年节及纪念日放假办法), in the order of a notice.
FESTIVALS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
# Names of one period that stands for two festivals.
COMBINED = {"国庆节、中秋节": ("国庆节", "中秋节"), "中秋节、国庆节": ("中秋节", "国庆节")}
# (month, day) ranges a lunar festival's period lies within, in any year.
SEASONS = {
    "春节": ((1, 15), (3, 1)),
    "端午节": ((5, 25), (6, 30)),
    "中秋节": ((9, 5), (10, 10)),
}
# Days a period must include, by (month, day); from 2025 Labour Day has two days.
FIXED_DAYS = {"元旦": ((1, 1),), "劳动节": ((5, 1),), "国庆节": ((10, 1), (10, 2), (10, 3))}
SPRING_FESTIVAL_DAYS = 4  # 除夕 to 初三, from 2025

_HEADER = re.compile(r"(?P<key>[a-z]+)\s*:\s*(?P<value>.*)")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class HolidayPeriod:
    """One line of the notice: a festival's days off and its make-up working days."""

    line: int
    name: str
    first: date
    last: date
    workdays: tuple[date, ...]

    @property
    def festivals(self) -> tuple[str, ...]:
        return COMBINED.get(self.name, (self.name,))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class Problem:
    """What is wrong, and on which line (None: the file as a whole)."""

    line: int | None
    message: Message


@dataclass
class Schedule:
    """A parsed file; ``problems`` empty means it is complete and may be imported."""

    year: int | None = None
    source: str = ""
    status: str = ""
    periods: list[HolidayPeriod] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems and self.year is not None

    @property
    def is_test_example(self) -> bool:
        return self.status == TEST_EXAMPLE

    def days(self) -> dict[date, CalendarDayKind]:
        """Every date the schedule sets: the days off and the make-up working days."""
        found: dict[date, CalendarDayKind] = {}
        for period in self.periods:
            for day in period.days:
                found[day] = CalendarDayKind.HOLIDAY
            for day in period.workdays:
                found[day] = CalendarDayKind.WORKDAY
        return dict(sorted(found.items()))

    def _problem(self, line: int | None, msgid: str, **params: object) -> None:
        self.problems.append(Problem(line, Message(msgid, **params)))


def parse_schedule(data: bytes, filename: str = "") -> Schedule:
    """Read a schedule file and check it; every problem found is listed."""
    schedule = Schedule()
    if len(data) > MAX_BYTES:
        schedule._problem(None, N_("The file is larger than 16 KB: it is not a schedule."))
        return schedule
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        schedule._problem(None, N_("The file is not UTF-8 text."))
        return schedule
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        schedule._problem(None, N_("The file has more than 200 lines: it is not a schedule."))
        return schedule
    header: dict[str, tuple[int, str]] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _HEADER.fullmatch(line)
        if match and not schedule.periods:
            key = match["key"]
            if key in header:
                schedule._problem(number, N_("“%(key)s” is given twice."), key=key)
            header[key] = (number, match["value"].strip())
            continue
        period = _parse_period(schedule, number, line)
        if period is not None:
            schedule.periods.append(period)
    _check_header(schedule, header, filename)
    if schedule.year is not None:
        _check_complete(schedule, schedule.year)
    return schedule


def _parse_period(schedule: Schedule, number: int, line: str) -> HolidayPeriod | None:
    parts = line.split()
    if len(parts) < 4 or parts[2] != "workdays":
        schedule._problem(
            number,
            N_("Write a period as: festival, first..last day, “workdays”, then the make-up "
               "working days or “none”."),
        )  # fmt: skip
        return None
    name, span, _word, *rest = parts
    if (
        name not in FESTIVALS
        and name not in COMBINED
        and not (name.startswith(OTHER_PREFIX) and len(name) > len(OTHER_PREFIX))
    ):
        schedule._problem(number, N_("“%(name)s” is not a statutory festival."), name=name)
        return None
    first_text, _dots, last_text = span.partition("..")
    first = _date(first_text)
    last = _date(last_text) if last_text else first
    if first is None or last is None:
        schedule._problem(number, N_("Write dates as YYYY-MM-DD, a period as first..last."))
        return None
    if last < first or (last - first).days >= PERIOD_MAX_DAYS:
        schedule._problem(
            number, N_("A period runs from its first to its last day, 15 days at most.")
        )
        return None
    workdays: list[date] = []
    if rest != ["none"]:
        for text in rest:
            day = _date(text)
            if day is None:
                schedule._problem(
                    number, N_("Give the make-up working days as YYYY-MM-DD, or “none”.")
                )
                return None
            workdays.append(day)
    return HolidayPeriod(number, name, first, last, tuple(workdays))


def _date(text: str) -> date | None:
    if not _DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _check_header(schedule: Schedule, header: dict[str, tuple[int, str]], filename: str) -> None:
    for key in ("year", "source", "status"):
        if key not in header:
            schedule._problem(None, N_("The header needs a line “%(key)s: …”."), key=key)
    for key, (number, _value) in header.items():
        if key not in ("year", "source", "status"):
            schedule._problem(number, N_("“%(key)s” is not a header of this format."), key=key)
    if "year" in header:
        number, value = header["year"]
        if re.fullmatch(r"\d{4}", value) and 1990 <= int(value) <= 2199:
            schedule.year = int(value)
        else:
            schedule._problem(number, N_("The year is a number from 1990 to 2199."))
    if "source" in header:
        number, value = header["source"]
        if not value or len(value) > SOURCE_MAX or not value.isprintable():
            schedule._problem(
                number, N_("Name the notice the schedule copies, in at most 300 characters.")
            )
        schedule.source = value
    if "status" in header:
        number, value = header["status"]
        if value not in STATUSES:
            schedule._problem(number, N_("The status is “official” or “test-example”."))
        schedule.status = value
    if "test-example" in filename.lower() and schedule.status == OFFICIAL:
        schedule._problem(
            None, N_("The file's name says it is a test example, but its header says official.")
        )


def _check_complete(schedule: Schedule, year: int) -> None:
    if not schedule.periods:
        schedule._problem(None, N_("The file gives no holiday period: it is not complete."))
        return
    seen: dict[str, int] = {}
    taken: dict[date, int] = {}
    for period in schedule.periods:
        for festival in period.festivals:
            if festival in seen:
                schedule._problem(
                    period.line, N_("%(name)s already has its period."), name=festival
                )
            seen.setdefault(festival, period.line)
        outside = [d for d in (period.first, period.last, *period.workdays) if d.year != year]
        if outside:
            schedule._problem(
                period.line,
                N_("%(day)s is not in %(year)s; give only the days of the year."),
                day=outside[0].isoformat(),
                year=year,
            )
            continue
        for day in period.days:
            if day in taken:
                schedule._problem(
                    period.line, N_("The period overlaps the one on line %(other)s."),
                    other=taken[day],
                )  # fmt: skip
                break
            taken[day] = period.line
        _check_festival_days(schedule, period, year)
    for festival in FESTIVALS:
        if festival not in seen:
            schedule._problem(
                None, N_("%(name)s has no period: the schedule is not complete."), name=festival
            )
    for period in schedule.periods:
        for day in period.workdays:
            if day.year != year:
                continue
            if day.weekday() < 5:
                schedule._problem(
                    period.line,
                    N_("%(day)s is a weekday: a make-up working day is a Saturday or Sunday."),
                    day=day.isoformat(),
                )
            elif day in taken:
                schedule._problem(
                    period.line, N_("%(day)s is both a day off and a make-up working day."),
                    day=day.isoformat(),
                )  # fmt: skip


def _check_festival_days(schedule: Schedule, period: HolidayPeriod, year: int) -> None:
    """The statutory days a festival's period must hold, where they can be known here."""
    days = set(period.days)
    for festival in period.festivals:
        required = [date(year, m, d) for m, d in FIXED_DAYS.get(festival, ())]
        if festival == "劳动节" and year >= 2025:
            required.append(date(year, 5, 2))
        if festival == "清明节":
            required += _qingming(year)
        for day in required:
            if day not in days:
                schedule._problem(
                    period.line, N_("%(name)s's period must include %(day)s."),
                    name=festival, day=day.isoformat(),
                )  # fmt: skip
        if festival in SEASONS:
            (m1, d1), (m2, d2) = SEASONS[festival]
            if not (date(year, m1, d1) <= period.first and period.last <= date(year, m2, d2)):
                schedule._problem(
                    period.line, N_("%(name)s cannot fall on these days."), name=festival
                )
        if festival == "春节" and year >= 2025 and len(days) < SPRING_FESTIVAL_DAYS:
            schedule._problem(
                period.line, N_("%(name)s has at least %(count)s days off."),
                name=festival, count=SPRING_FESTIVAL_DAYS,
            )  # fmt: skip


def _qingming(year: int) -> list[date]:
    """The day of the 清明 solar term, when the package can tell it."""
    try:
        terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
    except (NotImplementedError, ValueError, KeyError, IndexError):
        return []
    return [day for day, name in terms if name == "清明"]
