"""The staff case page: what each user sees, masked contact and its recorded reveal,
the actions the lifecycle allows, the whole casework through the forms, and a conflict
between two staff that keeps the typed text."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent
from caseapp.models.enums import CaseKind, CaseStatus, EventAction, Role
from caseapp.services.access.accounts import create_user
from caseapp.services.casework import handling as casework
from caseapp.services.casework import intake
from tests.conftest import AuthActions, _client_as, csrf_token
from tests.factories import case_in, department, new_case, staff, user


def page_of(client: FlaskClient, number: str) -> str:
    response = client.get(f"/staff/cases/{number}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def act(client: FlaskClient, number: str, slug: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    page = page_of(client, number)
    version = re.search(
        rf'action="/staff/cases/{number}/act/{slug}"[\s\S]*?name="version"[^>]*value="(\d+)"', page
    )
    assert version, f"no {slug} form on the page"
    payload = {
        "csrf_token": csrf_token(client, f"/staff/cases/{number}"),
        "version": version.group(1),
        **data,
    }
    return client.post(f"/staff/cases/{number}/act/{slug}", data=payload)


def offered(page: str) -> set[str]:
    return set(re.findall(r'/act/([a-z-]+)"', page))


def test_only_staff_who_may_see_the_case_open_it(app: Flask, handler_client: FlaskClient) -> None:
    with app.app_context():
        own = case_in(CaseStatus.IN_PROGRESS).number
        other = case_in(CaseStatus.IN_PROGRESS, lead="cgj").number
    assert handler_client.get(f"/staff/cases/{own}").status_code == 200
    assert handler_client.get(f"/staff/cases/{other}").status_code == 404
    assert handler_client.get("/staff/cases/YC2026-999999").status_code == 404


def test_the_contact_is_masked_until_revealed_and_the_reveal_recorded(
    app: Flask, handler_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    page = page_of(handler_client, number)
    assert "138****5678" in page and "张*英" in page
    assert "13812345678" not in page and "张秀英" not in page
    token = csrf_token(handler_client, f"/staff/cases/{number}")
    revealed = handler_client.post(
        f"/staff/cases/{number}/reveal", data={"csrf_token": token}
    ).get_data(as_text=True)
    assert "13812345678" in revealed and "张秀英" in revealed
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        reveals = db.session.scalars(
            sa.select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.action == EventAction.REVEAL_CONTACT
            )
        ).all()
        assert [e.actor_id for e in reveals] == [user("handler").id]
    assert "13812345678" not in page_of(handler_client, number)  # masked again on the next view


def test_a_petitioner_s_identity_is_hidden_from_the_department(
    app: Flask, handler_client: FlaskClient, intake_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.PETITION, category="petition").number
    page = page_of(handler_client, number)
    assert "身份保密" in page or "Identity confidential" in page
    assert "138****5678" not in page
    token = csrf_token(handler_client, f"/staff/cases/{number}")
    assert (
        handler_client.post(f"/staff/cases/{number}/reveal", data={"csrf_token": token}).status_code
        == 403
    )
    assert "138****5678" in page_of(intake_client, number)


def test_the_page_offers_the_actions_the_lifecycle_allows(
    app: Flask, intake_client: FlaskClient, handler_client: FlaskClient
) -> None:
    with app.app_context():
        new = case_in(CaseStatus.NEW).number
        dispatched = case_in(CaseStatus.DISPATCHED).number
    assert {"dispatch", "answer", "reject", "merge", "ask"} <= offered(page_of(intake_client, new))
    assert "resolve" not in offered(page_of(intake_client, new))
    handler_actions = offered(page_of(handler_client, dispatched))
    assert {"sign", "return", "note"} <= handler_actions
    assert "dispatch" not in handler_actions


def test_casework_through_the_forms(
    app: Flask,
    intake_client: FlaskClient,
    handler_client: FlaskClient,
    supervisor_client: FlaskClient,
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.NEW).number
        zjj = department("zjj").id
    assert act(intake_client, number, "dispatch", {"department": zjj}).status_code == 302
    assert act(handler_client, number, "sign", {"handler": ""}).status_code == 302
    assert (
        act(
            handler_client, number, "ask", {"text": "请提供照片。", "confirm_public": "y"}
        ).status_code
        == 302
    )
    assert (
        act(handler_client, number, "record-reply", {"text": "电话答复：照片已发。"}).status_code
        == 302
    )
    assert (
        act(handler_client, number, "contact", {"method": "call", "text": "已电话联系"}).status_code
        == 302
    )
    # A public answer needs its confirmation.
    refused = act(handler_client, number, "resolve", {"text": "已修复。"})
    assert refused.status_code == 400
    assert (
        act(
            handler_client, number, "resolve", {"text": "已修复。", "confirm_public": "y"}
        ).status_code
        == 302
    )
    assert (
        act(
            supervisor_client, number, "rate", {"solved": "yes", "satisfaction": "satisfied"}
        ).status_code
        == 302
    )
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.status is CaseStatus.CLOSED
        assert case.handler_id == user("handler").id


def test_a_conflict_is_refused_with_a_message_and_the_text_kept(
    app: Flask, demo_base: None
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.NEW).number
        zjj = department("zjj").id
    first, second = app.test_client(), app.test_client()
    AuthActions(first).login("intake")
    AuthActions(second).login("supervisor")
    seen = page_of(second, number)  # the second opens the page first
    old_version = re.search(r'name="version"[^>]*value="(\d+)"', seen).group(1)
    assert act(first, number, "dispatch", {"department": zjj}).status_code == 302
    token = csrf_token(second, f"/staff/cases/{number}")
    response = second.post(
        f"/staff/cases/{number}/act/urge",
        data={"csrf_token": token, "version": old_version, "text": "请尽快处理羊驮寺村站点"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "案件已被修改" in body or "The case has changed" in body
    assert "请尽快处理羊驮寺村站点</textarea>" in body  # the typed text is kept
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Case.status).where(Case.number == number))
            is CaseStatus.DISPATCHED
        )


def test_actions_not_allowed_are_refused(app: Flask, handler_client: FlaskClient) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    token = csrf_token(handler_client, f"/staff/cases/{number}")
    response = handler_client.post(
        f"/staff/cases/{number}/act/dispatch",
        data={"csrf_token": token, "version": "99", "department": "1"},
    )
    assert response.status_code in (403, 409)
    assert handler_client.get(f"/staff/cases/{number}/act/dispatch").status_code == 405


def test_the_handler_attaches_photos_to_the_public_answer(
    app: Flask, handler_client: FlaskClient
) -> None:
    import io

    from caseapp.models import Attachment
    from tests.web.public.test_request_form import jpeg_bytes

    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    page = page_of(handler_client, number)
    version = re.search(
        rf'action="/staff/cases/{number}/act/resolve"[\s\S]*?name="version"[^>]*value="(\d+)"', page
    ).group(1)
    response = handler_client.post(
        f"/staff/cases/{number}/act/resolve",
        data={
            "csrf_token": csrf_token(handler_client, f"/staff/cases/{number}"),
            "version": version,
            "text": "已修复，见照片。",
            "confirm_public": "y",
            "attachments": [(io.BytesIO(jpeg_bytes()), "修复后.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        photo = db.session.scalar(sa.select(Attachment).where(Attachment.case_id == case.id))
        assert (
            photo.public
            and photo.event_id is not None
            and photo.uploaded_by_id == user("handler").id
        )
    # The citizen sees the photo on their page (it is public), and so does a follower.
    from caseapp.services.access import citizen as citizen_access
    from caseapp.workflow.citizen_access import CitizenRole

    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        for role in (CitizenRole.FILER, CitizenRole.FOLLOWER):
            shown = citizen_access.attachments(case, role)
            assert [a.filename for a in shown] == ["修复后.jpg"]


def test_a_case_filed_through_the_api_names_its_key_link_and_client(
    app: Flask, intake_client: FlaskClient
) -> None:
    """Staff see which key filed a case, the photo link it sent, and who acted: the API
    client, not "system"."""
    from caseapp.services import open311
    from caseapp.services.admin import api_keys

    with app.app_context():
        key, _raw = api_keys.create_key("区便民服务App", None)
        filed = open311.file_request(
            open311.ApiRequest(
                service_code="road-damage",
                description="解放路井盖缺失，夜间行人容易踩空。",
                address_string="解放路18号",
                first_name="秀英",
                last_name="张",
                phone="13812345678",
                media_url="https://photos.example.org/manhole.jpg",
            ),
            key,
        )
    page = page_of(intake_client, filed.service_request_id)
    assert "区便民服务App" in page
    assert (
        'href="https://photos.example.org/manhole.jpg" rel="noopener noreferrer nofollow"' in page
    )
    assert "接口程序" in page and "· 系统" not in page


def test_the_page_offers_no_reassign_before_a_dispatch_and_no_decision_on_one_s_own_request(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    """Issue 16, findings 1 and 7: what the page offers is what the service accepts."""
    with app.app_context():
        asked = new_case()
        casework.ask_citizen(asked, staff("intake"), "请说明具体位置。", version=None)
        held = case_in(CaseStatus.AWAITING_CITIZEN)
        create_user("lead-b", "long-enough-pw", "副局长", [Role.LEAD], "zjj")
        petition = case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.PETITION, category="petition")
        casework.request_extension(petition, staff("lead"), 5, "需调取档案。", version=None)
        numbers = asked.number, held.number, petition.number
    assert "reassign" not in offered(page_of(supervisor_client, numbers[0]))
    assert "reassign" in offered(page_of(supervisor_client, numbers[1]))
    own = app.test_client()
    assert AuthActions(own).login("lead").status_code == 302
    assert "decide-extension" not in offered(page_of(own, numbers[2]))
    other = app.test_client()
    assert AuthActions(other).login("lead-b", "long-enough-pw").status_code == 302
    assert "decide-extension" in offered(page_of(other, numbers[2]))


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("supervisor", CaseStatus.IN_PROGRESS),
        ("handler", CaseStatus.IN_PROGRESS),
        ("intake", CaseStatus.NEW),
        ("supervisor", CaseStatus.RESOLVED),
        ("lead", CaseStatus.DISPATCHED),
    ],
)
def test_every_id_on_the_case_page_is_unique_and_each_label_names_a_box_of_its_form(
    app: Flask, demo_base: None, username: str, status: CaseStatus
) -> None:
    with app.app_context():
        number = case_in(status).number
    client = _client_as(app, username)
    page = page_of(client, number)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    forms = re.findall(r"<form\b[\s\S]*?</form>", page)
    assert len(forms) > 2
    for form in forms:
        inside = set(re.findall(r'\sid="([^"]+)"', form))
        for target in re.findall(r'<label[^>]*\sfor="([^"]+)"', form):
            assert target in inside, f"a label for {target} outside its form"


def test_the_timeline_says_what_each_entry_was_in_the_readers_language(
    app: Flask, demo_base: None
) -> None:
    """A note says internal or public; a rating says how it was rated; a decision says
    approved or denied; a closed case says why in words, not a code."""
    from caseapp.models.enums import Satisfaction
    from caseapp.services.casework import closing
    from caseapp.services.casework import handling as casework
    from caseapp.services.casework.lifecycle import Actor
    from tests.factories import staff

    with app.app_context():
        case = case_in(CaseStatus.RESOLVED)
        casework.add_note(case, staff("handler"), "内部记录", version=None)
        casework.add_note(case, staff("handler"), "公开答复", public=True, version=None)
        closing.rate_case(case, Actor.citizen(), True, Satisfaction.SATISFIED, version=None)
        number = case.number
    client = _client_as(app, "supervisor")
    zh = client.get(f"/staff/cases/{number}?lang=zh_CN").get_data(as_text=True)
    assert "内部备注" in zh and "公开答复" in zh and "已评价：满意 · 已解决" in zh
    assert "(rated)" not in zh and "(已评价)" in zh
    en = client.get(f"/staff/cases/{number}?lang=en").get_data(as_text=True)
    assert "Internal note" in en and "Public reply" in en and "Rated: Satisfied · Solved" in en
    assert "(rated)" in en


def test_dispatch_starts_with_the_categorys_usual_department(app: Flask, demo_base: None) -> None:
    from caseapp.models import Category

    with app.app_context():
        case = case_in(CaseStatus.NEW, category="bus-stop")
        category = db.session.get(Category, case.category_id)
        assert category is not None and category.default_department_id is not None
        usual, number = category.default_department_id, case.number
    page = page_of(_client_as(app, "intake"), number)
    form = page[page.index('id="action-dispatch"') :]
    select = form[form.index('name="department"') : form.index("</select>")]
    assert re.search(rf'<option selected value="{usual}"|<option value="{usual}" selected', select)


def test_assisting_departments_are_ticked_not_ctrl_clicked(app: Flask, demo_base: None) -> None:
    with app.app_context():
        number = case_in(CaseStatus.NEW).number
        cgj, swj = department("cgj").id, department("swj").id
    client = _client_as(app, "intake")
    page = page_of(client, number)
    form = page[page.index('id="action-dispatch"') :]
    form = form[: form.index("</form>")]
    assert "<select multiple" not in form and "multiple" not in form
    assert re.search(rf'<input[^>]*type="checkbox"[^>]*value="{cgj}"', form)
    response = act(
        client,
        number,
        "dispatch",
        {"department": department_id(app, "zjj"), "assisting": [cgj, swj]},
    )
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case is not None
        assert {a.department_id for a in case.assists} == {cgj, swj}


def department_id(app: Flask, code: str) -> int:
    with app.app_context():
        return department(code).id


def composer_buttons(page: str) -> dict[str, str]:
    """The composer's buttons: what each says → the action it posts to (and 'public')."""
    composer = re.search(r'<section class="card composer"[\s\S]*?</section>', page)
    assert composer, "no composer on the page"
    return {
        re.sub(r"\s+", " ", label).strip(): slug + (" public" if 'name="public"' in attrs else "")
        for attrs, slug, label in re.findall(
            r'<button([^>]*)formaction="[^"]*/act/([a-z-]+)"[^>]*>([^<]+)</button>',
            composer.group(0),
        )
    }


@pytest.mark.parametrize(
    ("username", "status", "buttons"),
    [
        ("handler", CaseStatus.IN_PROGRESS, {"resolve", "ask", "note public", "note"}),
        ("intake", CaseStatus.NEW, {"answer", "ask", "note public", "note"}),
        ("supervisor", CaseStatus.RESOLVED, {"note public", "note"}),
    ],
)
def test_one_composer_offers_a_button_for_each_place_the_text_may_go(
    app: Flask, demo_base: None, username: str, status: CaseStatus, buttons: set[str]
) -> None:
    with app.app_context():
        number = case_in(status).number
    page = page_of(_client_as(app, username), number)
    assert set(composer_buttons(page).values()) == buttons
    # No second box for the same actions: their own forms are not on the page.
    assert not re.search(r'<form[^>]*action="[^"]*/act/(resolve|ask|answer)"', page)


def test_the_composer_keeps_the_text_and_says_what_is_missing(
    app: Flask, handler_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    token = csrf_token(handler_client, f"/staff/cases/{number}")
    for extra in ({}, {"public": "y"}):
        slug = "resolve" if not extra else "note"
        response = handler_client.post(
            f"/staff/cases/{number}/act/{slug}",
            data={"csrf_token": token, "text": "站牌已于周五装好。", **extra},
        )
        body = response.get_data(as_text=True)
        assert response.status_code == 400, slug
        assert 'id="composer-text"' in body and "站牌已于周五装好。</textarea>" in body
        assert 'href="#composer-confirm_public"' in body  # the error links to its box
    # An internal note needs no confirmation, and says it is internal in the timeline.
    response = act(handler_client, number, "note", {"text": "已电话联系公交公司。"})
    assert response.status_code == 302
    timeline = page_of(handler_client, number)
    assert re.search(r'class="is-internal"[\s\S]*?已电话联系公交公司。', timeline)
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.status is CaseStatus.IN_PROGRESS
        notes = db.session.scalars(
            sa.select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.action == EventAction.NOTE
            )
        ).all()
        assert [(n.internal_text, n.public_text) for n in notes] == [("已电话联系公交公司。", "")]


def test_marking_legacy_asks_the_category_and_offers_the_same_matter(
    app: Flask, demo_base: None
) -> None:
    from caseapp.models import Ledger, LedgerItem
    from caseapp.models.enums import LedgerKind
    from caseapp.services.casework import supervision
    from tests.factories import ledger

    with app.app_context():
        legacy = ledger(
            "legacy", LedgerKind.LEGACY, "理旧账", "Legacy issues",
            categories=(("land", "土地征收", "Land"),),
        )  # fmt: skip
        land = legacy.categories[0].id
        first = new_case(title="工农街1999年修路占地未补偿", public_location="工农街")
        earlier = supervision.mark_legacy(first, staff("supervisor"), version=None).id
        number = new_case(title="工农街征地补偿至今未兑现", public_location="工农街").number
        fresh = new_case(title="人民路公交站牌缺失", public_location="人民路").number
    client = _client_as(app, "supervisor")
    page = page_of(client, number)
    assert re.search(rf'name="item"[^>]*value="{earlier}"', page)  # offered
    assert "工农街1999年修路占地未补偿" in page
    # A new item needs its category; nothing is written without it.
    refused = act(client, fresh, "legacy", {"item": "", "target_date": "2027-06-30"})
    assert refused.status_code == 400
    assert (
        act(client, fresh, "legacy", {"category": land, "target_date": "2027-06-30"}).status_code
        == 302
    )
    # The same matter joins the item already there.
    assert act(client, number, "legacy", {"item": earlier}).status_code == 302
    with app.app_context():
        items = {
            i.code: (i.category_id, i.target_date.isoformat() if i.target_date else None)
            for i in db.session.scalars(
                sa.select(LedgerItem).join(Ledger).where(Ledger.code == "legacy")
            )
        }
        assert items == {first_number(app, earlier): (None, None), fresh: (land, "2027-06-30")}
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.is_legacy


def first_number(app: Flask, item_id: int) -> str:
    from caseapp.models import LedgerItem

    return db.session.get(LedgerItem, item_id).code


def test_a_ledger_item_is_linked_by_words_of_its_title(app: Flask, demo_base: None) -> None:
    from caseapp.models import LedgerItemCase
    from caseapp.services.ledgers import items as ledgers
    from tests.factories import ledger

    with app.app_context():
        campaign = ledger()
        bridge = ledgers.create_item(
            campaign, user("supervisor"), ledgers.ItemFields("人民路天桥加装电梯")
        ).id
        number = case_in(CaseStatus.IN_PROGRESS).number
    client = _client_as(app, "supervisor")
    assert act(client, number, "link-ledger-item", {"item": "天桥"}).status_code == 302
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert db.session.get(LedgerItemCase, (bridge, case.id)) is not None


def test_the_staff_timeline_speaks_of_the_citizen_not_to_them(app: Flask, demo_base: None) -> None:
    """The citizen's page says "We asked you a question" and "Your answer"; the staff
    page names the same events from where staff stand."""
    from caseapp.services.casework.lifecycle import Actor

    with app.app_context():
        case = case_in(CaseStatus.IN_PROGRESS)
        casework.ask_citizen(case, staff("handler"), "站牌原来在哪一侧？", version=None)
        casework.citizen_replies(case, Actor.citizen(), "路东。", version=None)
        number = case.number
    client = _client_as(app, "handler")
    zh = client.get(f"/staff/cases/{number}?lang=zh_CN").get_data(as_text=True)
    en = client.get(f"/staff/cases/{number}?lang=en").get_data(as_text=True)
    assert "群众已答复" in zh and "您的答复" not in zh and "请您补充情况" not in zh
    assert "The citizen answered" in en and "Question to the citizen" in en
    assert "Your answer" not in en and "We asked you" not in en


@pytest.mark.parametrize(
    ("slug", "extra"), [("note", {}), ("ask", {}), ("note", {"public": "y", "confirm_public": "y"})]
)
def test_files_sent_with_a_text_that_does_not_carry_them_are_refused_not_dropped(
    app: Flask, handler_client: FlaskClient, slug: str, extra: dict[str, str]
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
        events_before = event_count(number)
    token = csrf_token(handler_client, f"/staff/cases/{number}")
    response = handler_client.post(
        f"/staff/cases/{number}/act/{slug}",
        data={"csrf_token": token, "text": "照片见附件。", **extra,
              "attachments": (io.BytesIO(b"%PDF-1.4 x"), "现场.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "照片见附件。</textarea>" in body
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert event_count(number) == events_before and not case.attachments


def event_count(number: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(CaseEvent.id)).join(Case).where(Case.number == number)
    )


def _sign_choices(page: str) -> list[tuple[str, str]]:
    form = re.search(r'id="action-sign"[\s\S]*?</form>', page)
    assert form, "no sign form on the page"
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', form.group(0))


@pytest.mark.parametrize("named_at_dispatch", [False, True])
def test_a_lead_who_is_no_handler_is_offered_only_a_sign_the_service_takes(
    app: Flask, demo_base: None, named_at_dispatch: bool
) -> None:
    """A lead who is not a handler was offered "Myself" and got a 400 for it (found by
    the load test): the first choice now names whom it means, or there is none."""
    with app.app_context():
        case = case_in(CaseStatus.NEW)
        handler_id = user("handler").id if named_at_dispatch else None
        intake.dispatch_case(
            case, staff("intake"), department("zjj").id, version=None, handler_id=handler_id
        )
        number = case.number
    lead = _client_as(app, "lead")
    choices = _sign_choices(page_of(lead, number))
    if named_at_dispatch:
        assert choices[0][0] == ""
        with app.app_context():
            assert user("handler").display_name in choices[0][1]
    else:
        assert all(value for value, _label in choices), choices  # no "Myself"
    answer = act(lead, number, "sign", {"handler": choices[0][0]})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    with app.app_context():
        signed = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert signed is not None and signed.status is CaseStatus.IN_PROGRESS
        assert signed.handler is not None and signed.handler.has_role(Role.HANDLER)


@pytest.mark.parametrize("version", [None, "", "v1"])
def test_an_action_without_the_version_shown_is_a_conflict(
    app: Flask, handler_client: FlaskClient, version: str | None
) -> None:
    """Every action form carries the version it was shown at; a post without it (replayed
    with the field taken out, found by the hostile corpus) is answered like a stale one —
    409 and the case as it is now — never applied unchecked."""
    with app.app_context():
        case = case_in(CaseStatus.IN_PROGRESS)
        number, before = case.number, case.version
    data = {"csrf_token": csrf_token(handler_client, f"/staff/cases/{number}"), "text": "已联系。"}
    if version is not None:
        data["version"] = version
    response = handler_client.post(f"/staff/cases/{number}/act/note", data=data)
    assert response.status_code == 409
    with app.app_context():
        after = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert after is not None and after.version == before
