"""Working days: the Chinese statutory calendar (``chinesecalendar``), with the admin's
overrides winning over it, and Monday–Friday for years the package does not know."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from caseapp.models.enums import CalendarDayKind


@dataclass
class WorkingCalendar:
    """Answers "is this a working day?" and counts working days.

    ``overrides`` maps a date to HOLIDAY or WORKDAY and wins over everything. Dates in
    years the package has no data for fall back to Monday–Friday; those years are
    collected in ``fallback_years`` so pages can warn about them.
    """

    overrides: Mapping[date, CalendarDayKind] = field(default_factory=dict)
    fallback_years: set[int] = field(default_factory=set, init=False)

    def is_working_day(self, day: date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override is CalendarDayKind.WORKDAY
        if not self.has_data_for(day.year):
            self.fallback_years.add(day.year)
            return day.weekday() < 5
        return _statutory_working_day(day)

    @staticmethod
    def has_data_for(year: int) -> bool:
        """Whether the package knows the statutory holidays of ``year``."""
        return year in _package_years()

    def year_is_covered(self, year: int) -> bool:
        """Known from the package, or the admin has entered overrides for that year."""
        return self.has_data_for(year) or any(day.year == year for day in self.overrides)

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


def next_year_warning(today: date, calendar: WorkingCalendar) -> int | None:
    """From 1 December on, the next year if no calendar data covers it (DESIGN §4)."""
    if today.month == 12 and not calendar.year_is_covered(today.year + 1):
        return today.year + 1
    return None
