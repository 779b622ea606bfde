"""Filing a request for a citizen (帮办代办): at the window, by phone, by letter; the
clerk recorded as first-responsible; the rules of staff filing shown on their fields."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import Case, CaseParticipant
from caseapp.models.enums import Channel, NotifyBy, Priority
from tests.conftest import csrf_token
from tests.factories import user

URL = "/staff/cases/new"
CITY = ZoneInfo("Asia/Shanghai")


def local_today() -> date:
    return datetime.now(CITY).date()


def filing(client: FlaskClient, **fields: object) -> dict[str, object]:
    """A complete window filing, with ``fields`` changed."""
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, URL),
        "channel": "window",
        "received_at": local_today().isoformat(),
        "kind": "help",
        "category": "road-damage",
        "priority": "normal",
        "title": "红旗西街人行道破损",
        "description": "红旗西街人行道砖块松动，老人容易绊倒。",
        "public_location": "红旗西街",
        "address": "红旗西街12号门前",
        "citizen_name": "张秀英",
        "citizen_phone": "13812345678",
        "citizen_postal_address": "",
        "citizen_email": "",
        "language": "zh_CN",
        "notify_by": "sms",
    }
    data.update(fields)
    return data


def only_case(app: Flask) -> Case:
    cases = db.session.scalars(sa.select(Case)).all()
    assert len(cases) == 1
    return cases[0]


def count_cases() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Case)) or 0


def field_error(page: str, name: str) -> str:
    """The error text shown beside the field ``name`` ('' when there is none)."""
    found = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', page, re.S)
    return found.group(1) if found else ""


def test_the_form_offers_the_staff_channels_and_categories_by_group(
    intake_client: FlaskClient,
) -> None:
    page = intake_client.get(URL + "?lang=en").get_data(as_text=True)
    assert re.findall(r'name="channel"[^>]*value="(\w+)"', page) == [
        "window",
        "phone",
        "letter",
        "visit",
    ]
    assert '<optgroup label="Transport">' in page
    assert 'value="road-damage"' in page
    assert f'value="{local_today().isoformat()}"' in page  # today by default
    assert 'name="consent_privacy"' not in page  # the clerk files; no box for staff


@pytest.mark.parametrize(
    ("channel", "phone", "postal", "notify_by"),
    [
        ("window", "13812345678", "", "sms"),
        ("phone", "0359-2021234", "", "none"),  # a landline is enough for staff
        ("visit", "", "运城市盐湖区红旗西街12号", "none"),  # no phone, a postal address
    ],
)
def test_staff_file_from_the_window_phone_or_a_visit(
    app: Flask,
    intake_client: FlaskClient,
    channel: str,
    phone: str,
    postal: str,
    notify_by: str,
) -> None:
    response = intake_client.post(
        URL,
        data=filing(
            intake_client,
            channel=channel,
            citizen_phone=phone,
            citizen_postal_address=postal,
            notify_by=notify_by,
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        case = only_case(app)
        assert response.headers["Location"] == f"/staff/cases/{case.number}"
        assert case.channel is Channel(channel)
        assert case.citizen_phone == phone.replace("-", "")
        assert case.citizen_postal_address == postal
        assert case.notify_by is NotifyBy(notify_by)
        assert case.consent_privacy_at is None
        assert case.priority is Priority.NORMAL


def test_the_clerk_is_recorded_as_first_responsible(app: Flask, intake_client: FlaskClient) -> None:
    intake_client.post(URL, data=filing(intake_client, priority="urgent"))
    with app.app_context():
        case = only_case(app)
        clerk = user("intake")
        assert case.first_responsible_id == clerk.id
        assert case.created_by_id == clerk.id
        assert case.priority is Priority.URGENT
        assert db.session.get(CaseParticipant, (case.id, clerk.id)) is not None


def test_a_supervisor_files_too(app: Flask, supervisor_client: FlaskClient) -> None:
    response = supervisor_client.post(URL, data=filing(supervisor_client))
    assert response.status_code == 302
    with app.app_context():
        assert only_case(app).first_responsible_id == user("supervisor").id


def test_a_letter_keeps_the_day_it_arrived(app: Flask, intake_client: FlaskClient) -> None:
    arrived = local_today() - timedelta(days=3)
    response = intake_client.post(
        URL,
        data=filing(
            intake_client,
            channel="letter",
            received_at=arrived.isoformat(),
            citizen_phone="",
            citizen_postal_address="运城市盐湖区红旗西街12号",
            notify_by="none",
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        case = only_case(app)
        received = case.received_at.astimezone(CITY)
        assert (received.date(), received.hour) == (arrived, 9)
        assert case.channel is Channel.LETTER


def test_filed_today_the_clock_starts_now(app: Flask, intake_client: FlaskClient) -> None:
    before = datetime.now(UTC)
    intake_client.post(URL, data=filing(intake_client))
    with app.app_context():
        assert only_case(app).received_at >= before - timedelta(seconds=1)


def test_the_citizen_s_language_is_kept(app: Flask, intake_client: FlaskClient) -> None:
    intake_client.post(URL, data=filing(intake_client, language="en"))
    with app.app_context():
        assert only_case(app).language == "en"


def test_an_anonymous_report_where_the_category_allows_it(
    app: Flask, intake_client: FlaskClient
) -> None:
    response = intake_client.post(
        URL,
        data=filing(
            intake_client,
            kind="report",
            category="fraud",
            anonymous="y",
            citizen_name="",
            citizen_phone="",
            notify_by="none",
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        case = only_case(app)
        assert case.anonymous and case.identity_confidential and case.citizen_name == ""


# Every refusal: shown beside its field (English page), and nothing saved.
REFUSALS = [
    pytest.param(
        {"received_at": "FUTURE", "channel": "letter"},
        "received_at",
        "The date received cannot be in the future.",
        id="future-date",
    ),
    pytest.param(
        {"citizen_phone": "", "citizen_postal_address": "", "notify_by": "none"},
        "citizen_phone",
        "Give a phone number or a postal address.",
        id="no-phone-no-address",
    ),
    pytest.param(
        {"citizen_phone": "12345"},
        "citizen_phone",
        "Not a valid Chinese phone number.",
        id="bad-phone",
    ),
    pytest.param(
        {"citizen_phone": "0359-2021234", "notify_by": "sms"},
        "notify_by",
        "SMS notices need a mobile number.",
        id="sms-to-a-landline",
    ),
    pytest.param({"category": ""}, "category", "Choose a category.", id="no-category"),
    pytest.param({"title": ""}, "title", "This field is required.", id="no-title"),
    pytest.param(
        {"anonymous": "y", "citizen_name": ""},
        "anonymous",
        "This category does not take anonymous requests.",
        id="anonymous-not-allowed",
    ),
    pytest.param({"channel": "web"}, "channel", "Not a valid choice.", id="web-channel"),
]


@pytest.mark.parametrize(("fields", "field", "message"), REFUSALS)
def test_a_refused_filing_shows_why_on_its_field_and_saves_nothing(
    app: Flask, intake_client: FlaskClient, fields: dict[str, str], field: str, message: str
) -> None:
    intake_client.get(URL + "?lang=en")
    if fields.get("received_at") == "FUTURE":
        fields = {**fields, "received_at": (local_today() + timedelta(days=1)).isoformat()}
    response = intake_client.post(URL, data=filing(intake_client, **fields))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in field_error(page, field)
    assert 'class="error-summary"' in page
    assert "红旗西街人行道砖块松动" in page  # the typed text is kept
    with app.app_context():
        assert count_cases() == 0


def test_every_mistake_shows_at_once(app: Flask, intake_client: FlaskClient) -> None:
    intake_client.get(URL + "?lang=en")
    response = intake_client.post(
        URL,
        data=filing(
            intake_client,
            title="",
            citizen_phone="",
            received_at=(local_today() + timedelta(days=2)).isoformat(),
        ),
    )
    page = response.get_data(as_text=True)
    assert field_error(page, "title") and field_error(page, "citizen_phone")
    assert field_error(page, "received_at")


@pytest.mark.parametrize("client_fixture", ["handler_client", "admin_client"])
def test_other_roles_may_not_file(
    app: Flask, request: pytest.FixtureRequest, client_fixture: str
) -> None:
    client: FlaskClient = request.getfixturevalue(client_fixture)
    assert client.get(URL).status_code == 403
    token = csrf_token(client, "/")  # the sign-out form of every page
    data = {"csrf_token": token, "channel": "window", "title": "x", "description": "y"}
    assert client.post(URL, data=data).status_code == 403
    with app.app_context():
        assert count_cases() == 0


def test_signing_in_is_needed(client: FlaskClient) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
