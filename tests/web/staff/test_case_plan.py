"""The case plan's form on the staff case page: milestones posted without JavaScript,
shown with the late ones marked, and refused row by row with nothing saved."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent
from caseapp.models.enums import CaseStatus, EventAction
from caseapp.services.casework import supervision
from tests.factories import case_in, staff
from tests.web.staff.test_case_page import act, page_of

PLAN = "一案一策：先勘查，再修复。"


def city_today(app: Flask) -> date:
    return datetime.now(ZoneInfo(app.config["CITY_TIMEZONE"])).date()


def rows(*given: tuple[str, str, bool]) -> dict[str, str]:
    """The five milestone rows as the browser posts them; an unticked box is not sent."""
    data = {}
    for index in range(5):
        due, text, done = given[index] if index < len(given) else ("", "", False)
        data[f"milestones-{index}-due_on"] = due
        data[f"milestones-{index}-text"] = text
        if done:
            data[f"milestones-{index}-done"] = "y"
    return data


def stored(app: Flask, number: str) -> tuple[str, list[tuple[date, str]], int]:
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        events = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.action == EventAction.SET_CASE_PLAN)
        )
        return case.case_plan, [(m.due_on, m.text) for m in case.milestones], events


def test_the_plan_with_two_milestones_is_shown_with_the_late_one_marked(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    today = city_today(app)
    past, future = today - timedelta(days=3), today + timedelta(days=10)
    supervisor_client.get("/staff/queue?lang=en")

    response = act(
        supervisor_client,
        number,
        "plan",
        {
            "plan": PLAN,
            **rows((past.isoformat(), "完成勘查", False), (future.isoformat(), "完成修复", True)),
        },
    )
    assert response.status_code == 302

    page = page_of(supervisor_client, number)
    listed = re.search(r'<ol class="milestones"[\s\S]*?</ol>', page).group(0)
    assert re.search(
        rf'<li class="milestone is-late">\s*<time[^>]*>{past.isoformat()}</time>\s*'
        r'<span class="milestone-text">完成勘查</span>\s*<span class="tag warn">Late</span>',
        listed,
    )
    assert re.search(
        rf'<li class="milestone is-done">\s*<time[^>]*>{future.isoformat()}</time>\s*'
        rf'<span class="milestone-text">完成修复</span>\s*<span class="tag done">Done on {today.isoformat()}</span>',
        listed,
    )
    assert listed.count("Late") == 1
    # The form comes back filled with them, and blank rows for more.
    assert re.search(rf'id="milestones-0-due_on"[^>]*value="{past.isoformat()}"', page)
    assert re.search(r'<input checked[^>]*id="milestones-1-done"', page)
    assert 'id="milestones-4-due_on"' in page
    assert f"{PLAN}</textarea>" in page
    assert stored(app, number) == (PLAN, [(past, "完成勘查"), (future, "完成修复")], 1)


def test_every_milestone_row_is_labelled_for_screen_readers(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    page = page_of(supervisor_client, number)
    for index in range(5):
        for name in ("due_on", "text", "done"):
            assert re.search(rf'<label[^>]*for="milestones-{index}-{name}"', page), (index, name)
    assert page.count('<fieldset class="milestone-row">') == 5
    assert 'type="date"' in page


def test_a_bad_date_is_refused_on_its_row_and_nothing_is_saved(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    supervisor_client.get("/staff/queue?lang=en")
    response = act(
        supervisor_client,
        number,
        "plan",
        {
            "plan": PLAN,
            **rows(("2026-06-01", "完成勘查", False), ("2026-02-30", "完成修复", False)),
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="milestones-1-due_on-error"' in body
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="milestones-1-due_on"', body)
    assert 'href="#milestones-1-due_on"' in body  # in the error summary
    assert 'id="milestones-0-due_on-error"' not in body
    assert 'value="完成修复"' in body  # what was typed is kept
    assert stored(app, number) == ("", [], 0)


def test_a_date_without_text_is_refused_by_the_service_on_its_row(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    supervisor_client.get("/staff/queue?lang=en")
    response = act(
        supervisor_client,
        number,
        "plan",
        {
            "plan": PLAN,
            **rows(("2026-06-01", "完成勘查", False), ("", "", True), ("2026-07-01", "  ", False)),
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    error = re.search(r'id="milestones-2-text-error">([^<]*)<', body)
    assert error and "This field is required." in error.group(1)
    assert 'id="milestones-1-text-error"' not in body  # a row with only a tick is empty
    assert stored(app, number) == ("", [], 0)


def test_more_than_five_milestones_all_come_back_in_the_form(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    with app.app_context():
        case = case_in(CaseStatus.IN_PROGRESS)
        number = case.number
        first = date(2026, 6, 1)
        supervision.set_case_plan(
            case,
            staff("supervisor"),
            PLAN,
            [supervision.Milestone(first + timedelta(days=i), f"第{i + 1}步") for i in range(7)],
            version=None,
        )
    page = page_of(supervisor_client, number)
    assert re.search(r'id="milestones-6-text"[^>]*value="第7步"', page)
    assert 'id="milestones-7-due_on"' in page  # one blank row to add another
    assert 'id="milestones-8-due_on"' not in page
