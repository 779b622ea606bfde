"""The admin's calendar page (issue 16, finding 8): importing a year's official schedule
(upload, preview, confirm), refusing an incomplete one, the deadlines counted on the
fallback, and the warning on the admin, supervisor and staff pages across New Year."""

from __future__ import annotations

import io
import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import CalendarOverride, CalendarYear
from caseapp.models.enums import CaseStatus
from caseapp.services.casework import calendar_years
from tests import factories
from tests.conftest import AuthActions, csrf_token

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEST_2027 = "2027-test-example.txt"
WARNING = "The working-day calendar does not know the holidays of 2027 yet"
CONTENT_RE = re.compile(r'name="content"[^>]*value="([^"]+)"')


def example(name: str = TEST_2027) -> bytes:
    return (calendar_years.EXAMPLES / name).read_bytes()


@pytest.fixture
def admin_en(admin_client: FlaskClient) -> FlaskClient:
    admin_client.get("/admin/?lang=en")
    return admin_client


def upload(client: FlaskClient, data: bytes, name: str = TEST_2027):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/admin/calendar")
    return client.post(
        "/admin/calendar/import",
        data={"csrf_token": token, "schedule": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def confirm(client: FlaskClient, preview_page: str):  # type: ignore[no-untyped-def]
    match = CONTENT_RE.search(preview_page)
    assert match, "no confirm form on the preview"
    token = csrf_token(client, "/admin/calendar")
    return client.post(
        "/admin/calendar/import/confirm",
        data={"csrf_token": token, "content": unescape(match.group(1)), "filename": TEST_2027},
    )


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_import_previews_then_applies_the_schedule(app: Flask, admin_en: FlaskClient) -> None:
    response = upload(admin_en, example())
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "TEST EXAMPLE" in page and "春节" in page and "2027-02-05" in page
    assert "Import the schedule of 2027" in page
    with app.app_context():
        assert count(CalendarYear) == 0 and count(CalendarOverride) == 0  # a preview only

    response = confirm(admin_en, page)
    assert response.status_code == 302
    assert response.location.endswith("/admin/calendar?year=2027")
    page = admin_en.get(response.location).get_data(as_text=True)
    assert "The holiday schedule of 2027 was imported: 33 days off and 6 make-up" in page
    assert "Deadlines recomputed" in page
    assert "This is a TEST EXAMPLE, not the official schedule" in page
    assert WARNING not in page
    with app.app_context():
        assert db.session.get(CalendarYear, 2027) is not None
        assert count(CalendarOverride) == 39


def test_an_incomplete_schedule_is_refused_with_a_clear_message(
    app: Flask, admin_en: FlaskClient
) -> None:
    text = example().decode().replace("元旦    2027-01-01..2027-01-03  workdays none\n", "")
    response = upload(admin_en, text.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported" in page
    assert "元旦 has no period: the schedule is not complete." in page
    assert 'name="content"' not in page  # no confirm button
    # A file with no entries at all is not complete either.
    response = upload(admin_en, b"year: 2027\nsource: x\nstatus: test-example\n")
    assert response.status_code == 400
    assert "The file gives no holiday period: it is not complete." in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert count(CalendarYear) == 0 and count(CalendarOverride) == 0


def test_a_confirm_with_a_changed_file_is_checked_again(app: Flask, admin_en: FlaskClient) -> None:
    token = csrf_token(admin_en, "/admin/calendar")
    response = admin_en.post(
        "/admin/calendar/import/confirm",
        data={"csrf_token": token, "content": "eWVhcjogMjAyNwo=", "filename": "x.txt"},
    )
    assert response.status_code == 400
    assert "The file gives no holiday period" in response.get_data(as_text=True)
    response = admin_en.post(
        "/admin/calendar/import/confirm", data={"csrf_token": token, "content": "not base64!"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert count(CalendarYear) == 0


def test_the_examples_can_be_downloaded(admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/calendar").get_data(as_text=True)
    for name in ("2025.txt", "2026.txt", TEST_2027):
        assert f"/admin/calendar/examples/{name}" in page
    response = admin_client.get("/admin/calendar/examples/2026.txt")
    assert response.status_code == 200 and response.data == example("2026.txt")
    assert admin_client.get("/admin/calendar/examples/secret.py").status_code == 404


def test_fallback_deadlines_are_listed_for_admins(app: Flask, admin_en: FlaskClient) -> None:
    with app.app_context():
        case = factories.case_in(
            CaseStatus.IN_PROGRESS,
            category="pedestrian-bridge",
            now=datetime(2026, 12, 28, 9, tzinfo=SHANGHAI),
        )
        number = case.number
    page = admin_en.get("/admin/calendar").get_data(as_text=True)
    listed = page[page.index('id="fallback-title"') :]
    assert number in listed and "Resolve" in listed
    # The staff case page marks the deadline too.
    handler = app.test_client()
    AuthActions(handler).login("handler")
    staff_page = handler.get(f"/staff/cases/{number}?lang=en").get_data(as_text=True)
    assert "counted Monday to Friday: check" in staff_page

    response = confirm(admin_en, upload(admin_en, example()).get_data(as_text=True))
    assert response.status_code == 302
    page = admin_en.get("/admin/calendar").get_data(as_text=True)
    assert number not in page[page.index('id="fallback-title"') :]
    assert "No running deadline was counted on the fallback." in page
    # The case's timeline says the deadline moved, from when to when.
    staff_page = handler.get(f"/staff/cases/{number}?lang=en").get_data(as_text=True)
    assert "Deadline recounted with the holiday schedule" in staff_page
    assert "Resolve: due 2027-01-04 24:00, now 2027-01-05 24:00" in staff_page
    assert "counted Monday to Friday: check" not in staff_page


def test_a_schedule_day_cannot_be_removed_by_hand(app: Flask, admin_en: FlaskClient) -> None:
    confirm(admin_en, upload(admin_en, example()).get_data(as_text=True))
    with app.app_context():
        row_id = db.session.scalar(sa.select(CalendarOverride.id).limit(1))
    token = csrf_token(admin_en, "/admin/calendar")
    response = admin_en.post(f"/admin/calendar/{row_id}/remove", data={"csrf_token": token})
    assert response.status_code == 400
    assert "import a corrected schedule to change it" in response.get_data(as_text=True)
    with app.app_context():
        assert count(CalendarOverride) == 39


# --- the warning on the three faces across New Year -------------------------------------------

FACES = [
    ("admin", "/admin/"),
    ("supervisor", "/supervisor/escalations"),
    ("handler", "/staff/queue"),
]


def _page(app: Flask, username: str, url: str) -> str:
    client = app.test_client()  # signed in at the travelled time (idle timeout)
    AuthActions(client).login(username)
    response = client.get(url + "?lang=en")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_warning_on_every_face_from_december_until_2027_is_imported(
    app: Flask, demo_base: None
) -> None:
    def shows(when: datetime) -> list[bool]:
        with time_machine.travel(when, tick=False):
            return [WARNING in _page(app, user, url) for user, url in FACES]

    assert shows(datetime(2026, 11, 30, 12, tzinfo=SHANGHAI)) == [False] * 3
    for day in (28, 29, 30, 31):
        assert shows(datetime(2026, 12, day, 9, tzinfo=SHANGHAI)) == [True] * 3
    for day in (1, 4, 5):  # it does not stop on 1 January
        assert shows(datetime(2027, 1, day, 9, tzinfo=SHANGHAI)) == [True] * 3
    with time_machine.travel(datetime(2027, 1, 5, 10, tzinfo=SHANGHAI), tick=False):
        client = app.test_client()
        AuthActions(client).login("admin")
        assert confirm(client, upload(client, example()).get_data(as_text=True)).status_code == 302
    assert shows(datetime(2027, 1, 5, 11, tzinfo=SHANGHAI)) == [False] * 3


def test_the_warning_names_every_uncovered_year_a_clock_reaches(
    app: Flask, demo_base: None
) -> None:
    with app.app_context():
        # A legacy issue of 40 working days dispatched in mid-November reaches 2027.
        factories.case_in(
            CaseStatus.IN_PROGRESS,
            category="resettlement",
            now=datetime(2026, 11, 16, 9, tzinfo=SHANGHAI),
        )
    with time_machine.travel(datetime(2026, 11, 20, 9, tzinfo=SHANGHAI), tick=False):
        for user, url in FACES:
            assert WARNING in _page(app, user, url)
