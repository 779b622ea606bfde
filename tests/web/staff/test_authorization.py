"""One authorization rule for every staff URL (DESIGN §3, §8).

Every rule of the app's URL map under the staff blueprint is taken — so a new route
cannot be missed — and requested by every role, for a case in each relation to the
user's department: its own, another's, one it assists on, one it once handled. The
expectations are written out by hand below, from DESIGN §8's visibility rule.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Case
from caseapp.models.enums import CaseStatus
from caseapp.services.casework import handling as casework
from caseapp.services.casework import intake
from caseapp.services.filing.attachments import Upload, attach_files, checked_uploads, store_files
from tests.conftest import AuthActions, csrf_token
from tests.factories import case_in, department, staff

RELATIONS = ("own", "other", "assisting", "once_handled")

# Who sees which case, by hand from DESIGN §8: intake and supervisors see all; handlers
# and leads their department's cases and those it assists on; everyone the cases they
# once handled; the responsible leader the cases in their care (none here); admin none.
SEES: dict[str, set[str]] = {
    "intake": {"own", "other", "assisting", "once_handled"},
    "supervisor": {"own", "other", "assisting", "once_handled"},
    "handler": {"own", "assisting", "once_handled"},
    "lead": {"own", "assisting"},
    "handler2": {"other", "assisting", "once_handled"},
    "leader": set(),
    "admin": set(),
}

# Staff pages that are not about one case, and who may open them.
NOT_ABOUT_A_CASE: dict[str, set[str]] = {
    "staff.queue": set(SEES),
    "staff.queue_xlsx": set(SEES),
    "staff.queue_csv": set(SEES),
    "staff.new_case": {"intake", "supervisor"},
    "staff.inbox_page": set(SEES),
    "staff.mark_read": set(SEES),  # one's own notices only (another's: 404)
    "staff.department_ledger_items": {"lead"},  # the items their department owns
}


@pytest.fixture
def cases(app: Flask, demo_base: None) -> dict[str, str]:
    """One case per relation to the department of `handler` and `lead` (zjj)."""
    with app.app_context():
        own = case_in(CaseStatus.IN_PROGRESS)
        other = case_in(CaseStatus.IN_PROGRESS, lead="cgj")
        assisting = case_in(CaseStatus.NEW)
        intake.dispatch_case(
            assisting, staff("intake"), department("cgj").id, version=None,
            assisting_ids=[department("zjj").id],
        )  # fmt: skip
        casework.sign_for_case(assisting, staff("handler2"), version=None)
        once = case_in(CaseStatus.IN_PROGRESS)  # handled by `handler` …
        casework.reassign_case(
            once, staff("supervisor"), department("cgj").id, "改派", version=None
        )
        casework.sign_for_case(once, staff("handler2"), version=None)  # … now at cgj
        files = checked_uploads([Upload("a.pdf", b"%PDF-1.4\n%%EOF\n")])
        store_files(files, app.config["UPLOAD_DIR"])
        for case in (own, other, assisting, once):
            attach_files(
                case, files, public=False, uploaded_by_id=None, event_id=None, now=case.updated_at
            )
        db.session.commit()
        return {
            "own": own.number,
            "other": other.number,
            "assisting": assisting.number,
            "once_handled": once.number,
        }


def staff_rules(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every staff URL."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff.") or rule.endpoint.startswith("staff.static"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return found


def url_for_rule(app: Flask, rule: str, number: str) -> str:
    with app.test_request_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        values = {
            "<number>": number,
            "<int:attachment_id>": str(case.attachments[0].id) if case.attachments else "1",
            "<slug>": "note",
            "<kind>": "acceptance",
        }
    url = rule
    for key, value in values.items():
        url = url.replace(key, value)
    assert "<" not in url, f"the test does not know how to fill {rule}"
    return url


def client_for(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


def test_every_staff_url_is_covered(app: Flask) -> None:
    rules = staff_rules(app)
    endpoints = {endpoint for endpoint, _m, _r in rules}
    assert {"staff.queue", "staff.case_page", "staff.case_action", "staff.case_file"} <= endpoints
    for endpoint, _method, rule in rules:
        assert "<number>" in rule or endpoint in NOT_ABOUT_A_CASE, (
            f"no expectation for {endpoint} {rule}"
        )


@pytest.mark.parametrize("username", sorted(SEES))
def test_staff_urls_answer_by_the_one_visibility_rule(
    app: Flask, cases: dict[str, str], username: str
) -> None:
    client = client_for(app, username)
    token = csrf_token(client, "/staff/queue")
    for endpoint, method, rule in staff_rules(app):
        if "<number>" not in rule:
            allowed = username in NOT_ABOUT_A_CASE[endpoint]
            url = rule.replace("<int:message_id>", "1")
            status = client.open(url, method=method, data={"csrf_token": token}).status_code
            assert (status != 403) == allowed, (username, endpoint, method, status)
            continue
        for relation, number in cases.items():
            url = url_for_rule(app, rule, number)
            data = {"csrf_token": token, "text": "测试", "version": "1"}
            status = client.open(url, method=method, data=data).status_code
            if relation in SEES[username]:
                assert status != 404, (username, relation, endpoint, method, url, status)
            else:
                assert status == 404, (username, relation, endpoint, method, url, status)


@pytest.mark.parametrize("username", ["handler", "lead", "handler2"])
def test_no_case_of_another_department_in_lists_exports_or_search(
    app: Flask, cases: dict[str, str], username: str
) -> None:
    client = client_for(app, username)
    hidden = [number for relation, number in cases.items() if relation not in SEES[username]]
    assert hidden
    for url in (
        "/staff/queue?view=all",
        "/staff/queue.csv?view=all",
        "/staff/queue?view=all&q=红旗西街",
    ):
        body = client.get(url).get_data(as_text=True)
        for number in hidden:
            assert number not in body, (username, url, number)
    xlsx = client.get("/staff/queue.xlsx?view=all")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    cells = {
        str(c.value) for row in load_workbook(io.BytesIO(xlsx.data)).active.iter_rows() for c in row
    }
    assert not cells & set(hidden)
