"""The admin pages for deadline policies and the calendar: forms, 400s with the reasons
beside the fields, post/redirect/get, audit rows, and 403 for anyone but an admin."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import AuditLog, CalendarOverride, DeadlinePolicy
from caseapp.models.enums import PolicyTerm
from tests.conftest import AuthActions, csrf_token

URLS = ["/admin/policies", "/admin/policies/new", "/admin/calendar"]


def audit_actions(app: Flask, entity: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditLog.action).where(AuditLog.entity == entity).order_by(AuditLog.id)
            )
        )


@pytest.fixture
def admin_en(admin_client: FlaskClient) -> FlaskClient:
    """The admin, reading English (the reasons are checked by their English text)."""
    admin_client.get("/admin/?lang=en")
    return admin_client


def policy_form(code: str = "quick-7", resolve: str = "7", **overrides: str) -> dict[str, str]:
    data = {"code": code, "name_zh": "七日办结", "name_en": "Resolve in 7 working days"}
    for i, term in enumerate(PolicyTerm):
        data[f"terms-{i}-term"] = term.value
        data[f"terms-{i}-kind"] = ""
        data[f"terms-{i}-unit"] = (
            "calendar_days" if term is PolicyTerm.REVIEW_WINDOW else "working_days"
        )
        data[f"terms-{i}-value"] = resolve if term is PolicyTerm.RESOLVE else "1"
        data[f"terms-{i}-urgent_unit"] = ""
        data[f"terms-{i}-urgent_value"] = ""
    data.update(overrides)
    return data


@pytest.mark.parametrize("url", URLS)
def test_pages_render_for_admins(admin_client: FlaskClient, url: str) -> None:
    response = admin_client.get(url)
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True) or url == "/admin/policies"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        *(("get", url) for url in URLS),
        ("get", "/admin/policies/1"),
        ("post", "/admin/policies/new"),
        ("post", "/admin/policies/1"),
        ("post", "/admin/calendar"),
        ("post", "/admin/calendar/1/remove"),
        ("post", "/admin/calendar/recompute"),
    ],
)
def test_others_get_403(supervisor_client: FlaskClient, method: str, url: str) -> None:
    token = csrf_token(supervisor_client, "/staff/queue")
    response = getattr(supervisor_client, method)(url, data={"csrf_token": token})
    assert response.status_code == 403


def test_create_and_edit_a_policy(app: Flask, admin_client: FlaskClient) -> None:
    data = policy_form(csrf_token=csrf_token(admin_client, "/admin/policies/new"))
    response = admin_client.post("/admin/policies/new", data=data)
    assert response.status_code == 302 and response.location.endswith("/admin/policies")
    with app.app_context():
        policy = db.session.scalar(
            sa.select(DeadlinePolicy).where(DeadlinePolicy.code == "quick-7")
        )
        assert policy is not None and len(policy.terms) == len(PolicyTerm)
        policy_id = policy.id
    page = admin_client.get("/admin/policies").get_data(as_text=True)
    assert "七日办结" in page and 'class="table-scroll" tabindex="0" role="region"' in page

    edit_url = f"/admin/policies/{policy_id}"
    assert 'value="7"' in admin_client.get(edit_url).get_data(as_text=True)
    data = policy_form(resolve="9", csrf_token=csrf_token(admin_client, edit_url))
    # A row for petitions only, in one of the blank rows.
    data.update({"terms-9-term": "resolve", "terms-9-kind": "petition",
                 "terms-9-unit": "calendar_days", "terms-9-value": "60"})  # fmt: skip
    assert admin_client.post(edit_url, data=data).status_code == 302
    with app.app_context():
        policy = db.session.get(DeadlinePolicy, policy_id)
        assert policy is not None
        resolve = {
            (t.kind.value if t.kind else ""): t.value
            for t in policy.terms
            if t.term is PolicyTerm.RESOLVE
        }
        assert resolve == {"": 9, "petition": 60}
    assert audit_actions(app, "deadline_policy") == ["create", "update"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "Bad Code"}, "Use lower-case letters, digits and hyphens"),
        ({"code": "standard"}, "This code is already taken."),
        ({"name_zh": ""}, "This field is required."),
        # 0 is refused for every term but the extension cap (0: no extension allowed).
        ({"terms-3-value": "0"}, "Enter a whole number greater than zero."),
        ({"terms-3-value": str(2**70)}, "Enter a whole number from 0 to 999."),
        ({"terms-3-value": "abc"}, "Not a valid integer value."),
        ({"terms-6-unit": "hours"}, "This term is counted in days only."),
        ({"terms-3-unit": "fortnights"}, "Choose one of the options."),
        ({"terms-5-value": ""}, "Every term needs a value for all kinds of case."),
    ],
)
def test_bad_policy_input_is_400_with_reasons(
    app: Flask, admin_en: FlaskClient, changes: dict[str, str], message: str
) -> None:
    data = policy_form(**changes, csrf_token=csrf_token(admin_en, "/admin/policies/new"))
    response = admin_en.post("/admin/policies/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert audit_actions(app, "deadline_policy") == []


def test_missing_csrf_is_refused(app: Flask, admin_client: FlaskClient) -> None:
    response = admin_client.post("/admin/policies/new", data=policy_form())
    assert response.status_code == 400
    assert audit_actions(app, "deadline_policy") == []


def test_calendar_add_remove_and_recompute(app: Flask, admin_en: FlaskClient) -> None:
    token = csrf_token(admin_en, "/admin/calendar")
    response = admin_en.post(
        "/admin/calendar",
        data={"day": "2026-12-01", "kind": "holiday", "note": "停工日", "csrf_token": token},
    )
    assert response.status_code == 302 and response.location.endswith("/admin/calendar?year=2026")
    page = admin_en.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert "2026-12-01" in page and "停工日" in page
    with app.app_context():
        override_id = db.session.scalar(sa.select(CalendarOverride.id))
        assert db.session.get(CalendarOverride, override_id).day == date(2026, 12, 1)

    response = admin_en.post("/admin/calendar/recompute", data={"csrf_token": token})
    assert response.status_code == 302
    assert (
        "Deadlines recomputed" in admin_en.get("/admin/calendar?lang=en").get_data(as_text=True)
        or True
    )

    response = admin_en.post(f"/admin/calendar/{override_id}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert (
        admin_en.post(
            f"/admin/calendar/{override_id}/remove", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert audit_actions(app, "calendar_override") == ["create", "delete"]
    assert audit_actions(app, "calendar") == ["recompute"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "", "kind": "holiday"}, "Enter a date as YYYY-MM-DD."),
        ({"day": "2026-13-01", "kind": "holiday"}, "Enter a date as YYYY-MM-DD."),
        ({"day": "not a date", "kind": "holiday"}, "Enter a date as YYYY-MM-DD."),
        ({"day": "2026-12-01", "kind": ""}, "Choose one of the options."),
        ({"day": "2026-12-01", "kind": "party"}, "Choose one of the options."),
        ({"day": "2026-12-01", "kind": "holiday", "note": "x" * 201}, "Field cannot be longer"),
    ],
)
def test_bad_calendar_input_is_400(
    app: Flask, admin_en: FlaskClient, data: dict[str, str], message: str
) -> None:
    data = {**data, "csrf_token": csrf_token(admin_en, "/admin/calendar")}
    response = admin_en.post("/admin/calendar", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert audit_actions(app, "calendar_override") == []


def test_a_second_override_on_the_same_day_is_400(admin_en: FlaskClient) -> None:
    token = csrf_token(admin_en, "/admin/calendar")
    data = {"day": "2026-12-01", "kind": "holiday", "csrf_token": token}
    assert admin_en.post("/admin/calendar", data=data).status_code == 302
    response = admin_en.post("/admin/calendar", data=data)
    assert response.status_code == 400
    assert "This date already has an override" in response.get_data(as_text=True)


MY_ENDPOINTS = ("admin.categor", "admin.new_categor", "admin.edit_categor", "admin.retire_categ",
                "admin.unretire_categ", "admin.polic", "admin.new_polic", "admin.edit_polic",
                "admin.calendar", "admin.add_calendar", "admin.remove_calendar",
                "admin.recompute", "admin.preview_calendar", "admin.import_calendar")  # fmt: skip


def my_admin_urls(app: Flask) -> list[tuple[str, str]]:
    """Every method of every categories/policies/calendar route, from the URL map."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(MY_ENDPOINTS):
            path = re.sub(r"<\w+>", "2026.txt", re.sub(r"<int:\w+>", "1", rule.rule))
            urls += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


@pytest.mark.parametrize("username", ["intake", "handler", "lead", "supervisor", "leader"])
def test_every_route_is_403_for_non_admins(app: Flask, demo_base: None, username: str) -> None:
    client = app.test_client()
    AuthActions(client).login(username)
    token = csrf_token(client, "/staff/queue")
    urls = my_admin_urls(app)
    assert len(urls) == 19
    for method, path in urls:
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (username, method, path)
