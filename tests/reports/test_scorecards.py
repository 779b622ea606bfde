"""Scorecards (DESIGN §6) against figures worked out by hand.

Twenty-three cases of two departments are driven through the real services at set
times in November 2026 (a month without public holidays: only weekends are off).
Road repairs (zjj) and street lights (cgj) both follow the quick-repair policy:
sign for within 1 working day, first response within 1 working day of signing,
answer within 3 working days of the dispatch. Each case says what it counts for.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from caseapp.demo.base import load_base
from caseapp.models import Case
from caseapp.models.enums import RequestKind, Satisfaction
from caseapp.reports import scorecards
from caseapp.reports.daily_totals import rebuild_daily_totals
from caseapp.reports.scorecards import PeriodKind, Scorecard, period_containing
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import closing, decisions, intake
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from tests.conftest import Snapshots, _client_as
from tests.factories import department, new_case, staff

TZ = ZoneInfo("Asia/Shanghai")
S, B, U = Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED, Satisfaction.UNSATISFIED
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=TZ)
NOVEMBER = period_containing(PeriodKind.MONTH, date(2026, 11, 15))


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


class Story:
    """One case, filed at 09:00 on ``day``, dispatched at 09:10 and signed for at 09:20."""

    WORKERS = {"zjj": "handler", "cgj": "handler2"}
    CATEGORIES = {"zjj": "road-damage", "cgj": "street-light"}

    def __init__(self, lead: str, month: int, day: int) -> None:
        self.lead = lead
        self.case: Case = new_case(category=self.CATEGORIES[lead], now=at(month, day, 9, 0))
        intake.dispatch_case(
            self.case, staff("intake"), department(lead).id, version=None, now=at(month, day, 9, 10)
        )
        self.sign(at(month, day, 9, 20))

    @property
    def worker(self) -> Actor:
        return staff(self.WORKERS[self.lead])

    def sign(self, when: datetime) -> Story:
        casework.sign_for_case(self.case, self.worker, version=None, now=when)
        return self

    def contact(self, when: datetime) -> Story:
        casework.record_contact(
            self.case, self.worker, "call", "已电话联系", version=None, now=when
        )
        return self

    def public_note(self, when: datetime) -> Story:
        casework.add_note(
            self.case, self.worker, "已安排现场查看。", public=True, version=None, now=when
        )
        return self

    def ask(self, when: datetime) -> Story:
        casework.ask_citizen(self.case, self.worker, "请提供照片。", version=None, now=when)
        return self

    def reply(self, when: datetime) -> Story:
        casework.citizen_replies(self.case, Actor.citizen(), "照片已上传。", version=None, now=when)
        return self

    def resolve(self, when: datetime) -> Story:
        casework.resolve_case(self.case, self.worker, "已修复。", version=None, now=when)
        return self

    def rate(self, when: datetime, solved: bool, satisfaction: Satisfaction) -> Story:
        closing.rate_case(self.case, Actor.citizen(), solved, satisfaction, version=None, now=when)
        return self

    def exclude(self, when: datetime) -> Story:
        closing.exclude_rating(
            self.case, staff("supervisor"), "诉求超出职能范围", version=None, now=when
        )
        return self

    def reopen(self, when: datetime) -> Story:
        closing.reopen_case(self.case, staff("supervisor"), "问题复发", version=None, now=when)
        return self

    def deny_redo(self, when: datetime) -> Story:
        decisions.decide_request(
            RequestKind.REDO,
            self.case,
            staff("supervisor"),
            False,
            "已尽力办理",
            version=None,
            now=when,
        )
        return self

    def give_back_and_move_to(self, lead: str, when: datetime) -> Story:
        """Returned at once, dispatched to ``lead`` an hour later, signed for at once."""
        casework.return_case(self.case, self.worker, "不属于本单位职责", version=None, now=when)
        self.lead = lead
        intake.dispatch_case(
            self.case,
            staff("intake"),
            department(lead).id,
            version=None,
            now=when.replace(hour=when.hour + 1),
        )
        return self.sign(when.replace(hour=when.hour + 1, minute=10))

    def feedback_passes(self, when: datetime) -> Story:
        closing.feedback_window_passes(self.case, now=when)
        return self


def city_of_november() -> None:
    """The 23 cases; the comment after each says what it counts for in November.

    resp = first response on time (✓) or late (✗); rating = solved?/satisfaction;
    answer = on time (✓/✗) and working days from the acceptance (its day not counted).
    """
    # --- 市住房和城乡建设局 (zjj) ------------------------------------------------------------
    # Z1 resp ✓; answer ✓ 2 (Tue, Wed); rating solved/S.
    Story("zjj", 11, 2).contact(at(11, 2, 15)).resolve(at(11, 4)).rate(at(11, 5), True, S)
    # Z2 resp ✗ (due at the end of Tue 3); answer ✓ 3 (due at the end of Thu 5); solved/B.
    Story("zjj", 11, 2).contact(at(11, 5)).resolve(at(11, 5, 11)).rate(at(11, 6), True, B)
    # Z3 resp ✓; answered late on Mon 9, rated unsatisfied (redo 1), answered again on
    # Wed 11 within the fresh period (answer ✓ 6), then solved/S: only the latest counts.
    Story("zjj", 11, 3).contact(at(11, 3, 15)).resolve(at(11, 9)).rate(
        at(11, 10), False, U
    ).resolve(at(11, 11)).rate(at(11, 12), True, S)
    # Z4 resp ✗ (its answer on Mon 9 was the first response, due at the end of Thu 5);
    # unsatisfied (redo 1) and that rating excluded; the answer a redo followed is not
    # counted; still open and overdue now.
    Story("zjj", 11, 4).resolve(at(11, 9)).rate(at(11, 10), False, U).exclude(at(11, 11))
    # Z5 resp ✓; closed satisfied, reopened on Wed 11 (redo 1), answered again on Fri 13
    # (answer ✓ 6), then rated not solved/B: the reopened close is not counted.
    Story("zjj", 11, 5).contact(at(11, 5, 15)).resolve(at(11, 6)).rate(at(11, 9), True, S).reopen(
        at(11, 11)
    ).resolve(at(11, 13)).rate(at(11, 16), False, B)
    # Z6 resp ✓; closed satisfied then reopened on Fri 13 (redo 1) and still open:
    # neither its answer nor its rating counts; overdue now.
    Story("zjj", 11, 9).contact(at(11, 9, 15)).resolve(at(11, 10)).rate(at(11, 11), True, S).reopen(
        at(11, 13)
    )
    # Z7 resp ✓ (contact on Tue 10, due at its end); answer ✓ 3; solved/S.
    Story("zjj", 11, 9).contact(at(11, 10, 11)).resolve(at(11, 12)).rate(at(11, 13), True, S)
    # Z8 resp ✓; answer ✗ 4 (due at the end of Fri 13, answered Mon 16); no rating.
    Story("zjj", 11, 10).contact(at(11, 10, 15)).resolve(at(11, 16)).feedback_passes(at(11, 23))
    # Z9 resp ✓ (a question to the citizen); paused from Wed 11 to Mon 16, three working
    # days that move the deadline from Mon 16 to Thu 19; answer ✓ 5; solved/S.
    Story("zjj", 11, 11).ask(at(11, 11, 14)).reply(at(11, 16)).resolve(at(11, 18)).rate(
        at(11, 19), True, S
    )
    # Z10 resp ✓ (a public note); answer ✓ 1; not solved/B.
    Story("zjj", 11, 16).public_note(at(11, 16, 15)).resolve(at(11, 17)).rate(at(11, 18), False, B)
    # Z11 resp ✗ (no response; due at the end of Tue 24); open and overdue now.
    Story("zjj", 11, 23)
    # Z12 first response due at the end of Mon 30, i.e. 1 December 00:00: December's.
    Story("zjj", 11, 27).contact(at(12, 1))
    # Z13 dispatched and first responded in October; answer ✓ 1 and solved/S in November.
    Story("zjj", 10, 30).contact(at(10, 30, 15)).resolve(at(11, 2)).rate(at(11, 3), True, S)

    # --- 市城市管理局 (cgj) ----------------------------------------------------------------
    # C1 resp ✓; answer ✓ 1; solved/S.
    Story("cgj", 11, 2).contact(at(11, 2, 15)).resolve(at(11, 3)).rate(at(11, 4), True, S)
    # C2 resp ✓; answer ✗ 4 (due at the end of Thu 5); solved/B.
    Story("cgj", 11, 2).contact(at(11, 2, 15)).resolve(at(11, 6)).rate(at(11, 9), True, B)
    # C3 resp ✗ (Fri 6; due at the end of Thu 5); unsatisfied on Mon 9 (redo 1); answered
    # again on Tue 10 (answer ✓ 4); solved/S.
    Story("cgj", 11, 4).contact(at(11, 6)).resolve(at(11, 6, 11)).rate(at(11, 9), False, U).resolve(
        at(11, 10)
    ).rate(at(11, 11), True, S)
    # C4 resp ✓; two redos (Mon 9, Wed 11); a third unsatisfied rating goes to the
    # supervisor, who denies a further redo: closed, not solved/U; answer ✓ 5 (Thu 12).
    Story("cgj", 11, 5).contact(at(11, 5, 15)).resolve(at(11, 6)).rate(at(11, 9), False, U).resolve(
        at(11, 10)
    ).rate(at(11, 11), False, U).resolve(at(11, 12)).rate(at(11, 13), False, U).deny_redo(
        at(11, 16)
    )
    # C5 resp ✓; unsatisfied on Thu 12 (redo 1), excluded the same day; answered again on
    # Mon 16 (answer ✓ 5) and rated solved/S: the new rating is not the excluded one.
    Story("cgj", 11, 9).contact(at(11, 9, 15)).resolve(at(11, 11)).rate(
        at(11, 12), False, U
    ).exclude(at(11, 12, 15)).resolve(at(11, 16)).rate(at(11, 17), True, S)
    # C6 resp ✓ (Wed 11 16:00, due at its end); answer ✓ 3; not solved/B.
    Story("cgj", 11, 10).contact(at(11, 11, 16)).resolve(at(11, 13)).rate(at(11, 16), False, B)
    # C7 resp ✓; answer ✓ 2; solved/S.
    Story("cgj", 11, 18).contact(at(11, 18, 15)).resolve(at(11, 20)).rate(at(11, 23), True, S)
    # C8 returned by cgj before its response deadline (not counted for cgj), dispatched
    # to zjj on Fri 20: zjj resp ✓; answer ✓ 3 (the resolve period runs from the first
    # dispatch: due at the end of Tue 24) and solved/S, both zjj's.
    Story("cgj", 11, 19).give_back_and_move_to("zjj", at(11, 20, 9)).contact(
        at(11, 20, 15)
    ).resolve(at(11, 24)).rate(at(11, 25), True, S)
    # C9 resp ✓; answer ✓ 2; not rated yet (its feedback window ends on 2 December).
    Story("cgj", 11, 23).contact(at(11, 23, 15)).resolve(at(11, 25))
    # C10 resp ✓ (Wed 25, due at its end); answer ✗ 4 (due at the end of Fri 27,
    # answered Mon 30); its rating on 1 December is December's.
    Story("cgj", 11, 24).contact(at(11, 25)).resolve(at(11, 30)).rate(at(12, 1), True, S)


# (response on time/due, solved/rated, satisfied+basically/rated, weighted %, on time/answered,
#  mean working days, overdue now, redos, excluded, composite)
EXPECTED = {
    "zjj": dict(
        response=(9, 12, 75.0),
        resolution=(7, 9, 77.8),
        satisfaction=(9, 9, 100.0),
        weighted=96.7,  # (6 + 0.9 × 3) / 9
        on_time=(9, 10, 90.0),
        mean_working_days=3.4,  # (2+3+6+6+3+4+5+1+1+3) / 10
        overdue_now=3,  # Z4, Z6, Z11
        redos=4,  # Z3, Z4, Z5, Z6
        excluded=1,  # Z4
        composite=86.4,  # 10 × 9/12 + 50 × 7/9 + 40 × 9/9
    ),
    "cgj": dict(
        response=(8, 9, 88.9),
        resolution=(5, 7, 71.4),
        satisfaction=(6, 7, 85.7),
        weighted=82.9,  # (4 + 0.9 × 2) / 7
        on_time=(7, 9, 77.8),
        mean_working_days=3.3,  # (1+4+4+5+5+3+2+2+4) / 9
        overdue_now=0,
        redos=4,  # C3, C4 twice, C5
        excluded=0,
        composite=78.9,  # 10 × 8/9 + 50 × 5/7 + 40 × 6/7
    ),
    None: dict(
        response=(17, 21, 81.0),
        resolution=(12, 16, 75.0),
        satisfaction=(15, 16, 93.8),
        weighted=90.6,  # (10 + 0.9 × 5) / 16
        on_time=(16, 19, 84.2),
        mean_working_days=3.4,  # 64 / 19
        overdue_now=3,
        redos=8,
        excluded=1,
        composite=83.1,  # 10 × 17/21 + 50 × 12/16 + 40 × 15/16
    ),
}


def figures(card: Scorecard) -> dict[str, object]:
    def ratio(r: scorecards.Ratio) -> tuple[int, int, float | None]:
        return (int(r.part), r.whole, r.percent)

    return dict(
        response=ratio(card.response),
        resolution=ratio(card.resolution),
        satisfaction=ratio(card.satisfaction),
        weighted=card.weighted_satisfaction.percent,
        on_time=ratio(card.on_time),
        mean_working_days=card.mean_working_days,
        overdue_now=card.overdue_now,
        redos=card.redos,
        excluded=card.excluded,
        composite=card.composite,
    )


def _load_november() -> None:
    load_base()
    city_of_november()


@pytest.fixture
def november_city(app_ctx: Flask, demo_base: None, snapshots: Snapshots) -> None:
    """The demo base and ``city_of_november``: built once per worker, put back for each
    test (the stories take a second or more to play)."""
    snapshots.restore("november", _load_november)


@pytest.fixture
def november(november_city: None) -> scorecards.ScorecardReport:
    return scorecards.report(NOVEMBER, NOW, deadlines.deadline_math())


def card_of(result: scorecards.ScorecardReport, code: str | None) -> Scorecard:
    if code is None:
        return result.total
    return next(c for c in result.departments if c.department and c.department.code == code)


@pytest.mark.parametrize("code", ["zjj", "cgj", None])
def test_the_figures_are_those_worked_out_by_hand(
    november: scorecards.ScorecardReport, code: str | None
) -> None:
    assert figures(card_of(november, code)) == EXPECTED[code]


def test_departments_are_ranked_by_composite_score(november: scorecards.ScorecardReport) -> None:
    assert [c.department.code for c in november.departments if c.department] == ["zjj", "cgj"]


def test_the_lists_behind_the_figures_are_the_cases_counted(
    november: scorecards.ScorecardReport,
) -> None:
    zjj = november.outcomes.of_department(department("zjj").id)
    late = [r for r in scorecards.rows_behind(zjj, scorecards.Figure.RESPONSES) if not r.on_time]
    assert len(late) == 3
    excluded = scorecards.rows_behind(zjj, scorecards.Figure.EXCLUDED)
    assert [(r.solved, r.satisfaction) for r in excluded] == [(False, U)]
    redos = scorecards.rows_behind(november.outcomes, scorecards.Figure.REDOS)
    assert len(redos) == 8 and all(r.at.astimezone(TZ).month == 11 for r in redos)


def test_the_weekly_trend_splits_the_same_events_by_week(
    november: scorecards.ScorecardReport,
) -> None:
    trend = scorecards.weekly_trend(NOVEMBER, NOW, deadlines.deadline_math())
    assert [p.week.first for p in trend][-1] == date(2026, 11, 30)
    assert len(trend) == scorecards.TREND_WEEKS
    # The week of 16–22 November: ratings Z5 (not solved/B), Z10 (not solved/B),
    # Z9 (solved/S), C6 (not solved/B), C5 (solved/S) — and C4's denied redo is no rating.
    week = next(p.card for p in trend if p.week.first == date(2026, 11, 16))
    assert (int(week.resolution.part), week.resolution.whole) == (2, 5)
    # November's 16 ratings and C10's of 1 December, in the week of 30 November.
    assert sum(p.card.rated for p in trend) == 17


def test_weights_set_by_the_admin_change_the_composite(november_city: None) -> None:
    from caseapp.extensions import db
    from caseapp.models import Setting

    db.session.add(
        Setting(
            key=scorecards.WEIGHTS_SETTING,
            value={"response": 100, "resolution": 0, "satisfaction": 0},
        )
    )
    db.session.commit()
    result = scorecards.report(NOVEMBER, NOW, deadlines.deadline_math())
    assert card_of(result, "zjj").composite == 75.0  # the response rate alone


@pytest.mark.parametrize(
    ("kind", "day", "first", "last"),
    [
        (PeriodKind.WEEK, date(2026, 11, 26), date(2026, 11, 23), date(2026, 11, 29)),
        (PeriodKind.MONTH, date(2026, 2, 10), date(2026, 2, 1), date(2026, 2, 28)),
        (PeriodKind.QUARTER, date(2026, 11, 26), date(2026, 10, 1), date(2026, 12, 31)),
        (PeriodKind.QUARTER, date(2026, 2, 1), date(2026, 1, 1), date(2026, 3, 31)),
    ],
)
def test_periods(kind: PeriodKind, day: date, first: date, last: date) -> None:
    period = period_containing(kind, day)
    assert (period.first, period.last) == (first, last)


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 11, 2), date(2026, 11, 1)), (date(2025, 1, 1), date(2026, 1, 2))],
)
def test_a_custom_period_must_be_forwards_and_at_most_a_year(first: date, last: date) -> None:
    with pytest.raises(scorecards.BadPeriod):
        scorecards.custom_period(first, last)


def test_a_composite_shares_out_the_weight_of_a_missing_rate() -> None:
    weights = scorecards.Weights()
    from decimal import Decimal

    assert scorecards.composite_score(Decimal("0.5"), None, None, weights) == 50.0
    assert scorecards.composite_score(None, Decimal(1), Decimal(0), weights) == 55.6  # 50/90
    assert scorecards.composite_score(None, None, None, weights) is None


# --- the page, the lists behind it and the spreadsheet ---------------------------------------


def page_figures(html: str, department_name: str) -> dict[str, str]:
    """The row of ``department_name``: {figure: text of its cell}."""
    row = re.search(rf'<th scope="row">{re.escape(department_name)}</th>(.*?)</tr>', html, re.S)
    assert row, department_name
    cells = re.findall(r'data-figure="(\w+)"[^>]*>\s*(?:<[^>]+>\s*)*([^<\s]+)', row.group(1))
    return dict(cells)


ARGS = "period=month&day=2026-11-15&lang=zh_CN"


@pytest.fixture
def november_client(app: Flask, november_city: None, time_machine: object) -> FlaskClient:
    """A supervisor signed in on 2 December, after the November of ``city_of_november``."""
    time_machine.move_to(NOW, tick=False)  # type: ignore[attr-defined]
    return _client_as(app, "supervisor")


def test_the_page_and_the_spreadsheet_show_the_same_figures(
    november_client: FlaskClient,
) -> None:
    html = november_client.get(f"/supervisor/scorecards?{ARGS}").get_data(as_text=True)
    book = load_workbook(
        io.BytesIO(november_client.get(f"/supervisor/scorecards.xlsx?{ARGS}").data),
        read_only=True,
    )
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    heading = rows.index(next(r for r in rows if r[0] == "承办单位"))
    by_name = {row[0]: row for row in rows[heading + 1 :]}
    columns = {
        "composite": 1,
        "response": 2,
        "resolution": 5,
        "satisfaction": 8,
        "weighted": 9,
        "on_time": 10,
        "mean_days": 13,
        "overdue": 14,
        "redos": 15,
        "excluded": 16,
    }
    for code, name in (("zjj", "市住房和城乡建设局"), ("cgj", "市城市管理局"), (None, "全部单位")):
        on_page = page_figures(html, name)
        sheet = by_name[name]
        expected = EXPECTED[code]
        assert on_page["response"] == f"{expected['response'][2]:.1f}%"  # type: ignore[index]
        assert on_page["composite"] == f"{expected['composite']:.1f}"
        for figure, column in columns.items():
            shown = on_page[figure].rstrip("%")
            assert float(shown) == pytest.approx(sheet[column]), (name, figure)


def test_each_figure_links_to_its_cases(november_client: FlaskClient) -> None:
    zjj = department("zjj").id
    html = november_client.get(
        f"/supervisor/scorecards/cases?figure=responses&of={zjj}&{ARGS}"
    ).get_data(as_text=True)
    assert html.count('class="tag warn"') == 3  # the three late first responses
    assert len(re.findall(r"/staff/cases/YC\d{4}-\d+", html)) == 12
    html = november_client.get(f"/supervisor/scorecards/cases?figure=excluded&{ARGS}").get_data(
        as_text=True
    )
    assert len(re.findall(r"/staff/cases/YC\d{4}-\d+", html)) == 1


@pytest.mark.parametrize(
    "query",
    [
        "period=custom&first=2026-11-30&last=2026-11-01",
        "period=custom&first=2026-11-01",
        "period=year",
        "day=not-a-date",
        "department=99999",
    ],
)
def test_a_bad_period_is_a_clear_error(supervisor_client: FlaskClient, query: str) -> None:
    response = supervisor_client.get(f"/supervisor/scorecards?{query}&lang=en")
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)


def test_scorecards_are_for_supervisors(
    handler_client: FlaskClient, client: FlaskClient, demo_base: None
) -> None:
    assert handler_client.get("/supervisor/scorecards").status_code == 403
    assert handler_client.get("/supervisor/scorecards.xlsx").status_code == 403
    assert client.get("/supervisor/scorecards").status_code in (302, 401)


def test_a_leader_may_not_see_scorecards(app: Flask, demo_base: None) -> None:
    leader = _client_as(app, "leader")
    assert leader.get("/supervisor/scorecards").status_code == 403
    assert leader.get("/supervisor/escalations").status_code == 200


def test_the_public_page_shows_the_department_rates(
    client: FlaskClient, november_city: None, time_machine: object
) -> None:
    time_machine.move_to(NOW, tick=False)  # type: ignore[attr-defined]
    rebuild_daily_totals()  # the worker's count: the page reads only what it kept
    html = client.get("/stats?lang=zh_CN").get_data(as_text=True)
    section = html[html.index('id="by-department"') :]
    row = re.search(r"<th scope=\"row\">市住房和城乡建设局</th>(.*?)</tr>", section, re.S)
    assert row is not None
    # The last year up to 2 December: November's figures, plus Z13's first response in
    # October (on time) and Z12's, due on 1 December (late): 10 of 14 on time.
    assert re.findall(r">([\d.]+%?)<", row.group(1)) == ["71.4%", "77.8%", "100.0%", "86.0"]
    assert "/staff/cases/" not in section


def test_the_page_keeps_its_figures_a_while_and_says_as_of_when(
    app: Flask, november_client: FlaskClient
) -> None:
    """With SCORECARDS_MAX_AGE_SECONDS set, a reload and the sheet read no case again,
    and the page names the moment the figures were computed."""
    import sqlalchemy as sa

    from caseapp.extensions import db
    from caseapp.web.supervisor import scorecards as page

    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    app.config["SCORECARDS_MAX_AGE_SECONDS"] = 300
    page._KEPT.clear()
    try:
        first = november_client.get(f"/supervisor/scorecards?{ARGS}").get_data(as_text=True)
        assert "数据截至 2026-12-02" in first
        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            again = november_client.get(f"/supervisor/scorecards?{ARGS}")
            sheet = november_client.get(f"/supervisor/scorecards.xlsx?{ARGS}")
        finally:
            with app.app_context():
                sa.event.remove(db.engine, "before_cursor_execute", count)
        assert again.status_code == sheet.status_code == 200
        assert not [s for s in statements if "case_events" in s or "case_clocks" in s]
    finally:
        app.config["SCORECARDS_MAX_AGE_SECONDS"] = 0
        page._KEPT.clear()
