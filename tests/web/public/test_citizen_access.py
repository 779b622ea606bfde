"""The citizen table (DESIGN §7, ``workflow.citizen_access``) held on every citizen route.

Every route of the URL map that names a case number is taken by four browsers — the
filer (their private link), a follower (theirs), a stranger holding a session of another
case, and an anonymous one — with a case in a status where the route's action can be
taken. What each may do comes from the table; a refusal must answer 403 (the page:
back to the look-up) and leave every table as it was; an allowed action must be done.
A new citizen route without a row in the table fails the first test.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, CaseFollower
from caseapp.models.enums import CaseKind, CaseStatus, EventAction, NotifyBy, Satisfaction
from caseapp.services.access import citizen as citizen_access
from caseapp.services.casework import closing
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed
from caseapp.services.filing import attachments as attachment_service
from caseapp.services.filing.cases import new_access_key
from caseapp.web.public.access import ROUTE_ACTIONS
from caseapp.workflow.citizen_access import (
    CAPACITY,
    LIFECYCLE_ACTION,
    CitizenAction,
    CitizenRole,
    Sight,
    may,
    sees,
)
from caseapp.workflow.lifecycle import who_may
from tests.conftest import csrf_token, table_fingerprint
from tests.factories import case_in, staff

UNSATISFIED = Satisfaction.UNSATISFIED

A = CitizenAction
BROWSERS = {
    "filer": CitizenRole.FILER,
    "follower": CitizenRole.FOLLOWER,
    "stranger": CitizenRole.PUBLIC,
    "anonymous": CitizenRole.PUBLIC,
}

# The case each action is tried on: a status (and kind) where the lifecycle allows it.
SETTING: dict[CitizenAction, tuple[CaseStatus, CaseKind]] = {
    A.VIEW: (CaseStatus.NEW, CaseKind.HELP),
    A.OPEN_FILE: (CaseStatus.NEW, CaseKind.HELP),
    A.ADD_INFORMATION: (CaseStatus.IN_PROGRESS, CaseKind.HELP),
    A.REPLY: (CaseStatus.AWAITING_CITIZEN, CaseKind.HELP),
    A.WITHDRAW: (CaseStatus.DISPATCHED, CaseKind.HELP),
    A.RATE: (CaseStatus.RESOLVED, CaseKind.HELP),
    A.REQUEST_REVIEW: (CaseStatus.RESOLVED, CaseKind.PETITION),
    A.FOLLOW: (CaseStatus.NEW, CaseKind.HELP),
    A.UNFOLLOW: (CaseStatus.NEW, CaseKind.HELP),
    A.CHOOSE_NOTICES: (CaseStatus.NEW, CaseKind.HELP),
}

# What each POST route sends when the action is allowed.
FORMS: dict[CitizenAction, dict[str, str]] = {
    A.ADD_INFORMATION: {"text": "站牌原来在村口东侧。"},
    A.REPLY: {"text": "在路东。"},
    A.WITHDRAW: {"reason": "已自行解决。"},
    A.RATE: {"solved": "yes", "satisfaction": "satisfied", "comment": "谢谢"},
    A.REQUEST_REVIEW: {"reason": "对处理意见不服。"},
    A.FOLLOW: {"citizen_name": "李四", "citizen_phone": "13900002222", "notify_by": "sms"},
    A.UNFOLLOW: {},
    A.CHOOSE_NOTICES: {"notify_by": "none"},
}


def citizen_rules(app: Flask) -> dict[str, str]:
    """{endpoint: rule} of every route that names a case number."""
    return {
        rule.endpoint: rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("public.") and "number" in rule.arguments
    }


def test_every_citizen_route_has_a_row_in_the_table(app: Flask) -> None:
    routes = citizen_rules(app)
    assert set(routes) == set(ROUTE_ACTIONS), "a citizen route outside the citizen table"
    assert set(ROUTE_ACTIONS.values()) == set(CitizenAction)
    assert set(SETTING) == set(CitizenAction)


def test_the_citizen_table_and_the_lifecycle_table_agree() -> None:
    """Who may take an action on the citizen side is who the lifecycle lets take it."""
    for action, event_action in LIFECYCLE_ACTION.items():
        status, kind = SETTING[action]
        lifecycle_roles = {
            role for role in CitizenRole if CAPACITY[role] in who_may(event_action, status, kind)
        }
        assert lifecycle_roles == {r for r in CitizenRole if may(r, action)}, action


@dataclass
class Scene:
    number: str
    file_id: int
    browsers: dict[str, FlaskClient]


def _key_for(case: Case) -> str:
    key, digest = new_access_key()
    case.access_key_hash = digest
    return key


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "orange").save(buffer, "JPEG")
    return buffer.getvalue()


def make_scene(app: Flask, action: CitizenAction) -> Scene:
    status, kind = SETTING[action]
    with app.app_context():
        case = case_in(status, kind=kind)
        other = case_in(CaseStatus.NEW, title="涑水街路灯不亮", public_location="涑水街")
        keys = {"filer": _key_for(case), "stranger": _key_for(other)}
        follower_key, digest = new_access_key()
        case.followers.append(
            CaseFollower(
                name="李明",
                phone="13900001111",
                notify_by=NotifyBy.SMS,
                access_key_hash=digest,
                created_at=datetime.now(UTC),
            )
        )
        keys["follower"] = follower_key
        files = attachment_service.checked_uploads([attachment_service.Upload("现场.jpg", _jpeg())])
        attachment_service.store_files(files, app.config["UPLOAD_DIR"])
        attachment_service.attach_files(
            case, files, public=False, uploaded_by_id=None, event_id=None, now=datetime.now(UTC)
        )
        db.session.commit()
        number, file_id = case.number, case.attachments[0].id
    browsers = {}
    for name in BROWSERS:
        browser = app.test_client()
        if name in keys:
            assert browser.get(f"/p/{keys[name]}").status_code == 302
        browsers[name] = browser
    return Scene(number, file_id, browsers)


fingerprint = table_fingerprint


def take(scene: Scene, browser: str, action: CitizenAction, route: str):  # type: ignore[no-untyped-def]
    client = scene.browsers[browser]
    url = route.replace("<number>", scene.number).replace("<int:attachment_id>", str(scene.file_id))
    if action in (A.VIEW, A.OPEN_FILE):
        return client.get(url)
    return client.post(url, data={**FORMS[action], "csrf_token": csrf_token(client, "/track")})


def matrix() -> list[object]:
    return [
        pytest.param(action, browser, id=f"{action}-{browser}")
        for action in CitizenAction
        for browser in BROWSERS
    ]


@pytest.mark.parametrize(("action", "browser"), matrix())
def test_each_citizen_route_lets_in_only_whom_the_table_names(
    app: Flask, demo_base: None, action: CitizenAction, browser: str
) -> None:
    routes = {a: citizen_rules(app)[endpoint] for endpoint, a in ROUTE_ACTIONS.items()}
    scene = make_scene(app, action)
    role = BROWSERS[browser]
    # Following needs the duplicate finder's offer, which no browser here was shown.
    allowed = may(role, action) and action is not A.FOLLOW
    before = fingerprint(app)
    response = take(scene, browser, action, routes[action])
    after = fingerprint(app)

    if not allowed:
        if action is A.VIEW:
            assert response.status_code == 302 and response.headers["Location"] == "/track"
        else:
            assert response.status_code == 403, response.status_code
        assert after == before, "a refused citizen action wrote something"
        return
    if action is A.VIEW:
        assert response.status_code == 200
    elif action is A.OPEN_FILE:
        # The file is the filer's own: a follower never gets it.
        expected = 200 if sees(role, Sight.CITIZEN_FILES) else 404
        assert response.status_code == expected
    else:
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        assert after != before, "an allowed citizen action wrote nothing"
    if action in (A.VIEW, A.OPEN_FILE):
        assert after == before


# --- what each sees ----------------------------------------------------------------------


def test_a_follower_sees_status_and_replies_but_not_the_filer_s_words_or_files(
    app: Flask, demo_base: None
) -> None:
    scene = make_scene(app, A.REPLY)  # awaiting the citizen: staff asked a question
    filer, follower = scene.browsers["filer"], scene.browsers["follower"]
    filer.post(
        f"/track/{scene.number}/information",
        data={"text": "我家住在3号楼2单元。", "csrf_token": csrf_token(filer, "/track")},
    )
    filer_page = filer.get(f"/track/{scene.number}").get_data(as_text=True)
    follower_page = follower.get(f"/track/{scene.number}").get_data(as_text=True)
    for page in (filer_page, follower_page):
        assert "待补充" in page or "Awaiting" in page
        assert "请提供具体位置的照片。" in page  # staff's public question
    # The filer's title (no consent to show it), their words and their file.
    assert "红旗西街人行道破损" in filer_page and "红旗西街人行道破损" not in follower_page
    assert "3号楼2单元" in filer_page and "3号楼2单元" not in follower_page
    assert "现场.jpg" in filer_page and "现场.jpg" not in follower_page
    # Only the filer is offered the answer box, the withdrawal; only the follower theirs.
    assert f"/track/{scene.number}/reply" in filer_page
    assert f"/track/{scene.number}/reply" not in follower_page
    assert f"/track/{scene.number}/withdraw" not in follower_page
    assert f"/track/{scene.number}/unfollow" in follower_page
    assert f"/track/{scene.number}/unfollow" not in filer_page


def test_a_follower_sees_the_request_text_where_the_filer_agreed_to_show_it(
    app: Flask, demo_base: None
) -> None:
    scene = make_scene(app, A.VIEW)
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == scene.number))
        case.consent_public = True
        db.session.commit()
    page = scene.browsers["follower"].get(f"/track/{scene.number}").get_data(as_text=True)
    assert "红旗西街人行道破损" in page


def test_after_unfollowing_the_link_and_the_session_no_longer_open_the_case(
    app: Flask, demo_base: None
) -> None:
    scene = make_scene(app, A.UNFOLLOW)
    follower = scene.browsers["follower"]
    assert take(scene, "follower", A.UNFOLLOW, "/track/<number>/unfollow").status_code == 302
    assert follower.get(f"/track/{scene.number}").status_code == 302  # back to the look-up
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == scene.number))
        assert case.followers == []
        assert db.session.scalar(
            sa.select(CaseEvent.id).where(
                CaseEvent.case_id == case.id, CaseEvent.action == EventAction.UNFOLLOW
            )
        )


# --- following: only what the duplicate finder offered -----------------------------------

DUPLICATE = {
    "kind": "help",
    "title": "红旗西街人行道砖块松动",
    "description": "红旗西街人行道砖块松动，老人容易绊倒，请修复。",
    "public_location": "红旗西街",
    "address": "红旗西街88号",
    "citizen_name": "王芳",
    "citizen_phone": "13700003333",
    "citizen_email": "",
    "notify_by": "sms",
    "consent_privacy": "y",
}


def _offer(client: FlaskClient, category: str = "road-damage") -> str:
    url = f"/requests/new?category={category}"
    page = client.post(url, data={**DUPLICATE, "csrf_token": csrf_token(client, url)}).get_data(
        as_text=True
    )
    return page


def _follow(client: FlaskClient, number: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/requests/follow/{number}",
        data={**FORMS[A.FOLLOW], "csrf_token": csrf_token(client, "/track")},
    )


def test_a_case_offered_as_a_duplicate_can_be_followed_and_no_other(
    app: Flask, demo_base: None
) -> None:
    with app.app_context():
        offered = case_in(CaseStatus.DISPATCHED).number
        elsewhere = case_in(CaseStatus.NEW, title="涑水街路灯不亮", public_location="涑水街")
        elsewhere_number = elsewhere.number
    browser = app.test_client()
    before = fingerprint(app)
    assert _follow(browser, offered).status_code == 403  # not offered yet
    assert fingerprint(app) == before
    assert offered in _offer(browser)
    assert _follow(browser, elsewhere_number).status_code == 403  # never offered
    assert fingerprint(app) == before
    response = _follow(browser, offered)
    assert response.status_code == 302
    # The browser now holds the case as a follower: it cannot follow it twice.
    assert browser.get(f"/track/{offered}").status_code == 200
    before = fingerprint(app)
    assert _follow(browser, offered).status_code == 403
    assert fingerprint(app) == before


@pytest.mark.parametrize("kind", [CaseKind.PETITION, CaseKind.REPORT, "confidential"])
def test_petitions_reports_and_confidential_cases_are_never_offered_or_followed(
    app: Flask, demo_base: None, kind: CaseKind | str
) -> None:
    with app.app_context():
        case = case_in(
            CaseStatus.DISPATCHED, kind=kind if isinstance(kind, CaseKind) else CaseKind.HELP
        )
        if kind == "confidential":
            case.identity_confidential = True
            db.session.commit()
        number = case.number
    browser = app.test_client()
    assert number not in _offer(browser)
    # Even a forged offer in the session is refused by the service.
    with browser.session_transaction() as session:
        session["offered_cases"] = [number]
    before = fingerprint(app)
    assert _follow(browser, number).status_code == 403
    assert fingerprint(app) == before


def test_a_review_belongs_to_the_petitioner_who_asked_for_it(app: Flask, demo_base: None) -> None:
    scene = make_scene(app, A.REQUEST_REVIEW)
    filer = scene.browsers["filer"]
    response = take(scene, "filer", A.REQUEST_REVIEW, "/track/<number>/review")
    assert response.status_code == 302
    review_number = re.search(r"/track/(.+)$", response.headers["Location"]).group(1)
    assert review_number != scene.number
    assert filer.get(f"/track/{review_number}").status_code == 200
    # The follower of the decision has no part in the review.
    assert scene.browsers["follower"].get(f"/track/{review_number}").status_code == 302


def test_the_page_offers_what_the_service_accepts(app: Flask, demo_base: None) -> None:
    """A rating while a further redo waits for a supervisor is refused by the service,
    and the page offers none (a double submit once gave a 500)."""
    with app.app_context():
        case = case_in(CaseStatus.RESOLVED)
        for _ in range(2):
            closing.rate_case(case, Actor.citizen(), False, UNSATISFIED, version=None)
            casework.resolve_case(case, staff("handler"), "再次处理。", version=None)
        closing.rate_case(case, Actor.citizen(), False, UNSATISFIED, version=None)
        assert case.status is CaseStatus.RESOLVED  # a supervisor decides on a third redo
        assert A.RATE not in citizen_access.offered_actions(case, Actor.citizen())
        with pytest.raises(NotAllowed):
            closing.rate_case(case, Actor.citizen(), False, UNSATISFIED, version=None)
