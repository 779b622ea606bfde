"""The audit page: newest first, filtered by entity, each change as before → after."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.services.admin import audit
from tests.factories import user


def test_the_audit_page_shows_changes_newest_first_and_filters(
    app: Flask, admin_client: FlaskClient
) -> None:
    with app.app_context():
        admin = user("admin")
        audit.record(admin, "department", 7, "update", {"name_zh": "旧名称"}, {"name_zh": "新名称"})
        db.session.commit()
        audit.record(admin, "user", 3, "deactivate", {"active": True}, {"active": False})
        db.session.commit()
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert page.index("deactivate") < page.index("旧名称")
    assert "<del>旧名称</del> → <ins>新名称</ins>" in page
    assert 'class="table-scroll" tabindex="0" role="region"' in page and 'class="stack"' in page
    only_users = admin_client.get("/admin/audit?entity=user").get_data(as_text=True)
    assert "deactivate" in only_users and "旧名称" not in only_users
    assert admin_client.get("/admin/audit?entity=nothing-here").status_code == 200
