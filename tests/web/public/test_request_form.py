"""The public request form through the test client: choosing a category, filing, the
confirmation, and a table of bad inputs that must each be refused on their field while
nothing is saved (DESIGN §7)."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from caseapp.extensions import db
from caseapp.models import Attachment, Case, OutboxMessage
from tests.conftest import csrf_token

FORM = "/requests/new?category=bus-stop"


def good_fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "kind": "help",
        "title": "圣惠路羊驮寺村公交站被取消",
        "description": "圣惠路改造后村口的公交站没有恢复，老人要走很远去坐车。",
        "public_location": "圣惠路",
        "address": "盐湖区圣惠路羊驮寺村村口",
        "citizen_name": "张秀英",
        "citizen_phone": "13812345678",
        "citizen_email": "",
        "notify_by": "sms",
        "consent_privacy": "y",
        "q_route": "12路",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def post_form(
    client: FlaskClient, data: dict[str, object], url: str = FORM, token: str | None = None
):  # type: ignore[no-untyped-def]
    if token is None:
        token = csrf_token(client, url)
    data = dict(data)
    if token:
        data["csrf_token"] = token
    return client.post(url, data=data, content_type="multipart/form-data")


def jpeg_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def bomb_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(buffer, "PNG")
    return buffer.getvalue()


def nothing_saved(app: Flask) -> None:
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
    upload_dir = Path(app.config["UPLOAD_DIR"])
    assert not any(p.is_file() for p in upload_dir.rglob("*")), "files left in the upload folder"


def test_the_category_step_lists_and_searches(client: FlaskClient, demo_base: None) -> None:
    body = client.get("/requests/new").get_data(as_text=True)
    assert "公交站点设置" in body and "路灯故障" in body
    found = client.get("/requests/new?q=公交").get_data(as_text=True)
    assert "公交站点设置" in found and "路灯故障" not in found
    english = client.get("/requests/new?q=street&lang=en").get_data(as_text=True)
    assert "Street lights" in english and "Bus stops" not in english
    assert "没有与" in client.get("/requests/new?q=火星&lang=zh_CN").get_data(as_text=True)


def test_the_form_asks_the_category_s_own_questions(client: FlaskClient, demo_base: None) -> None:
    body = client.get(FORM).get_data(as_text=True)
    assert "涉及线路" in body  # the bus-stop category's question
    assert 'name="q_route"' in body
    assert "110" in body  # emergencies are told to call instead
    assert client.get("/requests/new?category=no-such-thing").status_code == 404


def test_filing_shows_number_private_link_and_dates(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    response = post_form(client, good_fields())
    assert response.status_code == 302 and response.headers["Location"] == "/requests/filed"
    page = client.get("/requests/filed").get_data(as_text=True)
    number = re.search(r"YC\d{4}-\d{6}", page).group(0)
    link = re.search(r'href="(http://localhost/p/[A-Za-z0-9_-]+)"', page)
    assert link, "the private link is shown"
    assert "受理时限" in page and "答复时限" in page
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.answers == {"route": "12路"}
        assert case.citizen_phone == "13812345678" and case.public_location == "圣惠路"
        assert case.access_key_hash and case.access_key_hash not in page
        templates = db.session.scalars(
            sa.select(OutboxMessage.template).where(OutboxMessage.case_id == case.id)
        ).all()
        assert templates == ["receipt"]
    # The confirmation is shown once.
    assert client.get("/requests/filed").status_code == 302


def test_files_are_stored_after_checking(app: Flask, client: FlaskClient, demo_base: None) -> None:
    data = good_fields(
        attachments=[(io.BytesIO(jpeg_bytes()), "站牌.jpg"), (io.BytesIO(pdf_bytes()), "说明.pdf")]
    )
    assert post_form(client, data).status_code == 302
    with app.app_context():
        rows = db.session.scalars(sa.select(Attachment).order_by(Attachment.id)).all()
        assert [r.content_type for r in rows] == ["image/jpeg", "application/pdf"]
        for row in rows:
            assert (Path(app.config["UPLOAD_DIR"]) / row.storage_key).is_file()


def test_script_tags_are_kept_as_text_and_shown_escaped(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    title = "<script>alert('x')</script>公交站"
    assert post_form(client, good_fields(title=title)).status_code == 302
    client.get("/requests/filed")
    with app.app_context():
        number = db.session.scalar(sa.select(Case.number))
    page = client.get(f"/track/{number}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;公交站" in page


BAD_INPUTS = [
    ("title-empty", {"title": ""}, "title", None),
    ("title-too-long", {"title": "站" * 201}, "title", None),
    ("title-control-character", {"title": "公交\x07站"}, "title", None),
    ("description-empty", {"description": ""}, "description", None),
    ("description-too-long", {"description": "字" * 4001}, "description", None),
    ("name-missing", {"citizen_name": ""}, "citizen_name", None),
    ("name-too-long", {"citizen_name": "张" * 81}, "citizen_name", None),
    ("phone-missing", {"citizen_phone": ""}, "citizen_phone", None),
    ("phone-too-short", {"citizen_phone": "12345"}, "citizen_phone", None),
    ("phone-landline", {"citizen_phone": "0359-2345678"}, "citizen_phone", None),
    ("phone-letters", {"citizen_phone": "138abcd5678"}, "citizen_phone", None),
    ("phone-foreign", {"citizen_phone": "+1 202 555 0143"}, "citizen_phone", None),
    ("email-invalid", {"citizen_email": "not-an-address"}, "citizen_email", None),
    ("email-too-long", {"citizen_email": "a" * 250 + "@x.cn"}, "citizen_email", None),
    ("no-consent", {"consent_privacy": None}, "consent_privacy", None),
    ("kind-unknown", {"kind": "bribe"}, "kind", None),
    ("notify-unknown", {"notify_by": "fax"}, "notify_by", None),
    ("notify-email-without-email", {"notify_by": "email"}, "notify_by", None),
    ("latitude-alone", {"latitude": "35.02"}, "longitude", None),
    ("latitude-out-of-range", {"latitude": "95", "longitude": "111"}, "latitude", None),
    ("longitude-not-a-number", {"latitude": "35", "longitude": "东经111"}, "longitude", None),
    ("road-too-long", {"public_location": "路" * 121}, "public_location", None),
    ("address-too-long", {"address": "址" * 301}, "address", None),
    ("district-unknown", {"district": "99999"}, "district", None),
    # Not offered for bus stops: a crafted tick is ignored and the contact is required.
    (
        "anonymous-not-allowed",
        {"anonymous": "y", "citizen_name": "", "citizen_phone": ""},
        "citizen_name",
        None,
    ),
    ("pdf-named-jpg", {}, "attachments", [(pdf_bytes, "photo.jpg")]),
    (
        "html-named-jpg",
        {},
        "attachments",
        [(lambda: b"<html><script>alert(1)</script></html>", "photo.jpg")],
    ),
    (
        "svg",
        {},
        "attachments",
        [(lambda: b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "a.svg")],
    ),
    ("empty-file", {}, "attachments", [(lambda: b"", "empty.jpg")]),
    ("huge-pixels", {}, "attachments", [(bomb_png, "big.png")]),
    ("six-files", {}, "attachments", [(jpeg_bytes, f"p{i}.jpg") for i in range(6)]),
    (
        "eleven-mb",
        {},
        "attachments",
        [(lambda: b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024) + b"\n%%EOF", "big.pdf")],
    ),
    ("truncated-jpeg", {}, "attachments", [(lambda: jpeg_bytes((400, 300))[:300], "cut.jpg")]),
]


@pytest.mark.parametrize(
    ("changes", "field", "files"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_saved(
    app: Flask, client: FlaskClient, demo_base: None, changes: dict, field: str, files: list | None
) -> None:
    data = good_fields(**changes)
    if files:
        data["attachments"] = [(io.BytesIO(make()), name) for make, name in files]
    response = post_form(client, data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400, response.status_code
    assert 'class="error-summary"' in body
    assert f'href="#{field}"' in body, f"no error linked to {field}"
    assert re.search(rf'id="{field}-error"', body) or f'id="{field}"' in body
    nothing_saved(app)


def test_wrong_or_missing_csrf_token_is_refused(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    csrf_token(client, FORM)  # a session exists
    for token in ("forged-token", ""):
        response = post_form(client, good_fields(), token=token)
        assert response.status_code == 400
        assert "表单已过期" in response.get_data(as_text=True)
    nothing_saved(app)


def test_the_honeypot_saves_nothing(app: Flask, client: FlaskClient, demo_base: None) -> None:
    response = post_form(client, good_fields(website="http://spam.example"))
    assert response.status_code == 400
    assert "无法提交" in response.get_data(as_text=True)
    nothing_saved(app)


def test_errors_are_shown_in_english_too(app: Flask, client: FlaskClient, demo_base: None) -> None:
    client.get("/?lang=en")
    body = post_form(client, good_fields(citizen_phone="12345")).get_data(as_text=True)
    assert "There is a problem" in body
    assert "Not a valid Chinese mobile number" in body
    nothing_saved(app)


def test_the_typed_text_is_kept_after_an_error(client: FlaskClient, demo_base: None) -> None:
    body = post_form(client, good_fields(citizen_phone="12345")).get_data(as_text=True)
    assert "圣惠路改造后村口的公交站没有恢复" in body
    assert 'value="圣惠路羊驮寺村公交站被取消"' in body


def test_filing_is_rate_limited(app: Flask, client: FlaskClient, demo_base: None) -> None:
    limit = int(app.config["RATELIMIT_PUBLIC_FORM"].split()[0])
    token = csrf_token(client, FORM)
    statuses = [
        post_form(client, good_fields(title=""), token=token).status_code for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [400] * limit
    assert statuses[-1] == 429


def test_a_request_over_the_size_cap_is_refused_with_413(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    token = csrf_token(client, FORM)
    cap = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    try:
        data = good_fields(attachments=[(io.BytesIO(b"%PDF-1.4\n" + b"0" * 100_000), "big.pdf")])
        response = post_form(client, data, token=token)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = cap
    assert response.status_code == 413
    nothing_saved(app)


def test_one_filing_sent_four_times_at_once_is_filed_once(app: Flask, demo_base: None) -> None:
    """A double submit, or two browsers sending the same request at the same moment: the
    filings take turns (``duplicates.take_turn_to_file``), so one is filed and the others
    are offered it to follow (200), nothing filed. On PostgreSQL all four were filed."""
    browsers = [app.test_client() for _ in range(4)]
    tokens = [csrf_token(browser, FORM) for browser in browsers]
    start = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def send(browser: FlaskClient, token: str) -> None:
        start.wait()
        statuses.append(post_form(browser, good_fields(), token=token).status_code)

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(browsers, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 302]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 1
        db.session.remove()
