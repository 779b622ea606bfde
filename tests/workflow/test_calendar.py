"""The working calendar on real Chinese holidays, overrides and the fallback."""

from __future__ import annotations

from datetime import date

import pytest

from caseapp.models.enums import CalendarDayKind
from caseapp.workflow.calendar import WorkingCalendar, years_to_warn


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2021, 9, 18), True),  # a Saturday made a working day (Mid-Autumn 调休)
        (date(2021, 9, 19), False),  # Sunday
        (date(2021, 9, 21), False),  # Mid-Autumn Festival (a Tuesday)
        (date(2021, 10, 1), False),  # National Day
        (date(2021, 10, 7), False),  # National Day week (a Thursday)
        (date(2021, 10, 9), True),  # a Saturday made a working day
        (date(2026, 2, 14), True),  # a Saturday made a working day before Spring Festival
        (date(2026, 2, 16), False),  # Spring Festival (a Monday)
        (date(2026, 2, 24), True),
        (date(2026, 10, 8), True),  # after the 2026 National Day holiday
        (date(2026, 11, 27), True),  # an ordinary Friday
    ],
)
def test_statutory_calendar(day: date, working: bool) -> None:
    assert WorkingCalendar().is_working_day(day) is working


def test_one_working_day_after_30_september_2021_is_8_october() -> None:
    assert WorkingCalendar().add_working_days(date(2021, 9, 30), 1) == date(2021, 10, 8)


def test_three_working_days_after_13_february_2026_is_25_february() -> None:
    # 14 Feb (a make-up Saturday) is the first; 24 and 25 Feb after the festival follow.
    assert WorkingCalendar().add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)


def test_counting_back_and_zero() -> None:
    calendar = WorkingCalendar()
    assert calendar.add_working_days(date(2021, 10, 8), -1) == date(2021, 9, 30)
    assert calendar.add_working_days(date(2021, 10, 8), 0) == date(2021, 10, 8)


def test_working_days_in_a_range() -> None:
    calendar = WorkingCalendar()
    assert calendar.working_days_in(date(2021, 10, 1), date(2021, 10, 10)) == 2  # 8th, 9th
    assert calendar.working_days_in(date(2021, 10, 2), date(2021, 10, 1)) == 0


def test_overrides_win_over_the_package() -> None:
    calendar = WorkingCalendar(
        overrides={
            date(2026, 11, 27): CalendarDayKind.HOLIDAY,  # a local holiday on a Friday
            date(2026, 11, 29): CalendarDayKind.WORKDAY,  # a Sunday worked
        }
    )
    assert not calendar.is_working_day(date(2026, 11, 27))
    assert calendar.is_working_day(date(2026, 11, 29))
    assert calendar.add_working_days(date(2026, 11, 26), 2) == date(2026, 11, 30)


def test_a_year_without_data_falls_back_to_monday_to_friday_with_a_warning() -> None:
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2027, 1, 1)) is True  # a Friday: no holiday data
    assert calendar.is_working_day(date(2027, 1, 2)) is False  # Saturday
    assert calendar.fallback_years == {2027}
    assert calendar.add_working_days(date(2026, 12, 31), 2) == date(2027, 1, 4)
    assert years_to_warn(date(2026, 12, 1), calendar) == [2027]
    assert years_to_warn(date(2026, 11, 30), calendar) == []  # only from 1 December …


# --- coverage: a year counts only when all of it is known (issue 16, finding 8) ----------


@pytest.mark.parametrize(
    ("overrides", "imported", "year", "covered"),
    [
        ({}, frozenset(), 2026, True),  # the package's year
        ({}, frozenset(), 2027, False),
        ({date(2027, 1, 1): CalendarDayKind.HOLIDAY}, frozenset(), 2027, False),  # one override
        ({date(2027, 1, 1): CalendarDayKind.HOLIDAY}, frozenset({2027}), 2027, True),  # imported
        ({}, frozenset({2027}), 2028, False),
    ],
)
def test_a_year_is_covered_only_when_all_of_it_is_known(
    overrides: dict[date, CalendarDayKind], imported: frozenset[int], year: int, covered: bool
) -> None:
    calendar = WorkingCalendar(overrides=overrides, imported_years=imported)
    assert calendar.year_is_covered(year) is covered


def test_one_override_for_next_year_does_not_silence_the_warning() -> None:
    calendar = WorkingCalendar(overrides={date(2027, 1, 1): CalendarDayKind.HOLIDAY})
    assert years_to_warn(date(2026, 12, 15), calendar) == [2027]
    assert calendar.is_working_day(date(2027, 1, 1)) is False  # the override still counts …
    assert calendar.fallback_years == {2027}  # … but the answer is the fallback's


def test_an_imported_year_is_no_fallback() -> None:
    calendar = WorkingCalendar(
        overrides={date(2027, 1, 1): CalendarDayKind.HOLIDAY}, imported_years=frozenset({2027})
    )
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert calendar.fallback_years == set()
    assert years_to_warn(date(2026, 12, 15), calendar) == []


@pytest.mark.parametrize(
    ("today", "reached", "years"),
    [
        (date(2026, 11, 30), [], []),
        (date(2026, 11, 30), [date(2027, 1, 8)], [2027]),  # a clock reaches into 2027
        (date(2026, 12, 1), [], [2027]),  # from 1 December
        (date(2026, 12, 31), [date(2026, 12, 31)], [2027]),
        (date(2027, 1, 1), [], [2027]),  # the warning does not stop on 1 January
        (date(2027, 1, 5), [date(2028, 1, 3)], [2027, 2028]),
        (date(2026, 6, 1), [date(2026, 6, 5)], []),
    ],
)
def test_years_to_warn(today: date, reached: list[date], years: list[int]) -> None:
    assert years_to_warn(today, WorkingCalendar(), reached) == years
