"""Admin: the categories the public files in (Open311 services) and their extra
questions. A category in use is retired, never deleted; retired ones leave the public
form. Every change is written to the audit log in its own transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from caseapp.extensions import db
from caseapp.models import Category, CategoryQuestion, DeadlinePolicy, Department, User
from caseapp.models.enums import QuestionType
from caseapp.models.types import utcnow
from caseapp.services.admin import audit
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.filing.validation import clean_text, has_control_characters
from caseapp.services.messages import N_

CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
QUESTION_CODE_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
LIST_TYPES = (QuestionType.SINGLEVALUELIST, QuestionType.MULTIVALUELIST)
ENTITY = "category"
CATEGORY_FIELDS = (
    "service_code",
    "name_zh",
    "name_en",
    "group_zh",
    "group_en",
    "keywords",
    "default_department_id",
    "policy_id",
    "anonymous_allowed",
    "public_by_default",
    "retired_at",
)


@dataclass(frozen=True)
class QuestionFields:
    """An extra question; ``choices`` one per line as "key|中文|English" for list types."""

    code: str
    label_zh: str
    label_en: str
    datatype: str
    required: bool = False
    choices: str = ""


@dataclass(frozen=True)
class CategoryFields:
    service_code: str
    name_zh: str
    name_en: str
    group_zh: str
    group_en: str
    policy_id: int | None
    default_department_id: int | None = None
    anonymous_allowed: bool = False
    public_by_default: bool = False
    keywords: str = ""
    questions: list[QuestionFields] = field(default_factory=list)


def list_categories() -> Sequence[Category]:
    """Every category, grouped as the public form groups them, retired ones included."""
    return db.session.scalars(
        sa.select(Category)
        .options(
            selectinload(Category.policy),
            selectinload(Category.default_department),
            selectinload(Category.questions),
        )
        .order_by(Category.group_zh, Category.sort_order, Category.id)
    ).all()


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound("no such category")
    return category


def policies() -> Sequence[DeadlinePolicy]:
    return db.session.scalars(
        sa.select(DeadlinePolicy)
        .where(DeadlinePolicy.retired_at.is_(None))
        .order_by(DeadlinePolicy.code)
    ).all()


def category_snapshot(category: Category) -> dict[str, object]:
    data = audit.snapshot(category, CATEGORY_FIELDS)
    data["questions"] = [
        {
            "code": q.code,
            "label_zh": q.label_zh,
            "label_en": q.label_en,
            "datatype": str(q.datatype),
            "required": q.required,
            "choices": q.choices,
        }
        for q in sorted(category.questions, key=lambda q: q.sort_order)
    ]
    return data


def parse_choices(text: str) -> list[dict[str, str]] | None:
    """Choices one per line as "key|中文|English"; None when a line is malformed."""
    found: list[dict[str, str]] = []
    for line in clean_text(text).splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not all(parts) or not QUESTION_CODE_RE.fullmatch(parts[0]):
            return None
        found.append({"key": parts[0], "name_zh": parts[1], "name_en": parts[2]})
    return found


def choices_text(choices: list[dict[str, str]]) -> str:
    return "\n".join(f"{c['key']}|{c['name_zh']}|{c['name_en']}" for c in choices or [])


def _text_error(value: str, limit: int, required: bool = True) -> str | None:
    text = clean_text(value)
    if not text:
        return N_("This field is required.") if required else None
    if len(text) > limit or has_control_characters(text):
        return N_("The text is too long or holds characters that are not allowed.")
    return None


def _check_questions(rows: Sequence[QuestionFields]) -> tuple[list[QuestionFields], dict]:
    kept: list[QuestionFields] = []
    errors: dict[int, dict[str, str]] = {}
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if not (row.code or row.label_zh or row.label_en or row.choices):
            continue  # a blank row
        reasons: dict[str, str] = {}
        code = row.code.strip()
        if not code:
            reasons["code"] = N_("This field is required.")
        elif len(code) > 40 or not QUESTION_CODE_RE.fullmatch(code):
            reasons["code"] = N_("Use lower-case letters, digits, hyphens and underscores.")
        elif code in seen:
            reasons["code"] = N_("Each question needs its own code.")
        for name, limit in (("label_zh", 200), ("label_en", 240)):
            if (reason := _text_error(getattr(row, name), limit)) is not None:
                reasons[name] = reason
        try:
            datatype = QuestionType(row.datatype)
        except ValueError:
            reasons["datatype"] = N_("Choose one of the options.")
        else:
            parsed = parse_choices(row.choices)
            if parsed is None:
                reasons["choices"] = N_("Write each choice on its own line as key|Chinese|English.")
            elif datatype in LIST_TYPES and not parsed:
                reasons["choices"] = N_("A list question needs at least one choice.")
            elif datatype not in LIST_TYPES and parsed:
                reasons["choices"] = N_("Only list questions have choices.")
        seen.add(code)
        if reasons:
            errors[index] = reasons
        else:
            kept.append(row)
    return kept, errors


def _validate(fields: CategoryFields, category: Category | None) -> list[QuestionFields]:
    errors: dict[str, object] = {}
    code = fields.service_code.strip()
    if not code:
        errors["service_code"] = N_("This field is required.")
    elif len(code) > 40 or not CODE_RE.fullmatch(code):
        errors["service_code"] = N_("Use lower-case letters, digits and hyphens (at most 40).")
    else:
        taken = db.session.scalar(sa.select(Category.id).where(Category.service_code == code))
        if taken is not None and (category is None or taken != category.id):
            errors["service_code"] = N_("This code is already taken.")
    for name, limit in (("name_zh", 120), ("name_en", 160), ("group_zh", 80), ("group_en", 120)):
        if (reason := _text_error(getattr(fields, name), limit)) is not None:
            errors[name] = reason
    if (reason := _text_error(fields.keywords, 400, required=False)) is not None:
        errors["keywords"] = reason
    policy = db.session.get(DeadlinePolicy, fields.policy_id) if fields.policy_id else None
    if policy is None or (
        policy.retired_at is not None and policy.id != getattr(category, "policy_id", None)
    ):
        errors["policy_id"] = N_("Choose one of the options.")
    if fields.default_department_id is not None:
        department = db.session.get(Department, fields.default_department_id)
        if department is None or department.retired_at is not None:
            errors["default_department_id"] = N_("Choose one of the options.")
    questions, question_errors = _check_questions(fields.questions)
    if question_errors:
        errors["questions"] = question_errors
    if errors:
        raise ValidationFailed(N_("The category was not saved."), errors)
    return questions


def _apply(category: Category, fields: CategoryFields, questions: list[QuestionFields]) -> None:
    category.service_code = fields.service_code.strip()
    for name in ("name_zh", "name_en", "group_zh", "group_en", "keywords"):
        setattr(category, name, clean_text(getattr(fields, name)))
    category.policy_id = fields.policy_id  # type: ignore[assignment]
    category.default_department_id = fields.default_department_id
    category.anonymous_allowed = fields.anonymous_allowed
    category.public_by_default = fields.public_by_default
    # Questions keyed by code: answers already given name them, so a kept code keeps its row.
    existing = {q.code: q for q in category.questions}
    wanted = {q.code.strip() for q in questions}
    for code, row in existing.items():
        if code not in wanted:
            category.questions.remove(row)
    db.session.flush()
    for order, q in enumerate(questions):
        row = existing.get(q.code.strip())
        if row is None:
            row = CategoryQuestion(code=q.code.strip())
            category.questions.append(row)
        row.label_zh = clean_text(q.label_zh)
        row.label_en = clean_text(q.label_en)
        row.datatype = QuestionType(q.datatype)
        row.required = q.required
        row.sort_order = order
        row.choices = parse_choices(q.choices) or []


def create_category(actor: User, fields: CategoryFields, now: datetime | None = None) -> Category:
    """Add a category; it is offered on the public form at once."""
    with audit.audited(actor, ENTITY, "create", category_snapshot, now) as change:
        questions = _validate(fields, None)
        order = db.session.scalar(sa.select(sa.func.max(Category.sort_order))) or 0
        category = Category(sort_order=order + 1, questions=[])
        db.session.add(category)
        change.track(category, new=True)
        _apply(category, fields, questions)
    return category


def update_category(
    actor: User, category_id: int, fields: CategoryFields, now: datetime | None = None
) -> Category:
    """Change a category; cases filed in it keep the deadline terms they copied."""
    with audit.audited(actor, ENTITY, "update", category_snapshot, now) as change:
        category = get_category(category_id)
        questions = _validate(fields, category)
        change.track(category)
        _apply(category, fields, questions)
    return category


def retire_category(actor: User, category_id: int, now: datetime | None = None) -> Category:
    """Take a category off the public form; its cases keep it."""
    with audit.audited(actor, ENTITY, "retire", category_snapshot, now) as change:
        category = get_category(category_id)
        change.track(category)
        if category.retired_at is None:
            category.retired_at = now or utcnow()
    return category


def unretire_category(actor: User, category_id: int, now: datetime | None = None) -> Category:
    """Offer a retired category again."""
    with audit.audited(actor, ENTITY, "unretire", category_snapshot, now) as change:
        category = get_category(category_id)
        change.track(category)
        category.retired_at = None
    return category
