"""Departments as administrators manage them: create, rename, move under another
parent (never into a cycle), retire and bring back. A department is never deleted:
cases, users and events keep pointing at it; a retired one is only left out of the
choices. Every change writes an audit row in the same transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Department, User
from caseapp.models.types import utcnow
from caseapp.services.admin import audit
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.filing.validation import has_control_characters
from caseapp.services.messages import N_, Message

ENTITY = "department"
CODE_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


@dataclass(frozen=True)
class DepartmentInput:
    """What the admin form says about a department (the code only counts at creation)."""

    name_zh: str
    name_en: str
    parent_id: int | None = None
    code: str = ""


@dataclass(frozen=True)
class TreeRow:
    department: Department
    depth: int


def department_tree() -> list[TreeRow]:
    """Every department, retired ones too, each under its parent (depth first, by code)."""
    everyone = db.session.scalars(sa.select(Department).order_by(Department.code)).all()
    children: dict[int | None, list[Department]] = {}
    for department in everyone:
        children.setdefault(department.parent_id, []).append(department)
    rows: list[TreeRow] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for department in children.get(parent_id, []):
            rows.append(TreeRow(department, depth))
            walk(department.id, depth + 1)

    walk(None, 0)
    return rows


def get_department(department_id: int) -> Department:
    """The department, or NotFound."""
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound("no such department")
    return department


def parent_choices(department: Department | None = None) -> Sequence[Department]:
    """Departments that may be this one's parent: not retired, not itself or below it."""
    active = db.session.scalars(
        sa.select(Department).where(Department.retired_at.is_(None)).order_by(Department.code)
    ).all()
    if department is None:
        return active
    below = _descendant_ids(department.id)
    return [d for d in active if d.id != department.id and d.id not in below]


def _descendant_ids(department_id: int) -> set[int]:
    pairs = db.session.execute(sa.select(Department.id, Department.parent_id)).all()
    children: dict[int, list[int]] = {}
    for child, parent in pairs:
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found: set[int] = set()
    stack = [department_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _snapshot(department: Department) -> dict[str, object]:
    values = audit.snapshot(department, ("code", "name_zh", "name_en", "retired_at"))
    values["parent_code"] = department.parent.code if department.parent else None
    return values


def _name_errors(data: DepartmentInput) -> dict[str, object]:
    errors: dict[str, object] = {}
    for name, limit in (("name_zh", 120), ("name_en", 160)):
        text = (getattr(data, name) or "").strip()
        if not text or len(text) > limit or has_control_characters(text):
            errors[name] = Message(N_("Enter a name of 1 to %(limit)s characters."), limit=limit)
    return errors


def _parent(
    data: DepartmentInput, department: Department | None, errors: dict
) -> Department | None:
    if data.parent_id is None:
        return None
    parent = db.session.get(Department, data.parent_id)
    unchanged = department is not None and department.parent_id == data.parent_id
    if parent is None or (parent.retired_at is not None and not unchanged):
        errors["parent"] = N_("Choose a parent department from the list.")
        return None
    if department is not None and (
        parent.id == department.id or parent.id in _descendant_ids(department.id)
    ):
        errors["parent"] = N_(
            "A department cannot be placed under itself or under one of its own children."
        )
        return None
    return parent


def create_department(
    actor: User, data: DepartmentInput, now: datetime | None = None
) -> Department:
    """Add a department (under a parent, if given)."""
    errors = _name_errors(data)
    code = (data.code or "").strip().lower()
    if not CODE_RE.fullmatch(code):
        errors["code"] = N_(
            "Use 1 to 40 lower-case letters, digits, dashes or underscores, "
            "starting with a letter or digit."
        )
    elif db.session.scalar(sa.select(Department.id).where(Department.code == code)):
        errors["code"] = Message(N_("The code %(code)s is taken."), code=code)
    parent = _parent(data, None, errors)
    if errors:
        raise ValidationFailed("the department was not saved", errors)
    with audit.audited(actor, ENTITY, "create", _snapshot, now) as change:
        department = Department(
            code=code,
            name_zh=data.name_zh.strip(),
            name_en=data.name_en.strip(),
            parent=parent,
            created_at=now or utcnow(),
        )
        db.session.add(department)
        change.track(department, new=True)
    return department


def update_department(
    actor: User, department_id: int, data: DepartmentInput, now: datetime | None = None
) -> Department:
    """Rename a department or move it under another parent (never into a cycle)."""
    with audit.audited(actor, ENTITY, "update", _snapshot, now) as change:
        department = get_department(department_id)
        errors = _name_errors(data)
        parent = _parent(data, department, errors)
        if errors:
            raise ValidationFailed("the department was not saved", errors)
        change.track(department)
        department.name_zh = data.name_zh.strip()
        department.name_en = data.name_en.strip()
        department.parent = parent
    return department


def retire_department(actor: User, department_id: int, now: datetime | None = None) -> Department:
    """Leave a department out of every choice from now on; refused while it has
    departments under it that are not retired."""
    with audit.audited(actor, ENTITY, "retire", _snapshot, now) as change:
        department = get_department(department_id)
        if department.retired_at is not None:
            raise ValidationFailed(
                "already", {"department": N_("The department is already retired.")}
            )
        if any(child.retired_at is None for child in department.children):
            raise ValidationFailed(
                "children",
                {"department": N_("Retire or move the departments under it first.")},
            )
        change.track(department)
        department.retired_at = now or utcnow()
    return department


def unretire_department(actor: User, department_id: int, now: datetime | None = None) -> Department:
    """Offer a retired department in the choices again (its parent must not be retired)."""
    with audit.audited(actor, ENTITY, "unretire", _snapshot, now) as change:
        department = get_department(department_id)
        if department.retired_at is None:
            raise ValidationFailed("already", {"department": N_("The department is not retired.")})
        if department.parent is not None and department.parent.retired_at is not None:
            raise ValidationFailed(
                "parent", {"department": N_("Bring its parent department back first.")}
            )
        change.track(department)
        department.retired_at = None
    return department
