"""The departments pages: the tree, create, edit without cycles, retire and bring back,
400 with field errors, and the audit page showing each change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import AuditLog, Department
from tests.conftest import csrf_token
from tests.factories import department


def ids(app: Flask, *codes: str) -> list[int]:
    with app.app_context():
        return [department(code).id for code in codes]


def test_the_tree_shows_children_under_their_parent(admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/departments?lang=en").get_data(as_text=True)
    assert page.index("Yanhu District Government") < page.index("Beicheng Street Office")
    assert 'class="table-scroll" tabindex="0" role="region"' in page and 'class="stack"' in page


def test_a_department_is_added_and_audited(app: Flask, admin_client: FlaskClient) -> None:
    [district] = ids(app, "yhq")
    token = csrf_token(admin_client, "/admin/departments/new")
    data = {"code": "yhq-zc", "name_zh": "中城街道办事处", "name_en": "Zhongcheng Street Office",
            "parent": str(district), "csrf_token": token}  # fmt: skip
    response = admin_client.post("/admin/departments/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        assert department("yhq-zc").parent_id == district
    audit_page = admin_client.get("/admin/audit?entity=department").get_data(as_text=True)
    assert "中城街道办事处" in audit_page and "yhq-zc" in audit_page


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"code": "zjj"}, 400),
        ({"code": "Bad Code"}, 400),
        ({"name_zh": ""}, 400),
        ({"parent": "abc"}, 400),
        ({"parent": "99999"}, 400),
    ],
)
def test_bad_departments_are_a_400(
    app: Flask, admin_client: FlaskClient, changes: dict[str, str], status: int
) -> None:
    token = csrf_token(admin_client, "/admin/departments/new")
    data = {"code": "new-dept", "name_zh": "新部门", "name_en": "New", "parent": "",
            "csrf_token": token, **changes}  # fmt: skip
    response = admin_client.post("/admin/departments/new", data=data)
    assert response.status_code == status
    assert "field-error" in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Department.id).where(Department.code == "new-dept")) is None
        )


def test_a_department_is_not_moved_under_its_own_child(
    app: Flask, admin_client: FlaskClient
) -> None:
    district, office = ids(app, "yhq", "yhq-bc")
    url = f"/admin/departments/{district}"
    page = admin_client.get(url).get_data(as_text=True)
    assert f'value="{office}"' not in page  # not even offered
    token = csrf_token(admin_client, url)
    data = {"name_zh": "盐湖区政府", "name_en": "Yanhu", "parent": str(office), "csrf_token": token}
    response = admin_client.post(url, data=data)
    assert response.status_code == 400
    assert "field-error" in response.get_data(as_text=True)
    with app.app_context():
        assert department("yhq").parent_id is None


def test_retire_hides_the_department_from_choices_and_unretire_brings_it_back(
    app: Flask, admin_client: FlaskClient
) -> None:
    [sports] = ids(app, "tyj")
    token = csrf_token(admin_client, "/admin/departments")
    assert admin_client.get(f"/admin/departments/{sports}/retire").status_code == 405
    assert admin_client.post(f"/admin/departments/{sports}/retire").status_code == 400  # CSRF
    response = admin_client.post(f"/admin/departments/{sports}/retire", data={"csrf_token": token})
    assert response.status_code == 302
    new_user_page = admin_client.get("/admin/users/new").get_data(as_text=True)
    assert f'value="{sports}"' not in new_user_page
    again = admin_client.post(f"/admin/departments/{sports}/retire", data={"csrf_token": token})
    assert again.status_code == 400
    back = admin_client.post(f"/admin/departments/{sports}/unretire", data={"csrf_token": token})
    assert back.status_code == 302
    assert f'value="{sports}"' in admin_client.get("/admin/users/new").get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == ["retire", "unretire"]


def test_retiring_a_parent_with_children_is_a_400(app: Flask, admin_client: FlaskClient) -> None:
    [district] = ids(app, "yhq")
    token = csrf_token(admin_client, "/admin/departments")
    response = admin_client.post(
        f"/admin/departments/{district}/retire", data={"csrf_token": token}
    )
    assert response.status_code == 400
    assert "error-summary" in response.get_data(as_text=True)
