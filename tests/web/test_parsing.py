"""The one place request text becomes ids, integers and dates (``caseapp.web.parsing``),
and the attacks of issue 15 replayed against it: each is a clear 4xx (or a field error)
that writes nothing, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter
from wtforms import DateField, DateTimeField, Field, Form, IntegerField
from wtforms.fields.choices import SelectFieldBase
from wtforms.validators import NumberRange, Optional

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, InboxMessage
from caseapp.models.enums import CaseStatus
from caseapp.models.types import ID_MAX
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.filing.cases import NewCase, submit_case
from caseapp.web.parsing import IdConverter, date_range, int_range, parse_id, parse_ids, parse_int
from tests.conftest import csrf_token, rule_url, table_fingerprint
from tests.factories import case_in, legacy_ledger
from tests.web.staff.test_case_page import act

HUGE = str(2**70)
CITY = ZoneInfo("Asia/Shanghai")


# --- the parsers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("2147483647", ID_MAX),
        (" 7 ", 7),
        ("007", 7),
        (12, 12),
        ("2147483648", None),
        (HUGE, None),
        ("9" * 5000, None),  # beyond Python's own limit on int("…")
        ("0", None),
        ("-1", None),
        ("", None),
        ("abc", None),
        ("1.9999999999999999999", None),
        ("1e3", None),
        ("+1", None),
        ("1_000", None),
        ("²", None),  # str.isdigit() says yes, int() says no
        ("١٢", None),  # Arabic-Indic digits
        ("１２", None),  # full-width digits
        ("\x00", None),
        (None, None),
        (True, None),
        (1.0, None),
    ],
)
def test_parse_id_reads_only_ids_in_the_columns_range(raw: Any, expected: int | None) -> None:
    assert parse_id(raw) == expected


def test_parse_int_keeps_to_its_bounds_and_parse_ids_drops_the_rest() -> None:
    assert parse_int("-5", minimum=-10, maximum=10) == -5
    assert parse_int("11", minimum=-10, maximum=10) is None
    assert parse_ids(["3", "x", HUGE, "3", "1", ""]) == [3, 1]


def test_every_int_in_a_route_is_bounded_to_the_id_range(app: Flask) -> None:
    converters = [
        (rule.rule, converter)
        for rule in app.url_map.iter_rules()
        for converter in rule._converters.values()
        if isinstance(converter, IntegerConverter)
    ]
    assert converters, "the URL map has no <int:...> at all"
    for rule, converter in converters:
        assert isinstance(converter, IdConverter), rule
        assert converter.max is not None and converter.max <= ID_MAX, rule


def _form_classes() -> Iterator[type[Form]]:
    seen: set[type] = set()
    todo: list[type] = [Form]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
                if sub.__module__.startswith("caseapp."):
                    yield sub


def _bounded(field_class: type[Field], validators: list[Any]) -> bool:
    if issubclass(field_class, IntegerField):
        return any(
            isinstance(v, int_range)
            or (isinstance(v, NumberRange) and v.min is not None and v.max is not None)
            for v in validators
        )
    return any(isinstance(v, date_range) for v in validators)


def test_every_integer_and_date_field_of_every_form_is_bounded(app: Flask) -> None:
    """A new IntegerField or DateField without bounds fails here (the app is built, so
    every form module is imported)."""
    checked, unbounded = 0, []
    for form in _form_classes():
        for name in dir(form):
            unbound = getattr(form, name, None)
            field_class = getattr(unbound, "field_class", None)
            if not isinstance(field_class, type) or not issubclass(
                field_class, IntegerField | DateField | DateTimeField
            ):
                continue
            checked += 1
            validators = list(unbound.kwargs.get("validators") or [])
            if not _bounded(field_class, validators):
                unbounded.append(f"{form.__module__}.{form.__name__}.{name}")
    assert checked >= 10
    assert unbounded == []


def test_no_select_lets_a_blank_past_its_choices(app: Flask) -> None:
    """``Optional()`` takes " " for empty and clears the select's "Not a valid choice";
    a select that checks its choices uses ``optional_choice()`` instead. The request
    form of a category with optional list questions is built first, so its class is
    among those checked whatever ran before."""
    from caseapp.models import Category, CategoryQuestion
    from caseapp.models.enums import QuestionType
    from caseapp.web.public.forms import request_form_for

    choices = [{"key": "a", "name_zh": "甲", "name_en": "A"}]
    category = Category(service_code="lists", name_zh="列表", name_en="Lists")
    category.questions = [
        CategoryQuestion(code=code, label_zh=code, label_en=code, datatype=kind,
                         required=False, choices=choices, sort_order=i)
        for i, (code, kind) in enumerate(
            [("one", QuestionType.SINGLEVALUELIST), ("many", QuestionType.MULTIVALUELIST)]
        )
    ]  # fmt: skip
    with app.test_request_context():
        request_form_for(category, "zh_CN")
    checked, lax = 0, []
    for form in _form_classes():
        for name in dir(form):
            unbound = getattr(form, name, None)
            field_class = getattr(unbound, "field_class", None)
            if not isinstance(field_class, type) or not issubclass(field_class, SelectFieldBase):
                continue
            if not unbound.kwargs.get("validate_choice", True):
                continue  # the view reads it with parse_id or the service checks it
            checked += 1
            for validator in unbound.kwargs.get("validators") or []:
                if isinstance(validator, Optional) and not validator.string_check(" "):
                    lax.append(f"{form.__module__}.{form.__name__}.{name}")
    assert checked >= 5
    assert lax == []


# --- the attacks of issue 15, replayed --------------------------------------------------------


def _row_counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in db.metadata.sorted_tables
        }


@contextmanager
def nothing_written(app: Flask) -> Iterator[None]:
    """The requests inside write no row."""
    with app.app_context():
        before = _row_counts()
    yield
    with app.app_context():
        after = _row_counts()
    assert {t: after[t] - before[t] for t in after if after[t] != before[t]} == {}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"/admin/users/{HUGE}"),
        ("GET", f"/admin/users/{ID_MAX + 1}"),
        ("POST", f"/admin/outbox/{HUGE}/retry"),
        ("POST", f"/admin/outbox/{'9' * 5000}/drop"),
        ("GET", f"/admin/categories/{HUGE}"),
        ("GET", f"/supervisor/ledger-items/{HUGE}"),
    ],
)
def test_an_id_beyond_the_columns_range_is_a_404(
    admin_client: FlaskClient, method: str, url: str
) -> None:
    token = csrf_token(admin_client, "/admin/")
    assert admin_client.open(url, method=method, data={"csrf_token": token}).status_code == 404


def test_an_inbox_message_beyond_the_range_is_a_404(
    app: Flask, handler_client: FlaskClient
) -> None:
    token = csrf_token(handler_client, "/staff/inbox")
    with nothing_written(app):
        response = handler_client.post(f"/staff/inbox/{HUGE}/read", data={"csrf_token": token})
    assert response.status_code == 404


def test_an_attachment_beyond_the_range_is_a_404(app: Flask, intake_client: FlaskClient) -> None:
    with app.app_context():
        number = case_in(CaseStatus.NEW).number
    assert intake_client.get(f"/staff/cases/{number}/files/{HUGE}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/staff/queue?after=1.9999999999999999999",
        f"/staff/queue?after=n.{HUGE}",
        f"/staff/queue?after={HUGE}.1",
        "/staff/queue?after=1_0.1",
        f"/staff/queue.csv?department={HUGE}",
        f"/supervisor/escalations?department={HUGE}",
        "/supervisor/escalations?department=abc",
        f"/supervisor/scorecards/cases?figure=ratings&of={HUGE}",
        f"/supervisor/ledgers/legacy/items?page={HUGE}",
        "/supervisor/scorecards?period=custom&first=0001-01-01&last=0001-01-02",
    ],
)
def test_a_query_parameter_out_of_range_is_a_400(
    app: Flask, supervisor_client: FlaskClient, url: str
) -> None:

    with app.app_context():
        legacy_ledger()
    assert supervisor_client.get(url).status_code == 400


def test_a_calendar_year_in_odd_digits_is_this_year(admin_client: FlaskClient) -> None:
    for year in ("²", HUGE, "-1"):
        assert admin_client.get(f"/admin/calendar?year={year}").status_code == 200


@pytest.mark.parametrize(
    ("slug", "data", "field"),
    [
        ("dispatch", {"department": "abc"}, "department"),
        ("dispatch", {"department": HUGE}, "department"),
        ("dispatch", {"department": "{zjj}", "handler": HUGE}, "handler"),
        ("dispatch", {"department": "{zjj}", "assisting": HUGE}, "assisting"),
        ("dispatch", {"department": "{zjj}", "assisting": "²"}, "assisting"),
        ("leader", {"leader": HUGE}, "leader"),
        ("leader", {"leader": "-3"}, "leader"),
    ],
)
def test_a_choice_that_names_no_id_is_a_field_error(
    app: Flask, supervisor_client: FlaskClient, slug: str, data: dict[str, str], field: str
) -> None:
    from tests.factories import department

    with app.app_context():
        number = case_in(CaseStatus.NEW).number
        zjj = str(department("zjj").id)
        events = db.session.scalar(sa.select(sa.func.count()).select_from(CaseEvent))
    supervisor_client.get("/staff/queue?lang=en")
    filled = {k: v.replace("{zjj}", zjj) for k, v in data.items()}
    response = act(supervisor_client, number, slug, filled)
    assert response.status_code == 400
    assert re.search(
        rf'id="{slug}-{field}-error"[^>]*>\s*Not a valid choice', response.get_data(as_text=True)
    )
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.status is CaseStatus.NEW and case.lead_department_id is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) == events


def test_a_category_s_policy_beyond_the_range_is_a_field_error(
    app: Flask, admin_client: FlaskClient
) -> None:
    page = admin_client.get("/admin/categories/1?lang=en").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    fields.update(policy_id=HUGE, csrf_token=csrf_token(admin_client, "/admin/categories/1"))
    with nothing_written(app):
        response = admin_client.post("/admin/categories/1", data=fields)
    assert response.status_code == 400
    assert "Not a valid choice." in response.get_data(as_text=True)


def test_a_district_beyond_the_range_is_a_field_error(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    from tests.web.public.test_request_form import good_fields, post_form

    client.get("/?lang=en")
    with nothing_written(app):
        response = post_form(client, good_fields(district="99999999999999999999"))
    assert response.status_code == 400
    assert re.search(
        r'id="district-error"[^>]*>\s*Not a valid choice', response.get_data(as_text=True)
    )


# NUL anywhere: a clear 400, whoever sends it and wherever it is.


def test_nul_in_a_staff_action_text_is_a_400(app: Flask, handler_client: FlaskClient) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    handler_client.get("/staff/queue?lang=en")
    with nothing_written(app):
        response = act(handler_client, number, "note", {"text": "已联系\x00市民"})
    assert response.status_code == 400
    assert "not allowed (NUL)" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("withdraw", {"reason": "不需要了\x00"}),
        ("information", {"text": "\x00补充"}),
    ],
)
def test_nul_in_a_citizen_s_text_is_a_400(
    app: Flask, client: FlaskClient, demo_base: None, path: str, data: dict[str, str]
) -> None:
    with app.app_context():
        case, key = submit_case(
            NewCase(
                kind="help",  # type: ignore[arg-type]
                category_code="road-damage",
                title="路灯不亮",
                description="红旗西街路灯不亮。",
                citizen_name="张秀英",
                citizen_phone="13812345678",
                consent_privacy=True,
            ),
            Actor.citizen(),
        )
        number = case.number
        db.session.remove()
    assert client.get(f"/p/{key}").status_code == 302
    token = csrf_token(client, f"/track/{number}")
    with app.app_context():
        before = _row_counts()
    response = client.post(f"/track/{number}/{path}", data={**data, "csrf_token": token})
    assert response.status_code == 400
    with app.app_context():
        assert _row_counts() == before
        assert db.session.scalar(sa.select(Case.status).where(Case.number == number)) is (
            CaseStatus.NEW
        )


def test_nul_in_the_public_form_or_an_address_is_a_400(
    app: Flask, client: FlaskClient, demo_base: None
) -> None:
    from tests.web.public.test_request_form import good_fields, post_form

    client.get("/?lang=en")
    with nothing_written(app):
        response = post_form(client, good_fields(description="有\x00空字符"))
        assert response.status_code == 400
        assert "not allowed (NUL)" in response.get_data(as_text=True)
        for url in (
            "/track/YC2026-000001%00",
            "/stats?lang=%00",
            "/staff/login?next=%00",
        ):
            assert client.get(url).status_code == 400, url


def api_filing(app: Flask) -> dict[str, str]:
    """An Open311 filing's fields with a new key, all but the description."""
    from caseapp.services.admin import api_keys

    with app.app_context():
        api_key = api_keys.create_key("区便民服务App", None)[1]
        db.session.remove()
    return {
        "api_key": api_key,
        "service_code": "road-damage",
        "address_string": "红旗西街",
        "first_name": "秀英",
        "last_name": "张",
        "phone": "13812345678",
        "locale": "en",
    }


# Bytes that are not UTF-8: a query string as a WSGI server passes it (one character per
# byte), raw or %XX-escaped; read as U+FFFD (caseapp.web.parsing.Request), never a 500.
DAMAGED_QUERY = "lang=\xff\xfe&q=%E5%85%AC\x80\xff&status=%FF&page=\xe4"


def test_bytes_that_are_not_utf8_in_any_query_string_are_no_server_error(
    app: Flask, client: FlaskClient, supervisor_client: FlaskClient
) -> None:
    """Werkzeug's own reading raises UnicodeDecodeError on a raw byte that is not UTF-8:
    a 500 on every address, the error page's too (it reads ``lang``), under a WSGI server
    that passes the bytes on as they came."""
    urls = sorted(
        {
            rule_url(rule, id_value="1")
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ())
        }
    )
    assert len(urls) > 50
    before = table_fingerprint(app)  # the security log's refusals (403, 404) aside
    for who, browser in (("anonymous", client), ("supervisor", supervisor_client)):
        for url in urls:
            response = browser.get(url, environ_overrides={"QUERY_STRING": DAMAGED_QUERY})
            assert response.status_code < 500, (who, url, response.status_code)
    assert table_fingerprint(app) == before


@pytest.mark.parametrize(
    "description",
    [b"%E5%85%AC%80%FF\xe8\xb7\xaf\xe7\x81\xaf", b"\xe8\xb7\xaf\xe7\x81\xaf\x80\xff\xe4\xb8"],
    ids=["escaped", "raw"],
)
def test_text_that_is_not_utf8_in_a_url_encoded_body_is_refused_on_its_field(
    app: Flask, client: FlaskClient, demo_base: None, description: bytes
) -> None:
    """An Open311 filing (URL-encoded) whose description holds bytes that are not UTF-8:
    refused for that field, nothing stored. Werkzeug kept an escaped byte as the text
    ``%FF`` (filed as typed) and read a body with a raw one as an empty form."""
    body = urlencode(api_filing(app)).encode() + b"&description=" + description
    with nothing_written(app):
        response = client.post(
            "/open311/v2/requests.json", data=body, content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == 400
    reasons = [error["description"] for error in response.get_json()]
    assert any(reason.startswith("description: ") for reason in reasons), reasons


def test_a_control_character_in_an_action_text_is_a_field_error(
    app: Flask, handler_client: FlaskClient
) -> None:
    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS).number
    handler_client.get("/staff/queue?lang=en")
    for text in ("已联系\x01市民", "\x1b[31m", "a\x85b"):
        with nothing_written(app):
            response = act(handler_client, number, "note", {"text": text})
        assert response.status_code == 400
        assert "Contains characters that are not allowed." in response.get_data(as_text=True)


# Filing dates: from FILING_EARLIEST_DATE (2000-01-01) to today.


def _today() -> date:
    return datetime.now(CITY).date()


@pytest.mark.parametrize(
    ("received", "message"),
    [
        ("0001-01-01", "Enter a date from 1900-01-01 to 2199-12-31."),
        ("1999-12-31", "The date received cannot be before 2000-01-01."),
        ("9999-12-31", "Enter a date from 1900-01-01 to 2199-12-31."),
        ("TOMORROW", "The date received cannot be in the future."),
    ],
)
def test_a_filing_date_out_of_range_is_a_field_error(
    app: Flask, intake_client: FlaskClient, received: str, message: str
) -> None:
    from tests.web.staff.test_intake_on_behalf import URL, field_error, filing

    if received == "TOMORROW":
        received = (_today() + timedelta(days=1)).isoformat()
    intake_client.get(URL + "?lang=en")
    response = intake_client.post(
        URL, data=filing(intake_client, received_at=received, channel="letter")
    )
    assert response.status_code == 400
    assert message in field_error(response.get_data(as_text=True), "received_at")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_a_letter_of_the_first_day_allowed_is_filed(app: Flask, intake_client: FlaskClient) -> None:
    from tests.web.staff.test_intake_on_behalf import URL, filing

    response = intake_client.post(
        URL, data=filing(intake_client, received_at="2000-01-01", channel="letter")
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Case.number)).startswith("YC2000-")


def test_inbox_marking_still_works(app: Flask, handler_client: FlaskClient) -> None:
    """The bounded converter still reads real ids."""
    from caseapp.services.casework import supervision
    from tests.factories import staff

    with app.app_context():
        case = case_in(CaseStatus.IN_PROGRESS)
        supervision.urge_case(case, staff("supervisor"), "请加快。", version=None)
        message_id = db.session.scalar(sa.select(InboxMessage.id).order_by(InboxMessage.id))
    token = csrf_token(handler_client, "/staff/inbox")
    response = handler_client.post(f"/staff/inbox/{message_id}/read", data={"csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("description", "reason"),
    [
        ("\u200b\u200b\u200b\n红旗西街路灯不亮。", "no letters or digits"),
        ("\u202e路灯不亮\n红旗西街路灯不亮。", "not allowed"),
    ],
)
def test_the_api_refuses_an_invisible_or_reversed_title(
    app: Flask, client: FlaskClient, demo_base: None, description: str, reason: str
) -> None:
    """The API files through the web form's check: its title is the description's first
    line."""
    data = {**api_filing(app), "description": description}
    with nothing_written(app):
        response = client.post("/open311/v2/requests.json", data=data)
    assert response.status_code == 400
    assert any(reason in error["description"] for error in response.get_json())


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/staff/queue?status=%20", 200),  # the filters show the error
        ("/staff/queue?kind=%20&channel=%20&deadline=%20&legacy=%20", 200),
        ("/staff/queue.csv?status=%20", 400),
        ("/supervisor/scorecards?department=%20", 400),
        ("/supervisor/scorecards.xlsx?department=%20", 400),
    ],
)
def test_a_blank_choice_is_refused_not_read(
    supervisor_client: FlaskClient, url: str, status: int
) -> None:
    """Found by the property test: a blank passed Optional() and the select's own check,
    and reached CaseStatus(" ") and int(" ")."""
    supervisor_client.get("/staff/queue?lang=en")
    response = supervisor_client.get(url)
    assert response.status_code == status
    if status == 200:
        assert "Not a valid choice" in response.get_data(as_text=True)


def test_a_blank_petition_decision_is_a_field_error(
    app: Flask, handler_client: FlaskClient
) -> None:
    from caseapp.models.enums import CaseKind

    with app.app_context():
        number = case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.PETITION).number
    handler_client.get("/staff/queue?lang=en")
    with nothing_written(app):
        response = act(
            handler_client,
            number,
            "resolve",
            {"text": "经调查，诉求不成立。", "confirm_public": "y", "decision": " "},
        )
    assert response.status_code == 400
    assert re.search(
        r'id="composer-decision-error"[^>]*>\s*Not a valid choice', response.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("/requests/new?category=bus-stop", "application/x-www-form-urlencoded"),
        ("/staff/login", "application/x-www-form-urlencoded"),
        ("/open311/v2/requests.json", "application/x-www-form-urlencoded"),
        ("/track", "text/plain"),
    ],
)
def test_a_body_without_files_over_its_limit_is_a_413_and_unread(
    app: Flask, client: FlaskClient, demo_base: None, url: str, kind: str
) -> None:
    """A body that is not multipart may be MAX_FORM_BODY (1 MiB) at most: a URL-encoded
    body of 55 MB was read and parsed whole (the limit for five photos)."""
    body = b"description=" + b"a" * (app.config["MAX_FORM_BODY"] + 1)
    with nothing_written(app):
        response = client.post(url, data=body, content_type=kind)
    assert response.status_code == 413
    # A form of the right size is read as before.
    small = client.post("/staff/login", data={"username": "x", "password": "y"})
    assert small.status_code != 413
