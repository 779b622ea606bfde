"""What the staff case page offers is what the services accept (issue 18, deliverable 1).

For cases in every status, with a request waiting or a rating to exclude, at moments on
both sides of the windows (the return window two working days after the dispatch, the
resolve deadline, the reopen window 30 days after the close), every staff role opens the
case page and then posts every action the lifecycle table gives them: an offered action
is carried out (302), an action the page left out is refused (403) and writes nothing.
Each accepted post is undone (the situation's rows put back) before the next one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.demo.base import load_base
from caseapp.extensions import db
from caseapp.models import Case, LedgerItem
from caseapp.models.enums import CaseStatus, Satisfaction
from caseapp.services.casework import closing
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor, capacities_of
from caseapp.web.staff.case import ACTIONS
from caseapp.workflow.lifecycle import who_may
from tests.conftest import Snapshots, _client_as, empty_tables, table_fingerprint
from tests.factories import case_in, department, ledger, legacy_ledger, new_department, staff, user

pytestmark = [
    pytest.mark.usefixtures("demo_base"),
    pytest.mark.long,
]

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)  # a Monday
SOON = T0 + timedelta(hours=3)  # within the return window, nothing overdue
LATER = T0 + timedelta(days=9)  # the return window passed, the resolve deadline not yet
MUCH_LATER = T0 + timedelta(days=45)  # past every deadline and the reopen window
STAFF = ("intake", "supervisor", "handler", "handler2", "lead", "leader")
TEXT = "按有关规定办理。"
GENERIC_REFUSAL = "您无权打开此页面。"  # "You may not open this page."


def _unsatisfied(case: Case, times: int) -> Case:
    for day in range(times):
        at = T0 + timedelta(days=7 * day + 1)
        closing.rate_case(
            case, Actor.citizen(), False, Satisfaction.UNSATISFIED, version=None, now=at
        )
        if day < times - 1:
            casework.resolve_case(
                case, staff("handler"), TEXT, version=None, now=at + timedelta(hours=4)
            )
    return case


SITUATIONS: dict[str, tuple[Callable[[], Case], tuple[datetime, ...]]] = {
    "new": (lambda: case_in(CaseStatus.NEW, now=T0), (SOON,)),
    "rejected": (lambda: case_in(CaseStatus.REJECTED, now=T0), (SOON,)),
    "withdrawn": (lambda: case_in(CaseStatus.WITHDRAWN, now=T0), (SOON,)),
    "dispatched": (lambda: case_in(CaseStatus.DISPATCHED, now=T0), (SOON, LATER)),
    "returned": (lambda: case_in(CaseStatus.RETURNED, now=T0), (SOON,)),
    "in-progress": (
        lambda: case_in(CaseStatus.IN_PROGRESS, now=T0, leader=True),
        (SOON, LATER, MUCH_LATER),
    ),
    "awaiting-citizen": (lambda: case_in(CaseStatus.AWAITING_CITIZEN, now=T0), (SOON,)),
    "resolved": (lambda: case_in(CaseStatus.RESOLVED, now=T0), (SOON,)),
    "closed": (lambda: case_in(CaseStatus.CLOSED, now=T0), (SOON, MUCH_LATER)),
    "extension-waiting": (
        lambda: _extension_waiting(case_in(CaseStatus.IN_PROGRESS, now=T0)),
        (SOON, MUCH_LATER),
    ),
    "return-waiting": (lambda: _return_waiting(case_in(CaseStatus.IN_PROGRESS, now=T0)), (LATER,)),
    "unsatisfied": (lambda: _unsatisfied(case_in(CaseStatus.RESOLVED, now=T0), 1), (LATER,)),
    "redo-waiting": (lambda: _unsatisfied(case_in(CaseStatus.RESOLVED, now=T0), 3), (MUCH_LATER,)),
}


def _extension_waiting(case: Case) -> Case:
    casework.request_extension(
        case, staff("handler"), 2, TEXT, version=None, now=T0 + timedelta(hours=1)
    )
    return case


def _return_waiting(case: Case) -> Case:
    late = T0 + timedelta(days=4)
    casework.request_return(case, staff("handler"), TEXT, version=None, now=late)
    return case


@dataclass
class Scene:
    """The rows of one situation, and what the posts need to name."""

    number: str
    other: str
    child: int
    item: int


def _build(situation: str) -> Scene:
    load_base()
    legacy_ledger()
    campaign = ledger()
    child = new_department("zjj-a", "住建局下属中心", "Housing centre", parent=department("zjj"))
    item = LedgerItem(ledger_id=campaign.id, code="T-1", title="测试事项")
    db.session.add(item)
    db.session.commit()
    other = case_in(CaseStatus.IN_PROGRESS, now=T0).number
    case = SITUATIONS[situation][0]()
    return Scene(case.number, other, child.id, item.id)


def _post_data(slug: str, scene: Scene) -> dict[str, object]:
    ids = {"zjj": department("zjj").id, "cgj": department("cgj").id}
    return {
        "dispatch": {"department": ids["zjj"]},
        "forward": {"department": scene.child},
        "reassign": {"department": ids["cgj"], "reason": TEXT},
        "answer": {"text": TEXT, "confirm_public": "y"},
        "reject": {"text": TEXT, "confirm_public": "y"},
        "reinstate": {"text": TEXT},
        "merge": {"into": scene.other},
        "return": {"text": TEXT},
        "request-return": {"text": TEXT},
        "sign": {"handler": user("handler").id},
        "ask": {"text": TEXT, "confirm_public": "y"},
        "record-reply": {"text": TEXT},
        "contact": {"method": "call", "text": TEXT},
        "extension": {"days": "1", "reason": TEXT},
        "resolve": {"text": TEXT, "confirm_public": "y"},
        "note": {"text": TEXT},
        "rate": {"solved": "yes", "satisfaction": "satisfied", "text": ""},
        "reopen": {"text": TEXT},
        "urge": {"text": TEXT},
        "leader": {"leader": user("leader").id},
        "plan": {"plan": TEXT},
        "legacy": {},
        "link-ledger-item": {"item": f"#{scene.item}"},
        "exclude-rating": {"text": TEXT},
        "decide-return": {"approve": "yes", "note": TEXT},
        "decide-extension": {"approve": "yes", "note": TEXT},
        "decide-redo": {"approve": "yes", "note": TEXT},
    }[slug]


def _offered(client: FlaskClient, number: str) -> tuple[set[str], str, str] | None:
    """The actions the page offers, the version it shows, and its CSRF token; None when
    the user may not see the case (404, as for a case that does not exist)."""
    response = client.get(f"/staff/cases/{number}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None
    return set(re.findall(r'/act/([a-z-]+)"', page)), version.group(1) if version else "", token[1]


UNITS = [(name, when) for name, (_build_case, times) in SITUATIONS.items() for when in times]


@pytest.mark.parametrize(("situation", "when"), UNITS, ids=[f"{n}-{w:%m%d}" for n, w in UNITS])
def test_every_offered_action_is_accepted_and_every_other_refused(
    app: Flask, time_machine: object, situation: str, when: datetime
) -> None:
    snapshots = Snapshots()
    time_machine.move_to(T0, tick=False)  # type: ignore[attr-defined]
    with app.app_context():
        empty_tables(db.engine)
        scene = _build(situation)
        db.session.remove()
    time_machine.move_to(when, tick=False)  # type: ignore[attr-defined]
    # Signed in before the rows are kept, so that putting them back keeps the sessions.
    clients = {username: _client_as(app, username) for username in STAFF}
    with app.app_context():
        snapshots.save("scene")

    def build() -> None:
        raise AssertionError("the scene was saved above")

    checked = 0
    for username in STAFF:
        client = clients[username]
        shown = _offered(client, scene.number)
        if shown is None:
            continue
        offered, version, token = shown
        with app.app_context():
            case = db.session.scalar(sa.select(Case).where(Case.number == scene.number))
            assert case is not None
            mine = capacities_of(staff(username), case)
            allowed = {
                slug
                for slug, spec in ACTIONS.items()
                if who_may(spec.action, case.status, case.kind) & mine
            }
            data = {slug: _post_data(slug, scene) for slug in allowed}
            db.session.remove()
        assert offered <= allowed, f"{username} is offered what the table never gives them"
        for slug in sorted(allowed):
            before = table_fingerprint(app)
            response = client.post(
                f"/staff/cases/{scene.number}/act/{slug}",
                data={"csrf_token": token, "version": version, **data[slug]},
            )
            where = f"{situation} at {when:%Y-%m-%d %H:%M}, {username}, {slug}"
            if slug in offered:
                assert response.status_code == 302, f"offered but refused: {where}"
                with app.app_context():
                    snapshots.restore("scene", build)
            else:
                assert response.status_code == 403, f"not offered but accepted: {where}"
                # The refusal says why (a window, a request waiting), not only "no".
                assert GENERIC_REFUSAL not in response.get_data(as_text=True), where
                assert table_fingerprint(app) == before, f"a refusal wrote: {where}"
            checked += 1
    assert checked > 0
