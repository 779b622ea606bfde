"""Working days: the Chinese statutory calendar (``chinesecalendar``), with the admin's
overrides winning over it, and Monday–Friday for years the package does not know.

A year is *covered* only when all of it is known: the package has its data, or the
admin imported a complete official schedule of it (``imported_years``). Overrides alone
never cover a year: one local holiday entered for next year says nothing about the rest
of it. Any answer about a day of an uncovered year is the fallback's, and is recorded in
``fallback_years`` so that deadlines counted over such days are marked (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from caseapp.models.enums import CalendarDayKind


@dataclass
class WorkingCalendar:
    """Answers "is this a working day?" and counts working days.

    ``overrides`` maps a date to HOLIDAY or WORKDAY and wins over everything.
    ``imported_years`` are the years whose complete official schedule the admin
    imported (its days are among the overrides). Other dates in years the package has
    no data for fall back to Monday–Friday. Every year asked about that is not covered
    is collected in ``fallback_years``.
    """

    overrides: Mapping[date, CalendarDayKind] = field(default_factory=dict)
    imported_years: frozenset[int] = frozenset()
    fallback_years: set[int] = field(default_factory=set, init=False)

    def is_working_day(self, day: date) -> bool:
        covered = self.year_is_covered(day.year)
        if not covered:
            self.fallback_years.add(day.year)
        override = self.overrides.get(day)
        if override is not None:
            return override is CalendarDayKind.WORKDAY
        if covered and self.has_data_for(day.year):
            return _statutory_working_day(day)
        # An imported year lists every exception, so Monday–Friday is right for the
        # rest of it; for an uncovered year it is only the fallback.
        return day.weekday() < 5

    @staticmethod
    def has_data_for(year: int) -> bool:
        """Whether the package knows the statutory holidays of ``year``."""
        return year in _package_years()

    def year_is_covered(self, year: int) -> bool:
        """Known as a whole: from the package, or from an imported official schedule."""
        return year in self.imported_years or self.has_data_for(year)

    def uncovered_years(self, first: date, last: date) -> list[int]:
        """The years of ``first`` … ``last`` that are not covered."""
        return [y for y in range(first.year, last.year + 1) if not self.year_is_covered(y)]

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself not counted).

        ``count`` 0 gives ``start``; a negative count goes back.
        """
        step = 1 if count >= 0 else -1
        day, left = start, abs(count)
        while left:
            day += timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_in(self, first: date, last: date) -> int:
        """How many working days lie in ``first`` … ``last``, both included."""
        count, day = 0, first
        while day <= last:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count


# The package's look-up scans its whole holiday table on every call (about 25 µs); a
# deadline counted over a late case asks it about thousands of days. Its answers never
# change while the app runs, so each day is asked once.
@lru_cache(maxsize=1 << 16)
def _statutory_working_day(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


_YEARS: set[int] = set()


def _package_years() -> set[int]:
    if not _YEARS:
        for year in range(1990, 2200):
            try:
                chinese_calendar.is_workday(date(year, 6, 1))
            except NotImplementedError:
                continue
            _YEARS.add(year)
    return _YEARS


def years_to_warn(
    today: date, calendar: WorkingCalendar, reached: Iterable[date] = ()
) -> list[int]:
    """The uncovered years pages must warn about (DESIGN §4): this year, next year from
    1 December on, and every year up to the latest of ``reached`` (the last days the
    running clocks reach)."""
    last = max([today, *reached])
    if today.month == 12:
        last = max(last, date(today.year + 1, 1, 1))
    return calendar.uncovered_years(today, last)
