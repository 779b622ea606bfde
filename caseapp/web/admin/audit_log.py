"""Admin: the audit log — the newest changes made in the admin console, with who made
them and what each changed (before → after); and the staff's searches by a citizen's
phone number (the number masked, the cases found)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from caseapp.models import AuditLog
from caseapp.services.admin import audit
from caseapp.services.pages.queue import PHONE_SEARCH
from caseapp.web.admin import bp

LIMIT = 200
# Names for the entities the admin areas write; an entity not named here shows as is.
ENTITY_LABELS = {
    "user": _l("Staff accounts"),
    "department": _l("Departments"),
    "category": _l("Categories"),
    "policy": _l("Deadline policies"),
    "calendar": _l("Working-day calendar"),
    "reply_template": _l("Reply templates"),
    "api_key": _l("API keys"),
    "setting": _l("Settings"),
    "outbox": _l("Notices"),
    PHONE_SEARCH: _l("Searches by phone number"),
    audit.SECURITY: _l("Refused sign-ins and access"),
    audit.PERSONAL_DATA: _l("Citizens' contact details shown"),
}


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def changes(row: AuditLog) -> list[Change]:
    """The fields that differ between before and after (every field of a creation)."""
    before = row.before or {}
    after = row.after or {}
    names = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return [
        Change(name, _shown(before.get(name)), _shown(after.get(name)))
        for name in names
        if before.get(name) != after.get(name)
    ]


@bp.route("/audit")
def audit_log() -> str:
    entity = request.args.get("entity", "").strip()[:40] or None
    rows = audit.recent(limit=LIMIT, entity=entity)
    return render_template(
        "admin/audit.html", rows=rows, changes=changes, entity=entity,
        entity_labels=ENTITY_LABELS, limit=LIMIT,
    )  # fmt: skip
