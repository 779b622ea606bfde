"""The calendar that cannot silently run out (issue 16, finding 8; DESIGN §4): which years
are covered, deadlines marked when counted on the Monday–Friday fallback, importing a
year's official schedule, and recomputing every running clock, paused and extended ones
included, with the event and the citizens' notice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import (
    AuditLog,
    CalendarOverride,
    CalendarYear,
    Case,
    CaseEvent,
    OutboxMessage,
)
from caseapp.models.enums import CalendarDayKind, CaseStatus, Clock, EventAction, RequestKind
from caseapp.services.admin import policies as admin_policies
from caseapp.services.casework import calendar_years, decisions, intake
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import handling as casework
from caseapp.services.errors import ValidationFailed
from caseapp.workflow.calendar_schedule import parse_schedule
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCHEDULES = Path(calendar_years.EXAMPLES)
TEST_2027 = "2027-test-example.txt"
HELP = "pedestrian-bridge"  # the standard policy: help is resolved in 5 working days


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def end_of(day: date) -> datetime:
    """24:00 local of ``day``: when a day clock ending that day is due."""
    return local(day.year, day.month, day.day) + timedelta(days=1)


def example(name: str) -> bytes:
    return (SCHEDULES / name).read_bytes()


def running(case_id: int, clock: Clock):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case is not None
    [row] = deadlines.running(case, clock)
    return row


@pytest.fixture
def admin(app_ctx: Flask, demo_base: None):  # type: ignore[no-untyped-def]
    return factories.user("admin")


# --- the shipped schedules ------------------------------------------------------------------


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_shipped_official_schedules_agree_with_the_package_day_by_day(year: int) -> None:
    schedule = parse_schedule(example(f"{year}.txt"), f"{year}.txt")
    assert schedule.complete and schedule.status == "official" and schedule.year == year
    days = schedule.days()
    day = date(year, 1, 1)
    while day.year == year:
        kind = days.get(day)
        from_file = kind is CalendarDayKind.WORKDAY if kind else day.weekday() < 5
        assert from_file == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_the_2027_file_is_marked_a_test_example_in_its_name_and_header() -> None:
    assert not (SCHEDULES / "2027.txt").exists()  # no guess passed off as official
    data = example(TEST_2027)
    schedule = parse_schedule(data, TEST_2027)
    assert schedule.complete and schedule.is_test_example
    assert data.decode().startswith("# TEST EXAMPLE")
    assert "TEST EXAMPLE" in schedule.source


# --- the file's completeness check ------------------------------------------------------------

HEADER = "year: 2027\nsource: 国务院办公厅关于2027年部分节假日安排的通知\nstatus: official\n"
PERIODS = [
    "元旦 2027-01-01..2027-01-03 workdays none",
    "春节 2027-02-05..2027-02-13 workdays 2027-01-31 2027-02-20",
    "清明节 2027-04-03..2027-04-05 workdays none",
    "劳动节 2027-05-01..2027-05-05 workdays 2027-04-25",
    "端午节 2027-06-09..2027-06-11 workdays none",
    "中秋节 2027-09-15..2027-09-17 workdays none",
    "国庆节 2027-10-01..2027-10-07 workdays 2027-09-26 2027-10-09",
]


def schedule_text(header: str = HEADER, periods: list[str] = PERIODS) -> bytes:
    return (header + "\n" + "\n".join(periods) + "\n").encode()


def test_a_complete_file_passes() -> None:
    assert parse_schedule(schedule_text()).complete


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (schedule_text(periods=[]), "The file gives no holiday period: it is not complete."),
        (schedule_text(periods=PERIODS[:-1]), "国庆节 has no period: the schedule is not complete."),
        (schedule_text(periods=[*PERIODS, PERIODS[0]]), "元旦 already has its period."),
        (schedule_text(header="year: 2027\nstatus: official\n"),
         "The header needs a line “source: …”."),
        (schedule_text(header=HEADER.replace("official", "guess")),
         "The status is “official” or “test-example”."),
        (schedule_text(periods=[p.replace(" workdays none", "") for p in PERIODS]),
         "Write a period as: festival, first..last day, “workdays”, then the make-up working "
         "days or “none”."),
        (schedule_text(periods=[*PERIODS[:3], PERIODS[3].replace("2027-04-25", "2027-04-26"),
                                *PERIODS[4:]]),
         "2027-04-26 is a weekday: a make-up working day is a Saturday or Sunday."),
        (schedule_text(periods=[PERIODS[0].replace("2027-01-01..", "2026-12-31.."),
                                *PERIODS[1:]]),
         "2026-12-31 is not in 2027; give only the days of the year."),
        (schedule_text(periods=[*PERIODS[:2], "清明节 2027-04-02..2027-04-04 workdays none",
                                *PERIODS[3:]]),
         "清明节's period must include 2027-04-05."),
        (schedule_text(periods=[*PERIODS[:3], "劳动节 2027-05-01 workdays none", *PERIODS[4:]]),
         "劳动节's period must include 2027-05-02."),
        (schedule_text(periods=[*PERIODS, "植树节 2027-03-12 workdays none"]),
         "“植树节” is not a statutory festival."),
        (schedule_text(periods=[*PERIODS[:1], "春节 2027-03-05..2027-03-13 workdays none",
                                *PERIODS[2:]]),
         "春节 cannot fall on these days."),
        (schedule_text(periods=[*PERIODS[:5], "中秋节 2027-09-30..2027-10-02 workdays none",
                                PERIODS[6]]),
         "The period overlaps the one on line 10."),
        (b"\xff\xfe", "The file is not UTF-8 text."),
    ],
)  # fmt: skip
def test_an_incomplete_or_wrong_file_is_refused_with_a_clear_message(
    text: bytes, expected: str
) -> None:
    schedule = parse_schedule(text)
    assert not schedule.complete
    assert expected in [str(problem.message) for problem in schedule.problems]


def test_a_file_named_a_test_example_cannot_say_it_is_official() -> None:
    schedule = parse_schedule(schedule_text(), "2027-test-example.txt")
    assert [str(p.message) for p in schedule.problems] == [
        "The file's name says it is a test example, but its header says official."
    ]


def test_mid_autumn_may_share_national_days_period() -> None:
    periods = [*PERIODS[:5], "国庆节、中秋节 2027-10-01..2027-10-08 workdays 2027-09-26"]
    assert parse_schedule(schedule_text(periods=periods)).complete


# --- coverage ------------------------------------------------------------------------------------


def test_coverage_rule(admin) -> None:  # type: ignore[no-untyped-def]
    assert deadlines.load_calendar().year_is_covered(2026)  # the package's year
    admin_policies.add_override(admin, date(2027, 1, 1), "holiday", "元旦")
    assert not deadlines.load_calendar().year_is_covered(2027)  # one override: not covered
    assert calendar_years.coverage([2026, 2027])[1].covered_by is None
    calendar_years.import_schedule(admin, example(TEST_2027), TEST_2027)
    assert deadlines.load_calendar().year_is_covered(2027)  # an imported complete year
    assert [c.covered_by for c in calendar_years.coverage([2026, 2027])] == [
        "package",
        "schedule",
    ]


@pytest.mark.parametrize(
    ("now", "years"),
    [
        (local(2026, 11, 30, 12), []),
        (local(2026, 12, 1, 9), [2027]),
        (local(2027, 1, 5, 9), [2027]),  # not silenced on 1 January
    ],
)
def test_the_warning_from_1_december_until_the_year_is_covered(admin, now, years) -> None:  # type: ignore[no-untyped-def]
    assert deadlines.calendar_warning(now) == years
    admin_policies.add_override(admin, date(2027, 1, 1), "holiday")
    assert deadlines.calendar_warning(now) == years  # one override silences nothing
    calendar_years.import_schedule(admin, example(TEST_2027), TEST_2027, now=now)
    assert deadlines.calendar_warning(now) == []


def test_a_running_clock_reaching_an_uncovered_year_warns_before_december(admin) -> None:  # type: ignore[no-untyped-def]
    case = factories.case_in(CaseStatus.IN_PROGRESS, category=HELP, now=local(2026, 11, 20, 9))
    assert deadlines.calendar_warning(local(2026, 11, 25, 9)) == []
    casework.request_extension(case, factories.staff("handler"), 10, "需协调", version=None,
                               now=local(2026, 11, 25, 9))  # fmt: skip
    decisions.decide_request(RequestKind.EXTENSION, case, factories.staff("supervisor"), True, version=None,
                              now=local(2026, 11, 25, 10))  # fmt: skip
    # 5 + 10 working days from 20 November: still 2026 (11 December).
    assert deadlines.calendar_warning(local(2026, 11, 25, 11)) == []
    # A legacy issue: 40 working days from 26 November reach into January 2027.
    legacy = factories.case_in(
        CaseStatus.IN_PROGRESS, category="resettlement", now=local(2026, 11, 26, 9)
    )
    assert running(legacy.id, Clock.RESOLVE).due_at.year == 2027
    assert deadlines.calendar_warning(local(2026, 11, 26, 10)) == [2027]


# --- fallback marking ---------------------------------------------------------------------------


def test_deadlines_counted_on_the_fallback_are_marked_and_listed(admin) -> None:  # type: ignore[no-untyped-def]
    november = factories.case_in(CaseStatus.IN_PROGRESS, category=HELP, now=local(2026, 11, 20, 9))
    december = factories.case_in(CaseStatus.IN_PROGRESS, category=HELP, now=local(2026, 12, 28, 9))
    assert not running(november.id, Clock.RESOLVE).on_fallback
    resolve = running(december.id, Clock.RESOLVE)
    assert resolve.on_fallback  # 5 working days from 28 December reach 2027
    listed, total = calendar_years.fallback_clocks()
    assert total == 1 and [(r.case_number, r.clock) for r in listed] == [
        (december.number, Clock.RESOLVE)
    ]
    # One override does not make 2027 known: a new deadline over it is still marked.
    admin_policies.add_override(admin, date(2027, 1, 1), "holiday")
    other = factories.case_in(CaseStatus.IN_PROGRESS, category=HELP, now=local(2026, 12, 29, 9))
    assert running(other.id, Clock.RESOLVE).on_fallback
    calendar_years.import_schedule(admin, example(TEST_2027), TEST_2027, now=local(2026, 12, 29))
    assert calendar_years.fallback_clocks() == ([], 0)
    assert not running(december.id, Clock.RESOLVE).on_fallback


# --- import: preview, apply, refuse ----------------------------------------------------------------


def test_preview_says_what_the_import_changes_and_writes_nothing(admin) -> None:  # type: ignore[no-untyped-def]
    admin_policies.add_override(admin, date(2027, 1, 1), "workday", "设错了")  # replaced
    admin_policies.add_override(admin, date(2027, 3, 8), "holiday", "本市纪念日")  # kept
    preview = calendar_years.preview_schedule(example(TEST_2027), TEST_2027)
    assert preview.ready and preview.schedule.year == 2027
    changes = {c.day: c for c in preview.changes}
    assert len(changes) == len(preview.schedule.days()) == 39
    assert changes[date(2027, 1, 1)].before is CalendarDayKind.WORKDAY
    assert changes[date(2027, 1, 1)].kind is CalendarDayKind.HOLIDAY
    assert changes[date(2027, 1, 31)].kind is CalendarDayKind.WORKDAY
    assert [row.day for row in preview.kept] == [date(2027, 3, 8)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarYear)) == 0


def test_import_applies_the_schedule_in_one_step_and_is_audited(admin) -> None:  # type: ignore[no-untyped-def]
    admin_policies.add_override(admin, date(2027, 1, 1), "workday", "设错了")
    admin_policies.add_override(admin, date(2027, 3, 8), "holiday", "本市纪念日")
    result = calendar_years.import_schedule(admin, example(TEST_2027), TEST_2027)
    record = result.year
    assert (record.year, record.status, record.holidays, record.workdays) == (
        2027, "test-example", 33, 6,
    )  # fmt: skip
    overrides = {row.day: row for row in admin_policies.overrides_for_year(2027)}
    assert overrides[date(2027, 1, 1)].kind is CalendarDayKind.HOLIDAY
    assert overrides[date(2027, 1, 1)].calendar_year == 2027
    assert overrides[date(2027, 2, 8)].note == "春节"
    assert overrides[date(2027, 3, 8)].calendar_year is None  # the hand-set date stays
    [audit] = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "calendar_year"))
    assert audit.action == "import" and audit.after["status"] == "test-example"
    assert audit.after["replaced"] == [{"day": "2027-01-01", "before": "workday", "note": "设错了"}]
    # A schedule day cannot be removed or set otherwise by hand: the year would no
    # longer be whole.
    with pytest.raises(ValidationFailed):
        admin_policies.remove_override(admin, overrides[date(2027, 1, 1)].id)
    with pytest.raises(ValidationFailed) as caught:
        admin_policies.add_override(admin, date(2027, 1, 1), "workday")
    assert caught.value.field_errors == {
        "day": "This date comes from the imported official schedule."
    }


def test_a_corrected_import_replaces_the_earlier_one(admin) -> None:  # type: ignore[no-untyped-def]
    calendar_years.import_schedule(admin, example(TEST_2027), TEST_2027)
    corrected = schedule_text(
        header=HEADER.replace("official", "test-example"),
        periods=[PERIODS[0].replace("..2027-01-03", ""), *PERIODS[1:]],
    )
    preview = calendar_years.preview_schedule(corrected, "2027-test-example-corrected.txt")
    # (PERIODS has no make-up Saturday 8 May, the example file has.)
    assert preview.ready
    assert preview.dropped == [date(2027, 1, 2), date(2027, 1, 3), date(2027, 5, 8)]
    assert preview.changes == []  # every other date is already set so
    calendar_years.import_schedule(admin, corrected, "2027-test-example-corrected.txt")
    days = {row.day for row in admin_policies.overrides_for_year(2027)}
    assert date(2027, 1, 1) in days and date(2027, 1, 3) not in days
    assert db.session.get(CalendarYear, 2027).holidays == 31
    assert db.session.get(CalendarYear, 2027).workdays == 5


def test_an_incomplete_file_is_refused_and_nothing_changes(admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(calendar_years.ScheduleRefused) as refused:
        calendar_years.import_schedule(admin, schedule_text(periods=PERIODS[1:]))
    assert [str(p.message) for p in refused.value.preview.problems] == [
        "元旦 has no period: the schedule is not complete."
    ]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 0
    assert not deadlines.load_calendar().year_is_covered(2027)


def test_a_test_example_is_refused_outside_demo_and_test_instances(
    admin, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(admin_app_config(), "TESTING", False)
    monkeypatch.setitem(admin_app_config(), "DEMO", False)
    preview = calendar_years.preview_schedule(example(TEST_2027), TEST_2027)
    assert not preview.ready
    assert "it can be imported only in a demo or test instance" in str(preview.problems[0].message)
    with pytest.raises(calendar_years.ScheduleRefused):
        calendar_years.import_schedule(admin, example(TEST_2027), TEST_2027)


def admin_app_config() -> dict[str, object]:
    from flask import current_app

    return current_app.config  # type: ignore[return-value]


# --- recompute ---------------------------------------------------------------------------------------


def _extended_over_new_year() -> Case:
    """Help (5 working days) from Friday 25 December 2026, extended by 5 working days on
    the Monday–Friday fallback: due at the end of Friday 8 January (01-09 00:00)."""
    case = factories.case_in(CaseStatus.IN_PROGRESS, category=HELP, now=local(2026, 12, 25, 9))
    assert running(case.id, Clock.RESOLVE).due_at == end_of(date(2027, 1, 1))  # 1 Jan worked
    casework.request_extension(case, factories.staff("handler"), 5, "需协调", version=None,
                               now=local(2026, 12, 28, 9))  # fmt: skip
    decisions.decide_request(RequestKind.EXTENSION, case, factories.staff("supervisor"), True, version=None,
                              now=local(2026, 12, 28, 10))  # fmt: skip
    resolve = running(case.id, Clock.RESOLVE)
    assert resolve.due_at == end_of(date(2027, 1, 8)) and resolve.on_fallback
    return case


def _paused_over_new_year() -> Case:
    """Help from Friday 25 December 2026, asked for more at once: paused, its deadline
    (the end of 1 January, counted as a working day) waiting to move on resume."""
    case = factories.case_in(CaseStatus.AWAITING_CITIZEN, category=HELP, now=local(2026, 12, 25, 9))
    assert case.status is CaseStatus.AWAITING_CITIZEN
    return case


def test_recompute_moves_an_extended_and_a_paused_clock_with_event_and_notice(admin) -> None:  # type: ignore[no-untyped-def]
    extended = _extended_over_new_year()
    paused = _paused_over_new_year()
    paused_row = running(paused.id, Clock.RESOLVE)
    assert paused_row.paused_at is not None and paused_row.due_at == end_of(date(2027, 1, 1))
    db.session.query(OutboxMessage).delete()
    db.session.commit()

    result = calendar_years.import_schedule(
        admin, example(TEST_2027), TEST_2027, now=local(2026, 12, 29, 9)
    ).recomputed

    # 1 January is a holiday: 5 working days end on Monday 4 January, and the extension
    # of 5 on Monday 11 January (01-09 → 01-12 as the stored instants).
    resolve = running(extended.id, Clock.RESOLVE)
    assert resolve.due_at == end_of(date(2027, 1, 11)) and not resolve.on_fallback
    assert resolve.extended_by == 5
    paused_row = running(paused.id, Clock.RESOLVE)
    assert paused_row.due_at == end_of(date(2027, 1, 4)) and paused_row.paused_at is not None
    moved = {(m.case_number, m.clock): (m.before, m.after) for m in result.moves}
    assert moved[(extended.number, Clock.RESOLVE)] == (
        end_of(date(2027, 1, 8)),
        end_of(date(2027, 1, 11)),
    )
    assert result.left == []
    for case in (extended, paused):
        [event] = db.session.scalars(
            sa.select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.action == EventAction.RECOMPUTE_DEADLINES
            )
        )
        assert event.actor_kind == "system" and event.data["by"] == "admin"
        assert "resolve" in [c["clock"] for c in event.data["clocks"]]
        [notice] = db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.case_id == case.id, OutboxMessage.template == "deadline_moved"
            )
        )
        assert notice.recipient == "13812345678" and notice.params["what"] == "resolve"
    assert {
        n.params["date"]
        for n in db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "deadline_moved")
        )
    } == {"2027-01-11", "2027-01-04"}

    # The paused clock resumes from its recomputed deadline.
    casework.citizen_replies(
        db.session.get(Case, paused.id), factories.Actor.citizen(), "照片已上传", version=None,
        now=local(2027, 1, 5, 9),
    )  # fmt: skip
    # Paused 25 Dec – 5 Jan: working days begun 28–31 Dec, 4 and 5 Jan = 6, so the
    # deadline moves from 4 to 12 January.
    assert running(paused.id, Clock.RESOLVE).due_at == end_of(date(2027, 1, 12))

    # Running it again changes nothing and writes no event.
    again = calendar_years.recompute_deadlines(admin, now=local(2027, 1, 5, 10))
    assert again.changed == 0 and again.left == []


def test_recompute_changes_nothing_where_the_calendar_did_not_change(admin) -> None:  # type: ignore[no-untyped-def]
    """Replaying pauses and extensions gives back every deadline the actions set."""
    case = factories.case_in(CaseStatus.IN_PROGRESS, category=HELP, now=local(2026, 9, 22, 9))
    worker = factories.staff("handler")
    casework.ask_citizen(case, worker, "请补充照片。", version=None, now=local(2026, 9, 24, 16))
    casework.citizen_replies(case, factories.Actor.citizen(), "已补充", version=None,
                             now=local(2026, 10, 9, 11))  # fmt: skip
    casework.request_extension(case, worker, 3, "需协调", version=None, now=local(2026, 10, 12, 9))
    decisions.decide_request(RequestKind.EXTENSION, case, factories.staff("supervisor"), True, version=None,
                              now=local(2026, 10, 12, 10))  # fmt: skip
    casework.ask_citizen(case, worker, "再补充。", version=None, now=local(2026, 10, 13, 9))
    before = {(r.id, r.due_at) for r in db.session.get(Case, case.id).clocks if not r.stopped_at}
    result = calendar_years.recompute_deadlines(admin, now=local(2026, 10, 13, 10))
    assert result.changed == 0 and result.left == []
    db.session.expire_all()
    after = {(r.id, r.due_at) for r in db.session.get(Case, case.id).clocks if not r.stopped_at}
    assert after == before
    assert not db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.action == EventAction.RECOMPUTE_DEADLINES)
    ).all()


def test_recompute_leaves_a_clock_whose_extensions_do_not_add_up(admin) -> None:  # type: ignore[no-untyped-def]
    case = factories.case_in(CaseStatus.IN_PROGRESS, category=HELP, now=local(2026, 12, 28, 9))
    row = running(case.id, Clock.RESOLVE)
    row.extended_by = 4  # no approved request says so
    db.session.commit()
    calendar_years.import_schedule(admin, example(TEST_2027), TEST_2027)
    result = calendar_years.recompute_deadlines(admin, now=local(2026, 12, 29, 9))
    assert result.left == [case.number]
    assert running(case.id, Clock.RESOLVE).on_fallback  # still marked, to check by hand


def test_recompute_keeps_a_supervisors_urging(admin) -> None:  # type: ignore[no-untyped-def]
    case = _extended_over_new_year()
    row = running(case.id, Clock.RESOLVE)
    row.escalation_level = 3
    db.session.commit()
    calendar_years.import_schedule(admin, example(TEST_2027), TEST_2027, now=local(2026, 12, 29))
    assert running(case.id, Clock.RESOLVE).escalation_level == 3


def test_dispatch_after_import_counts_with_the_schedule(admin) -> None:  # type: ignore[no-untyped-def]
    calendar_years.import_schedule(admin, example(TEST_2027), TEST_2027)
    case = factories.new_case(category=HELP, now=local(2027, 2, 4, 9))
    intake.dispatch_case(case, factories.staff("intake"), factories.department("zjj").id,
                         version=None, now=local(2027, 2, 4, 10))  # fmt: skip
    # 5 working days from Thursday 4 February 2027: 5 Feb – 13 Feb off (test example),
    # then 15, 16, 17, 18, 19 February.
    resolve = running(case.id, Clock.RESOLVE)
    assert resolve.due_at == end_of(date(2027, 2, 19)) and not resolve.on_fallback
