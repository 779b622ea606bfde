"""The ledger import pages: upload, preview, confirm; supervisors only."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from werkzeug.test import TestResponse

from caseapp.extensions import db
from caseapp.models import Ledger, LedgerItem, LedgerItemEvent
from caseapp.models.enums import LedgerItemStatus, LedgerKind
from tests import factories
from tests.conftest import AuthActions, csrf_token
from tests.services.ledgers.test_importing import row, xlsx

URL = "/supervisor/ledgers/old/import"
TOKEN_RE = re.compile(r'name="token"[^>]*value="([^"]+)"')


@pytest.fixture
def ledger(app: Flask, demo_base: None) -> int:
    with app.app_context():
        made = factories.ledger(
            "old",
            LedgerKind.LEGACY,
            "理旧账",
            "Old accounts",
            (("works", "市政设施", "Public works"),),
        )
        return made.id


def upload(client: FlaskClient, data: bytes, name: str = "台账.xlsx") -> TestResponse:
    token = csrf_token(client, URL)
    return client.post(
        URL,
        data={"csrf_token": token, "workbook": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def confirm(client: FlaskClient, token: str) -> TestResponse:
    return client.post(
        URL + "/confirm", data={"csrf_token": csrf_token(client, URL), "token": token}
    )


def item_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(LedgerItem)) or 0


@pytest.mark.usefixtures("ledger")
def test_upload_preview_confirm_imports_the_items(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    page = supervisor_client.get(URL + "?lang=en")  # the language is remembered
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in body and 'name="csrf_token"' in body
    assert 'role="region" aria-label=' in body

    rows = [row(code=f"A{n}", title=f"事项{n}") for n in range(1, 61)]
    rows.append(row(code="A61", status="已销号", written_off_on="2024-05-20", note="已完成"))
    preview = upload(supervisor_client, xlsx(rows))
    assert preview.status_code == 200
    body = preview.get_data(as_text=True)
    assert "事项1</td>" in body and "事项50</td>" in body
    assert "事项51</td>" not in body  # the first 50 rows, and the count
    assert "Rows read: 61." in body and "Import 61 items" in body
    assert item_count(app) == 0  # a preview imports nothing
    token = TOKEN_RE.search(body)
    assert token, "no confirm form"

    done = confirm(supervisor_client, token.group(1))
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/supervisor/ledgers/old")
    assert item_count(app) == 61
    with app.app_context():
        written_off = db.session.scalar(sa.select(LedgerItem).where(LedgerItem.code == "A61"))
        assert written_off is not None and written_off.status is LedgerItemStatus.WRITTEN_OFF
        events = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerItemEvent))
        assert events == 62
    assert list((Path(app.config["UPLOAD_DIR"]) / "imports").iterdir()) == []

    again = confirm(supervisor_client, token.group(1))  # a second click imports nothing
    assert again.status_code == 404
    assert "expired or was done already" in again.get_data(as_text=True)
    assert item_count(app) == 61


@pytest.mark.usefixtures("ledger")
def test_a_bad_row_is_shown_with_its_row_and_column_and_no_confirm_button(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    rows = [row(code="A1"), row(code="A2", category="教育"), row(code="A3", category="<b>x</b>")]
    response = upload(supervisor_client, xlsx(rows))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    problems = body[body.index('id="problems-heading"') :]
    assert re.search(r">3</td>\s*<td[^>]*>类别</td>", problems)
    assert "教育" in problems
    assert "&lt;b&gt;x&lt;/b&gt;" in problems and "<b>x</b>" not in body  # the file's text, escaped
    assert 'name="token"' not in body and "/import/confirm" not in body
    assert item_count(app) == 0
    assert not any((Path(app.config["UPLOAD_DIR"]) / "imports").iterdir())


@pytest.mark.usefixtures("ledger")
def test_a_file_that_is_not_a_workbook_is_a_clear_error(supervisor_client: FlaskClient) -> None:
    supervisor_client.get(URL + "?lang=en")
    response = upload(supervisor_client, b"%PDF-1.4 not a ledger", "ledger.pdf")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "The whole file" in body and "not an Excel workbook" in body
    assert 'name="token"' not in body


@pytest.mark.usefixtures("ledger")
def test_no_file_is_an_error_on_the_form(supervisor_client: FlaskClient) -> None:
    token = csrf_token(supervisor_client, URL)
    response = supervisor_client.post(URL, data={"csrf_token": token})
    assert response.status_code == 400
    assert 'id="error-summary"' in response.get_data(as_text=True)


@pytest.mark.usefixtures("ledger")
def test_a_file_over_the_app_s_limit_is_a_clear_error(
    app: Flask, supervisor_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = csrf_token(supervisor_client, URL)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    response = supervisor_client.post(
        URL,
        data={"csrf_token": token, "workbook": (io.BytesIO(b"x" * 4096), "big.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


@pytest.mark.usefixtures("ledger")
@pytest.mark.parametrize(
    ("token", "status"),
    [("../../../etc/passwd", 400), ("a" * 43, 404), ("x" * 43 + "/..", 400)],
)
def test_a_forged_token_is_refused(
    app: Flask, supervisor_client: FlaskClient, token: str, status: int
) -> None:
    assert confirm(supervisor_client, token).status_code == status
    assert item_count(app) == 0


@pytest.mark.usefixtures("ledger")
def test_a_token_is_good_for_the_supervisor_who_uploaded_only(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    body = upload(supervisor_client, xlsx([row()])).get_data(as_text=True)
    token = TOKEN_RE.search(body)
    assert token
    other = app.test_client()
    AuthActions(other).login("admin")  # not a supervisor at all
    assert confirm(other, token.group(1)).status_code == 403
    assert item_count(app) == 0


@pytest.mark.usefixtures("ledger")
def test_confirming_without_the_csrf_token_is_refused(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    body = upload(supervisor_client, xlsx([row()])).get_data(as_text=True)
    token = TOKEN_RE.search(body)
    assert token
    response = supervisor_client.post(URL + "/confirm", data={"token": token.group(1)})
    assert response.status_code == 400
    assert item_count(app) == 0


@pytest.mark.usefixtures("ledger")
def test_a_row_gone_wrong_since_the_preview_shows_the_preview_again(
    app: Flask, supervisor_client: FlaskClient
) -> None:
    body = upload(supervisor_client, xlsx([row(code="A1")])).get_data(as_text=True)
    token = TOKEN_RE.search(body)
    assert token
    with app.app_context():
        ledger = db.session.scalar(sa.select(Ledger).where(Ledger.code == "old"))
        assert ledger is not None
        db.session.add(LedgerItem(ledger_id=ledger.id, code="A1", title="同时录入的事项"))
        db.session.commit()
    response = confirm(supervisor_client, token.group(1))
    assert response.status_code == 409
    assert 'id="problems-heading"' in response.get_data(as_text=True)
    assert item_count(app) == 1


@pytest.mark.usefixtures("ledger")
@pytest.mark.parametrize("username", ["handler", "leader", "intake", "admin"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", URL), ("post", URL), ("post", URL + "/confirm"), ("get", URL + "/template.xlsx")],
)
def test_only_supervisors_may_import(app: Flask, username: str, method: str, path: str) -> None:
    client = app.test_client()
    AuthActions(client).login(username)
    data = {"csrf_token": csrf_token(client, "/staff/queue"), "token": "a" * 43}
    response = client.post(path, data=data) if method == "post" else client.get(path)
    assert response.status_code == 403
    assert item_count(app) == 0


def test_an_unknown_ledger_is_404(supervisor_client: FlaskClient) -> None:
    assert supervisor_client.get("/supervisor/ledgers/nope/import").status_code == 404


@pytest.mark.usefixtures("ledger")
@pytest.mark.parametrize(("lang", "first"), [("zh_CN", "编号"), ("en", "Code")])
def test_the_template_downloads_in_the_reader_s_language(
    supervisor_client: FlaskClient, lang: str, first: str
) -> None:
    response = supervisor_client.get(URL + f"/template.xlsx?lang={lang}")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert sheet["A1"].value == first
    assert sheet.max_row == 2  # the headings and one example row
