"""A ledger item's page for supervisors: its cases and timeline, the write-off (销号) and
reopen round trip through the forms, edits with milestones, the case page's link to a
ledger item, and nobody else let in."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Case, Ledger, LedgerCategory, LedgerItem, LedgerItemEvent
from caseapp.models.enums import CaseStatus, LedgerItemStatus
from caseapp.services.casework import supervision
from caseapp.services.ledgers import items as ledgers
from tests.conftest import _client_as, csrf_token
from tests.factories import case_in, ledger, legacy_ledger, staff, user
from tests.web.staff.test_case_page import act, page_of


def city_today(app: Flask) -> date:
    return datetime.now(ZoneInfo(app.config["CITY_TIMEZONE"])).date()


@pytest.fixture
def ledgers_made(app: Flask, demo_base: None) -> None:
    with app.app_context():
        legacy_ledger()
        ledger(name_zh="我为群众办实事 2021", name_en="Practical things 2021")


@pytest.fixture
def legacy_item(app: Flask, ledgers_made: None) -> tuple[int, str, str]:
    """A legacy item with two cases: one resolved, one in progress."""
    with app.app_context():
        first = case_in(CaseStatus.RESOLVED, title="工农街拓宽占地未补偿")
        second = case_in(CaseStatus.IN_PROGRESS)
        item = supervision.mark_legacy(first, staff("supervisor"), version=None)
        supervision.link_ledger_item(second, staff("supervisor"), item.id, version=None)
        return item.id, first.number, second.number


def item_url(item_id: int, action: str = "") -> str:
    return f"/supervisor/ledger-items/{item_id}" + (f"/{action}" if action else "")


def post(client: FlaskClient, item_id: int, action: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    token = csrf_token(client, item_url(item_id))
    return client.post(item_url(item_id, action), data={"csrf_token": token, **data})


def item_status(app: Flask, item_id: int) -> LedgerItemStatus:
    with app.app_context():
        return db.session.get(LedgerItem, item_id).status


def actions(app: Flask, item_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(LedgerItemEvent.action)
                .where(LedgerItemEvent.item_id == item_id)
                .order_by(LedgerItemEvent.id)
            )
        )


def test_the_page_shows_the_item_its_cases_and_its_timeline(
    app: Flask, supervisor_client: FlaskClient, legacy_item: tuple[int, str, str]
) -> None:
    item_id, first, second = legacy_item
    page = supervisor_client.get(item_url(item_id) + "?lang=en").get_data(as_text=True)
    assert "<h1>工农街拓宽占地未补偿</h1>" in page
    assert 'href="/supervisor/ledgers/legacy"' in page and "Legacy issues" in page
    cases = re.search(r'<ul class="plain linked-cases">[\s\S]*?</ul>', page).group(0)
    for number in (first, second):
        assert f'<a href="/staff/cases/{number}">{number}</a>' in cases
    assert "Resolved (awaiting follow-up)" in cases and "In progress" in cases
    timeline = re.findall(
        r'<p class="what">\s*([^<\n]+)',
        re.search(r'<ol class="timeline[\s\S]*?</ol>', page).group(0),
    )
    assert [t.strip() for t in timeline] == [
        "Item created for a legacy case",
        "Case linked",
        "Work started",
        "Case linked",
    ]
    assert "Status: <strong" in page and "In progress</strong>" in page
    # A form to write off, none to reopen; one to unlink each case.
    assert f'action="/supervisor/ledger-items/{item_id}/write-off"' in page
    assert "/reopen" not in page
    assert page.count("/unlink") == 2


def test_a_write_off_and_a_reopen_round_trip(
    app: Flask, supervisor_client: FlaskClient, legacy_item: tuple[int, str, str]
) -> None:
    item_id, _first, _second = legacy_item
    supervisor_client.get("/staff/queue?lang=en")

    refused = post(supervisor_client, item_id, "write-off", {"write-off-note": " "})
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert (
        'id="write-off-note-error"' in body
        and '<details class="card action" id="action-write-off" open>' in body
    )
    assert item_status(app, item_id) is LedgerItemStatus.IN_PROGRESS

    done = post(supervisor_client, item_id, "write-off", {"write-off-note": "经协调已补偿到位"})
    assert done.status_code == 302 and done.headers["Location"] == item_url(item_id)
    assert item_status(app, item_id) is LedgerItemStatus.WRITTEN_OFF
    page = supervisor_client.get(item_url(item_id)).get_data(as_text=True)
    assert "The ledger item was written off." in page
    assert "经协调已补偿到位" in page and "/write-off" not in page
    assert f'action="/supervisor/ledger-items/{item_id}/reopen"' in page

    # A second write-off sent from an old page is refused, with nothing written.
    again = post(supervisor_client, item_id, "write-off", {"write-off-note": "重复销号"})
    assert again.status_code == 400
    assert "This item is written off already." in again.get_data(as_text=True)

    reopened = post(supervisor_client, item_id, "reopen", {"reopen-note": "群众反映补偿款未到账"})
    assert reopened.status_code == 302
    assert item_status(app, item_id) is LedgerItemStatus.IN_PROGRESS
    assert actions(app, item_id)[-2:] == ["write_off", "reopen"]
    page = supervisor_client.get(item_url(item_id)).get_data(as_text=True)
    assert "群众反映补偿款未到账" in page and "/write-off" in page


def test_a_case_is_unlinked_with_a_note(
    app: Flask, supervisor_client: FlaskClient, legacy_item: tuple[int, str, str]
) -> None:
    item_id, first, second = legacy_item
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == second))
    prefix = f"unlink-{case_id}"
    refused = post(supervisor_client, item_id, f"cases/{case_id}/unlink", {f"{prefix}-note": ""})
    assert refused.status_code == 400
    done = post(supervisor_client, item_id, f"cases/{case_id}/unlink", {f"{prefix}-note": "误关联"})
    assert done.status_code == 302
    page = supervisor_client.get(item_url(item_id)).get_data(as_text=True)
    cases = re.search(r'<ul class="plain linked-cases">[\s\S]*?</ul>', page).group(0)
    assert first in cases and second not in cases
    assert actions(app, item_id)[-1] == "unlink_case" and "误关联" in page


@pytest.mark.parametrize("username", ["handler", "lead", "intake", "leader"])
def test_only_supervisors_open_or_change_an_item(
    app: Flask, legacy_item: tuple[int, str, str], username: str
) -> None:
    item_id = legacy_item[0]
    client = _client_as(app, username)
    assert client.get(item_url(item_id)).status_code == 403
    token = csrf_token(client, "/staff/queue")
    for action in ("write-off", "reopen", "edit"):
        response = client.post(
            item_url(item_id, action), data={"csrf_token": token, f"{action}-note": "销号"}
        )
        assert response.status_code == 403
    assert client.get("/supervisor/ledgers/ss2021/items/new").status_code == 403
    assert item_status(app, item_id) is LedgerItemStatus.IN_PROGRESS


def test_an_unknown_item_is_not_found(supervisor_client: FlaskClient) -> None:
    assert supervisor_client.get(item_url(999999)).status_code == 404
    assert supervisor_client.get("/supervisor/ledgers/nope/items/new").status_code == 404


def milestone_rows(*given: tuple[str, str, bool]) -> dict[str, str]:
    data = {}
    for index in range(5):
        due, text, done = given[index] if index < len(given) else ("", "", False)
        data[f"milestones-{index}-due_on"] = due
        data[f"milestones-{index}-text"] = text
        if done:
            data[f"milestones-{index}-done"] = "y"
    return data


def test_an_item_without_cases_is_added_edited_with_milestones_and_shown_late(
    app: Flask, supervisor_client: FlaskClient, ledgers_made: None
) -> None:
    supervisor_client.get("/staff/queue?lang=en")
    url = "/supervisor/ledgers/ss2021/items/new"
    form = supervisor_client.get(url).get_data(as_text=True)
    assert 'id="milestones-4-due_on"' in form and 'name="code"' in form
    token = csrf_token(supervisor_client, url)
    refused = supervisor_client.post(url, data={"csrf_token": token, "title": ""})
    assert refused.status_code == 400 and 'id="title-error"' in refused.get_data(as_text=True)

    with app.app_context():
        category = db.session.scalar(
            sa.select(LedgerCategory.id).where(LedgerCategory.code == "projects")
        )
    created = supervisor_client.post(
        url,
        data={"csrf_token": token, "code": "SS2021-0100", "title": "机场大道建设3座人行天桥",
              "category_id": str(category), **milestone_rows()},
    )  # fmt: skip
    assert created.status_code == 302
    item_id = int(created.headers["Location"].rsplit("/", 1)[1])
    page = supervisor_client.get(item_url(item_id)).get_data(as_text=True)
    assert "No case is linked" in page and "Not started" in page and "Late</span>" not in page

    today = city_today(app)
    past, future = today - timedelta(days=2), today + timedelta(days=30)
    seen = re.search(r'name="seen"[^>]*value="([^"]+)"', page).group(1)
    edited = post(
        supervisor_client,
        item_id,
        "edit",
        {"seen": seen, "title": "机场大道建设3座人行天桥", "category_id": str(category),
         "owner_department_id": "", "responsible_leader_id": str(_leader_id(app)),
         "target_date": past.isoformat(), "plan_text": "先选址，再建设。",
         **milestone_rows((past.isoformat(), "完成选址", False), (future.isoformat(), "完成建设", False))},
    )  # fmt: skip
    assert edited.status_code == 302, edited.get_data(as_text=True)
    page = supervisor_client.get(item_url(item_id)).get_data(as_text=True)
    assert re.search(
        rf'<li class="milestone is-late">\s*<time[^>]*>{past.isoformat()}</time>', page
    )
    assert re.search(
        r'Status: <strong[^>]*>Not started</strong>\s*<span class="tag warn">Late</span>', page
    )
    assert "Item edited" in page and "先选址，再建设。" in page

    # The same form sent again over that change is a conflict; the typed text is kept.
    stale = post(
        supervisor_client,
        item_id,
        "edit",
        {"seen": seen, "title": "另一个标题", **milestone_rows()},
    )
    assert stale.status_code == 409
    assert 'value="另一个标题"' in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(LedgerItem, item_id).title == "机场大道建设3座人行天桥"


def _leader_id(app: Flask) -> int:
    with app.app_context():
        return user("leader").id


def test_the_case_page_links_a_case_to_an_item_by_its_code(
    app: Flask, supervisor_client: FlaskClient, ledgers_made: None
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
        campaign = db.session.scalar(sa.select(Ledger).where(Ledger.code == "ss2021"))
        item = ledgers.create_item(
            campaign, user("supervisor"), ledgers.ItemFields("圣惠路公交站点"), code="SS2021-0200"
        )
        item_id = item.id
    supervisor_client.get("/staff/queue?lang=en")
    refused = act(supervisor_client, number, "link-ledger-item", {"item": "SS2021-9999"})
    assert refused.status_code == 400
    assert "There is no ledger item with this code, number or title." in refused.get_data(
        as_text=True
    )

    linked = act(supervisor_client, number, "link-ledger-item", {"item": "ss2021-0200"})
    assert linked.status_code == 302
    page = page_of(supervisor_client, number)
    link = re.search(r'<li class="ledger-link">[\s\S]*?</li>', page).group(0)
    assert f'href="/supervisor/ledger-items/{item_id}"' in link and "In progress" in link
    assert item_status(app, item_id) is LedgerItemStatus.IN_PROGRESS

    # The handler sees the item and its status, without a link to a page they cannot open.
    handler_page = page_of(_client_as(app, "handler"), number)
    link = re.search(r'<li class="ledger-link">[\s\S]*?</li>', handler_page).group(0)
    assert "圣惠路公交站点" in link and "/supervisor/ledger-items/" not in link
    assert "link-ledger-item" not in handler_page


def test_every_item_action_has_its_label_in_both_languages(app: Flask) -> None:
    from flask_babel import force_locale

    from caseapp.labels import LEDGER_ITEM_ACTION_LABELS, item_event_label
    from caseapp.models.enums import LedgerItemAction

    assert set(LEDGER_ITEM_ACTION_LABELS) == set(LedgerItemAction)
    with app.test_request_context(), force_locale("zh"):
        assert item_event_label("write_off") == "已销号"
        assert item_event_label("undo_write_off") == "撤销销号：关联诉求有变化"
        # An action this version does not know is shown as stored.
        assert item_event_label("something_older") == "something_older"
