"""Deadline arithmetic with real dates in Asia/Shanghai (DESIGN §4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from caseapp.models.enums import CalendarDayKind, CaseKind, Clock, PolicyTerm, Priority, TimeUnit
from caseapp.workflow.calendar import WorkingCalendar
from caseapp.workflow.deadlines import (
    ESCALATING_CLOCKS,
    LEVEL_DUE_SOON,
    LEVEL_NONE,
    LEVEL_OVERDUE,
    LEVEL_SUPERVISED,
    Audience,
    DeadlineMath,
    Pause,
    Period,
    escalation_audience,
    level_after_move,
    period_for,
)

TZ = ZoneInfo("Asia/Shanghai")
WD, CD, H = TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS, TimeUnit.HOURS


@pytest.fixture
def math() -> DeadlineMath:
    return DeadlineMath(WorkingCalendar(), TZ)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def test_one_working_day_from_30_september_2021_ends_at_the_end_of_8_october(
    math: DeadlineMath,
) -> None:
    due = math.due_at(local(2021, 9, 30, 10, 15), Period(WD, 1))
    assert due == local(2021, 10, 9, 0, 0)  # 24:00 on 8 October
    assert due.astimezone(UTC) == datetime(2021, 10, 8, 16, 0, tzinfo=UTC)


def test_three_working_days_from_13_february_2026_end_at_the_end_of_25_february(
    math: DeadlineMath,
) -> None:
    assert math.due_at(local(2026, 2, 13, 17, 59), Period(WD, 3)) == local(2026, 2, 26)


def test_a_petition_accept_clock_of_15_calendar_days(math: DeadlineMath) -> None:
    # Holidays count: 15 days from 25 September 2026 run through National Day.
    assert math.due_at(local(2026, 9, 25, 9, 0), Period(CD, 15)) == local(2026, 10, 11)


def test_a_2_hour_urgent_clock_is_wall_clock_time(math: DeadlineMath) -> None:
    start = local(2026, 10, 1, 23, 30)  # a holiday, late at night
    assert math.due_at(start, Period(H, 2)) == local(2026, 10, 2, 1, 30)


def test_the_start_day_is_not_counted_even_late_at_night(math: DeadlineMath) -> None:
    # 23:59 local on a Thursday is still Thursday: one working day ends Friday 24:00.
    start = datetime(2026, 11, 26, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    assert math.due_at(start, Period(WD, 1)) == local(2026, 11, 28)
    # One minute later it is Friday in Shanghai: the deadline is Monday 24:00.
    assert math.due_at(start + timedelta(minutes=1), Period(WD, 1)) == local(2026, 12, 1)


def test_a_clock_started_on_a_holiday_counts_from_the_next_working_day(math: DeadlineMath) -> None:
    assert math.due_at(local(2021, 10, 3, 12, 0), Period(WD, 1)) == local(2021, 10, 9)


def test_a_pause_of_3_working_days_moves_the_deadline_by_3_working_days(math: DeadlineMath) -> None:
    due = math.due_at(local(2026, 11, 2, 9, 0), Period(WD, 5))  # Monday → end of 9 November
    assert due == local(2026, 11, 10)
    # Paused Tuesday 10:00 until Friday 15:00: Wed, Thu, Fri began during the pause.
    paused, resumed = local(2026, 11, 3, 10, 0), local(2026, 11, 6, 15, 0)
    assert math.days_begun_during(WD, paused, resumed) == 3
    assert math.after_pause(due, WD, paused, resumed) == local(2026, 11, 13)  # end of 12 Nov


def test_a_pause_over_a_weekend_moves_a_working_day_clock_by_working_days_only(
    math: DeadlineMath,
) -> None:
    due = local(2026, 11, 21)  # end of Friday 20 November
    paused, resumed = local(2026, 11, 20, 16, 0), local(2026, 11, 23, 9, 0)  # Fri → Mon
    assert math.days_begun_during(WD, paused, resumed) == 1  # Monday only
    assert math.after_pause(due, WD, paused, resumed) == local(2026, 11, 24)
    assert math.after_pause(due, CD, paused, resumed) == local(2026, 11, 24)  # Sat, Sun, Mon


def test_a_pause_within_one_day_moves_nothing_but_an_hour_clock(math: DeadlineMath) -> None:
    paused, resumed = local(2026, 11, 23, 9, 0), local(2026, 11, 23, 11, 30)
    assert math.after_pause(local(2026, 11, 25), WD, paused, resumed) == local(2026, 11, 25)
    assert math.after_pause(local(2026, 11, 23, 12, 0), H, paused, resumed) == local(
        2026, 11, 23, 14, 30
    )


def test_an_extension_adds_working_days_to_the_deadline(math: DeadlineMath) -> None:
    # Due at the end of 29 September 2026; two working days on are 30 September and,
    # after the National Day holiday, 8 October.
    assert math.extended(local(2026, 9, 30), Period(WD, 2)) == local(2026, 10, 9)
    assert math.extended(local(2026, 9, 30), Period(CD, 2)) == local(2026, 10, 2)
    assert math.extended(local(2026, 9, 30, 10, 0), Period(H, 3)) == local(2026, 9, 30, 13, 0)


@pytest.mark.parametrize(
    ("now", "level"),
    [
        (local(2026, 11, 23, 9, 0), LEVEL_NONE),
        # 80 % of the 183 hours from Friday 09:00 to Saturday 00:00 a week on is used at
        # Thursday 11:24, before "1 working day before" (Thursday 24:00).
        (local(2026, 11, 26, 11, 23), LEVEL_NONE),
        (local(2026, 11, 26, 11, 25), LEVEL_DUE_SOON),
        (local(2026, 11, 27, 23, 59), LEVEL_DUE_SOON),
        (local(2026, 11, 28, 0, 0), LEVEL_OVERDUE),
        (local(2026, 12, 4, 23, 59), LEVEL_OVERDUE),
        (local(2026, 12, 5, 0, 0), LEVEL_SUPERVISED),  # 5 working days after becoming overdue
    ],
)
def test_escalation_levels_of_a_5_working_day_clock(
    math: DeadlineMath, now: datetime, level: int
) -> None:
    start = local(2026, 11, 20, 9, 0)  # Friday
    due = math.due_at(start, Period(WD, 5))
    assert due == local(2026, 11, 28)  # end of Friday 27 November
    assert math.escalation_level(start, due, now) == level


def test_due_soon_takes_the_earlier_of_the_two_rules(math: DeadlineMath) -> None:
    # A 10-hour clock: one working day before its deadline is before it even started,
    # so it is due soon from the start.
    start = local(2026, 11, 23, 9, 0)
    due = math.due_at(start, Period(H, 10))
    assert math.due_soon_from(start, due) == local(2026, 11, 20, 19, 0)
    assert math.escalation_level(start, due, start) == LEVEL_DUE_SOON
    # A 60-day clock: 80 % used comes long before the last working day.
    long_start = local(2026, 1, 5, 9, 0)
    long_due = math.due_at(long_start, Period(CD, 60))
    assert math.due_soon_from(long_start, long_due) == long_start + (long_due - long_start) * 0.8


def test_supervised_by_hand_is_level_3_at_once(math: DeadlineMath) -> None:
    start = local(2026, 11, 23, 9, 0)
    due = math.due_at(start, Period(WD, 5))
    assert math.escalation_level(start, due, start, supervised=True) == LEVEL_SUPERVISED


def test_working_days_late(math: DeadlineMath) -> None:
    due = local(2026, 11, 28)  # end of Friday 27th
    assert math.working_days_late(due, local(2026, 11, 27, 12, 0)) == 0
    assert math.working_days_late(due, local(2026, 11, 29, 12, 0)) == 0  # a weekend
    assert math.working_days_late(due, local(2026, 12, 1, 12, 0)) == 2  # Mon, Tue


TERMS = {
    "resolve": {
        "*": {"unit": "working_days", "value": 5, "urgent_unit": "working_days", "urgent_value": 2},
        "petition": {
            "unit": "calendar_days",
            "value": 60,
            "urgent_unit": None,
            "urgent_value": None,
        },
    },
    "first_response": {
        "*": {"unit": "working_days", "value": 1, "urgent_unit": "hours", "urgent_value": 2}
    },
}


@pytest.mark.parametrize(
    ("term", "kind", "priority", "expected"),
    [
        (PolicyTerm.RESOLVE, CaseKind.HELP, Priority.NORMAL, Period(WD, 5)),
        (PolicyTerm.RESOLVE, CaseKind.HELP, Priority.URGENT, Period(WD, 2)),
        (PolicyTerm.RESOLVE, CaseKind.PETITION, Priority.NORMAL, Period(CD, 60)),
        (PolicyTerm.RESOLVE, CaseKind.PETITION, Priority.URGENT, Period(CD, 60)),
        (PolicyTerm.FIRST_RESPONSE, CaseKind.COMPLAINT, Priority.URGENT, Period(H, 2)),
    ],
)
def test_period_for_picks_kind_and_urgent_values(
    term: PolicyTerm, kind: CaseKind, priority: Priority, expected: Period
) -> None:
    assert period_for(TERMS, term, kind, priority) == expected


def test_period_for_a_term_the_policy_lacks() -> None:
    with pytest.raises(KeyError):
        period_for(TERMS, PolicyTerm.FEEDBACK, CaseKind.HELP)


# --- escalation: who is told, and which level a moved deadline keeps (DESIGN §4) ----------

IN, HA, LE, SU, RL = (
    Audience.INTAKE,
    Audience.HANDLER,
    Audience.LEADS,
    Audience.SUPERVISORS,
    Audience.RESPONSIBLE_LEADER,
)


@pytest.mark.parametrize(
    ("clock", "held", "levels_1_2"),
    [
        (Clock.ACCEPT, False, {IN}),
        (Clock.SIGN, True, {LE, HA}),
        (Clock.FIRST_RESPONSE, True, {HA, LE}),
        (Clock.RESOLVE, True, {HA, LE}),
        (Clock.RESOLVE, False, {IN}),  # returned: the case is back with intake
    ],
)
def test_each_clock_tells_its_people_and_level_3_the_supervisors_as_well(
    clock: Clock, held: bool, levels_1_2: set[Audience]
) -> None:
    assert escalation_audience(clock, LEVEL_NONE, held=held) == set()
    assert escalation_audience(clock, LEVEL_DUE_SOON, held=held) == levels_1_2
    assert escalation_audience(clock, LEVEL_OVERDUE, held=held) == levels_1_2
    assert escalation_audience(clock, LEVEL_SUPERVISED, held=held) == levels_1_2 | {SU, RL}


def test_every_escalating_clock_has_people_at_every_level_each_including_the_last() -> None:
    for clock in ESCALATING_CLOCKS:
        for held in (True, False):
            told = [escalation_audience(clock, level, held=held) for level in (1, 2, 3)]
            assert all(told) and told[0] <= told[1] <= told[2]


@pytest.mark.parametrize("clock", [Clock.REPLY_WINDOW, Clock.FEEDBACK])
def test_the_citizen_s_windows_do_not_escalate(clock: Clock) -> None:
    with pytest.raises(ValueError, match="does not escalate"):
        escalation_audience(clock, LEVEL_OVERDUE)


DUE = local(2026, 11, 6)


@pytest.mark.parametrize(
    ("level", "moved_to", "kept"),
    [
        (LEVEL_DUE_SOON, DUE, LEVEL_DUE_SOON),  # a pause that began no day: the level stands
        (LEVEL_OVERDUE, DUE, LEVEL_OVERDUE),
        (LEVEL_SUPERVISED, DUE, LEVEL_SUPERVISED),
        (LEVEL_DUE_SOON, DUE + timedelta(days=3), LEVEL_NONE),  # a new deadline: episode 0
        (LEVEL_OVERDUE, DUE + timedelta(days=3), LEVEL_NONE),
        (LEVEL_SUPERVISED, DUE + timedelta(days=3), LEVEL_SUPERVISED),  # 督办 stays
        (LEVEL_SUPERVISED, DUE - timedelta(hours=1), LEVEL_SUPERVISED),
        (LEVEL_NONE, DUE + timedelta(days=3), LEVEL_NONE),
    ],
)
def test_a_level_stands_while_its_deadline_stands_and_supervision_through_any_move(
    level: int, moved_to: datetime, kept: int
) -> None:
    assert level_after_move(level, DUE, moved_to) == kept
    # the same instant in another zone is the same deadline
    assert level_after_move(level, DUE, moved_to.astimezone(UTC)) == kept


# --- recounting a clock and the fallback mark (issue 16, finding 8) --------------------------


def test_replaying_a_clocks_moves_gives_the_deadline_they_set(math: DeadlineMath) -> None:
    start = local(2026, 9, 22, 9)
    pause = Pause(local(2026, 9, 24, 16), local(2026, 10, 9, 11))
    extension = Period(WD, 3)
    by_steps = math.extended(
        math.after_pause(math.due_at(start, Period(WD, 5)), WD, pause.paused_at, pause.resumed_at),
        extension,
    )
    assert math.replayed(start, Period(WD, 5), [pause, extension]) == by_steps
    assert math.replayed(start, Period(WD, 5), []) == math.due_at(start, Period(WD, 5))


def test_a_deadline_over_an_uncovered_year_is_counted_on_the_fallback(math: DeadlineMath) -> None:
    start = local(2026, 12, 28, 9)
    inside = math.due_at(local(2026, 12, 1, 9), Period(WD, 5))
    across = math.due_at(start, Period(WD, 5))
    assert not math.counted_on_fallback(local(2026, 12, 1, 9), inside, WD)
    assert math.counted_on_fallback(start, across, WD)
    assert not math.counted_on_fallback(start, start + timedelta(days=10), CD)  # no calendar
    # One override for 2027 does not make it known; an imported schedule does.
    one_override = DeadlineMath(
        WorkingCalendar(overrides={date(2027, 1, 1): CalendarDayKind.HOLIDAY}), TZ
    )
    assert one_override.counted_on_fallback(start, across, WD)
    imported = DeadlineMath(WorkingCalendar(imported_years=frozenset({2027})), TZ)
    assert not imported.counted_on_fallback(start, across, WD)
