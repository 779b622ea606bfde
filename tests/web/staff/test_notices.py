"""Printable written notices: acceptance, non-acceptance and a petition's decision; only
where they apply and for staff who may see the case; in the citizen's language; the
petitioner's identity hidden from the department."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Case, User
from caseapp.models.enums import CaseKind, CaseStatus, PetitionDecision, Role
from caseapp.services.access import accounts
from caseapp.services.casework import closing, intake
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from tests.conftest import AuthActions
from tests.factories import case_in, department, new_case, staff


def notice_url(number: str, kind: str) -> str:
    return f"/staff/cases/{number}/notice/{kind}"


def sheet_of(client: FlaskClient, number: str, kind: str, *, reveal: bool = True) -> str:
    """The notice itself (the <article>), without the page around it; with ``reveal`` as
    printed after "put the citizen's name on the notice" (a recorded reveal)."""
    if reveal:
        page = client.get(notice_url(number, kind)).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if token and '<form method="post">' in page:  # the "put the name on it" button
            response = client.post(notice_url(number, kind), data={"csrf_token": token.group(1)})
        else:
            response = client.get(notice_url(number, kind))
    else:
        response = client.get(notice_url(number, kind))
    assert response.status_code == 200, response.status_code
    found = re.search(r'<article class="notice-sheet[\s\S]*?</article>', response.text)
    assert found, "no notice on the page"
    return html.unescape(found.group(0))


@pytest.fixture
def handler2_client(app: Flask, demo_base: None) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login("handler2").status_code == 302
    return client


def english_case(status: CaseStatus, **fields: object) -> Case:
    """A case of an English-speaking citizen, brought to ``status``."""
    return case_in(status, language="en", **fields)


def english(status: CaseStatus, **fields: object) -> str:
    return english_case(status, **fields).number


def test_acceptance_notice_after_the_first_dispatch(app: Flask, intake_client: FlaskClient) -> None:
    with app.app_context():
        number = english(CaseStatus.DISPATCHED)
    sheet = sheet_of(intake_client, number, "acceptance")
    assert "Acceptance notice" in sheet
    assert number in sheet
    assert "Dear 张秀英," in sheet
    assert "Broken roads and manholes" in sheet
    assert "Housing and Urban-Rural Development Bureau" in sheet  # lead department, issuer
    assert "Accepted on" in sheet and "Answer expected by" in sheet
    assert "You will receive an answer by" in sheet
    assert "(seal)" in sheet


def test_acceptance_of_a_case_returned_since_names_the_department_it_went_to(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        number = english(CaseStatus.RETURNED)
    assert "Housing and Urban-Rural Development Bureau" in sheet_of(
        intake_client, number, "acceptance"
    )


def test_rejection_notice_shows_the_public_reason_and_the_intake_office(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        number = english(CaseStatus.REJECTED)
    sheet = sheet_of(intake_client, number, "rejection")
    assert "Notice of non-acceptance" in sheet
    assert "不属于受理范围" in sheet  # the reason given to the citizen
    assert "Municipal Government Office" in sheet  # the intake clerk's office
    assert "legal channel" not in sheet  # only petitions name where they belong


@pytest.mark.parametrize(
    ("belongs_to", "words"),
    [
        ("court", "the people's court"),
        ("arbitration", "an arbitration body"),
        ("administrative_review", "an administrative review body"),
        ("discipline_inspection", "the discipline inspection and supervision bodies"),
    ],
)
def test_a_rejected_petition_names_where_it_belongs(
    app: Flask, intake_client: FlaskClient, belongs_to: str, words: str
) -> None:
    with app.app_context():
        case = new_case(kind=CaseKind.PETITION, language="en")
        intake.reject_case(
            case, staff("intake"), "属于诉讼事项", version=None, belongs_to=belongs_to
        )
        number = case.number
    sheet = sheet_of(intake_client, number, "rejection")
    assert f"please take it to {words}." in sheet
    assert "属于诉讼事项" in sheet


def test_decision_notice_for_a_petition_with_the_review_right(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        number = english(CaseStatus.RESOLVED, kind=CaseKind.PETITION)
    sheet = sheet_of(intake_client, number, "decision")
    assert "Written decision on a petition" in sheet
    assert "Decision: Supported" in sheet
    assert "已修复。" in sheet  # the answer
    # zjj has no parent department: the city petition bureau reviews its decisions.
    assert "you may ask Petition Bureau to review it within 30 days of the decision" in sheet
    assert "Housing and Urban-Rural Development Bureau" in sheet


@pytest.mark.parametrize(
    ("decision", "label"),
    [(PetitionDecision.EXPLAINED, "Explained"), (PetitionDecision.NOT_SUPPORTED, "Not supported")],
)
def test_each_decision_is_named(
    app: Flask, intake_client: FlaskClient, decision: PetitionDecision, label: str
) -> None:
    with app.app_context():
        case = case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.PETITION, language="en")
        casework.resolve_case(case, staff("handler"), "说明如下。", version=None, decision=decision)
        number = case.number
    assert f"Decision: {label}" in sheet_of(intake_client, number, "decision")


def decide_at(case: Case, code: str, decision: PetitionDecision) -> Case:
    """Dispatch ``case`` to department ``code`` (a review case is there already) and have
    a handler there decide it."""
    worker = f"handler-{code}"
    if db.session.scalar(sa.select(User.id).where(User.username == worker)) is None:
        accounts.create_user(worker, "handler-password-1", worker, (Role.HANDLER,), code)
    if case.status is CaseStatus.NEW:
        intake.dispatch_case(case, staff("intake"), department(code).id, version=None)
    assert case.lead_department_id == department(code).id
    casework.sign_for_case(case, staff(worker), version=None)
    return casework.resolve_case(case, staff(worker), "答复如下。", version=None, decision=decision)


def test_a_review_decision_offers_re_review_and_a_re_review_decision_is_final(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        first = english_case(CaseStatus.RESOLVED, kind=CaseKind.PETITION)
        review, _key = closing.request_review(first, Actor.citizen(), "不服处理意见")
        decide_at(review, "xfj", PetitionDecision.NOT_SUPPORTED)
        final, _key = closing.request_review(review, Actor.citizen(), "仍不服")
        decide_at(final, "zfbgs", PetitionDecision.NOT_SUPPORTED)
        numbers = review.number, final.number
    review_sheet = sheet_of(intake_client, numbers[0], "review_decision")
    # The bureau decided the review and has no parent: it does not re-review its own.
    assert "you may ask the review body for a re-review within 30 days" in review_sheet
    final_sheet = sheet_of(intake_client, numbers[1], "re_review_decision")
    assert "This re-review decision is final" in final_sheet
    assert "within 30 days" not in final_sheet


def test_review_and_re_review_decisions_have_their_own_notices_naming_the_decision(
    app: Flask, intake_client: FlaskClient
) -> None:
    """Issue 16, finding 5: a review decision is a 复查意见书 and a re-review decision a
    复核意见书, each naming the decision it reviewed; the case page links the right one
    and shows the decision under review."""
    with app.app_context():
        first = case_in(CaseStatus.RESOLVED, kind=CaseKind.PETITION)
        review, _key = closing.request_review(first, Actor.citizen(), "不服处理意见")
        decide_at(review, "xfj", PetitionDecision.NOT_SUPPORTED)
        final, _key = closing.request_review(review, Actor.citizen(), "仍不服")
        decide_at(final, "zfbgs", PetitionDecision.EXPLAINED)
        numbers = first.number, review.number, final.number
    review_sheet = sheet_of(intake_client, numbers[1], "review_decision")
    assert "复查意见书" in review_sheet and "处理意见书" not in review_sheet.replace(
        "复查意见书", ""
    )
    assert numbers[0] in review_sheet  # the decision reviewed, by its number
    assert "市住房和城乡建设局" in review_sheet and "市信访局" in review_sheet
    assert "支持" in review_sheet  # the original decision: supported
    final_sheet = sheet_of(intake_client, numbers[2], "re_review_decision")
    assert "复核意见书" in final_sheet and numbers[1] in final_sheet
    # Each decision is printed as its own notice only.
    assert intake_client.get(notice_url(numbers[1], "decision")).status_code == 404
    assert intake_client.get(notice_url(numbers[2], "review_decision")).status_code == 404
    assert intake_client.get(notice_url(numbers[0], "review_decision")).status_code == 404
    page = intake_client.get(f"/staff/cases/{numbers[1]}").text
    assert notice_url(numbers[1], "review_decision") in page
    assert "被复查的处理意见" in page
    assert f'href="/staff/cases/{numbers[0]}"' in page  # intake may open the decision reviewed


NOT_APPLYING: list[tuple[str, Callable[[], Case]]] = [
    ("acceptance", lambda: case_in(CaseStatus.NEW)),
    ("acceptance", lambda: case_in(CaseStatus.REJECTED)),
    ("rejection", lambda: case_in(CaseStatus.NEW)),
    ("rejection", lambda: case_in(CaseStatus.DISPATCHED)),
    ("decision", lambda: case_in(CaseStatus.RESOLVED)),  # not a petition
    ("decision", lambda: case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.PETITION)),
    ("receipt", lambda: case_in(CaseStatus.DISPATCHED)),  # no such notice
]


@pytest.mark.parametrize(("kind", "make"), NOT_APPLYING)
def test_404_when_the_notice_does_not_apply(
    app: Flask, intake_client: FlaskClient, kind: str, make: Callable[[], Case]
) -> None:
    with app.app_context():
        number = make().number
    assert intake_client.get(notice_url(number, kind)).status_code == 404


def test_404_for_a_case_the_user_may_not_see(
    app: Flask, handler_client: FlaskClient, handler2_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.DISPATCHED, lead="zjj").number
    assert handler_client.get(notice_url(number, "acceptance")).status_code == 200
    assert handler2_client.get(notice_url(number, "acceptance")).status_code == 404
    assert handler2_client.get(notice_url("YC2026-999999", "acceptance")).status_code == 404


def test_signing_in_is_needed(app: Flask, client: FlaskClient, demo_base: None) -> None:
    with app.app_context():
        number = case_in(CaseStatus.DISPATCHED).number
    response = client.get(notice_url(number, "acceptance"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")


def test_an_english_case_gets_an_english_notice_for_a_chinese_clerk(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        number = english(CaseStatus.DISPATCHED)
    page = intake_client.get(notice_url(number, "acceptance")).text
    sheet = sheet_of(intake_client, number, "acceptance")
    assert '<html lang="zh-CN">' in page  # the clerk's page stays Chinese
    assert "案件队列" in page  # its navigation too
    assert 'lang="en"' in sheet
    assert "Category" in sheet and "事项分类" not in sheet
    assert "Broken roads and manholes" in sheet and "道路破损与井盖" not in sheet
    assert re.search(r"[A-Z][a-z]+ \d{1,2}, \d{4}", sheet)  # e.g. November 27, 2026
    assert "年" not in sheet


def test_a_chinese_case_gets_a_chinese_notice_for_an_english_clerk(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.DISPATCHED).number
    intake_client.get("/staff/cases/new?lang=en")  # the clerk reads English
    page = intake_client.get(notice_url(number, "acceptance")).text
    sheet = sheet_of(intake_client, number, "acceptance")
    assert '<html lang="en">' in page
    assert 'lang="zh-CN"' in sheet
    assert "事项分类" in sheet and "Category" not in sheet  # labels already translated
    assert "道路破损与井盖" in sheet and "市住房和城乡建设局" in sheet
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", sheet)


def test_a_petitioner_s_identity_is_hidden_from_the_department_but_not_from_intake(
    app: Flask, intake_client: FlaskClient, handler_client: FlaskClient
) -> None:
    with app.app_context():
        number = english(CaseStatus.RESOLVED, kind=CaseKind.PETITION)
    from_department = sheet_of(handler_client, number, "decision")
    assert "张秀英" not in from_department
    assert "(identity confidential)" in from_department
    assert "Dear citizen," in from_department
    from_intake = sheet_of(intake_client, number, "decision")
    assert "Dear 张秀英," in from_intake
    assert "(identity confidential)" not in from_intake


def test_an_ordinary_case_names_the_citizen_to_the_department(
    app: Flask, handler_client: FlaskClient
) -> None:
    with app.app_context():
        number = english(CaseStatus.DISPATCHED)
    assert "Dear 张秀英," in sheet_of(handler_client, number, "acceptance")


def test_the_page_says_how_to_print_without_inline_script(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        number = english(CaseStatus.DISPATCHED)
    intake_client.get("/staff/cases/new?lang=en")
    page = intake_client.get(notice_url(number, "acceptance")).text
    assert "use your browser's Print command" in html.unescape(page)
    assert "onclick" not in page and "<script" not in page
    assert f'href="/staff/cases/{number}"' in page


def test_a_lead_department_with_a_parent_is_reviewed_by_the_parent(
    app: Flask, intake_client: FlaskClient
) -> None:
    with app.app_context():
        case = new_case(kind=CaseKind.PETITION, language="en")
        number = decide_at(case, "yhq-bc", PetitionDecision.SUPPORTED).number
    sheet = sheet_of(intake_client, number, "decision")
    assert "Beicheng Street Office has decided" in sheet
    assert "you may ask Yanhu District Government to review it" in sheet


def test_the_name_is_masked_until_revealed_and_the_reveal_is_recorded(
    app: Flask, handler_client: FlaskClient
) -> None:
    import sqlalchemy as sa

    from caseapp.extensions import db
    from caseapp.models import Case, CaseEvent
    from caseapp.models.enums import EventAction

    with app.app_context():
        number = english(CaseStatus.DISPATCHED)
    masked = sheet_of(handler_client, number, "acceptance", reveal=False)
    assert "张秀英" not in masked and "张*英" in masked
    assert "Dear 张秀英," in sheet_of(handler_client, number, "acceptance")
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == number))
        actions = db.session.scalars(
            sa.select(CaseEvent.action).where(CaseEvent.case_id == case_id)
        ).all()
        assert EventAction.REVEAL_CONTACT in actions
