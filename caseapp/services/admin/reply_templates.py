"""Reply templates per category (DESIGN §8), as admins keep them: staff start their
answers from them on the case page. A template is retired, not deleted, so the list of
what staff were offered stays on record; a retired one can be brought back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from caseapp.extensions import db
from caseapp.models import Category, ReplyTemplate, User
from caseapp.models.types import utcnow
from caseapp.services.admin import audit
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.messages import N_, Message

MAX_TITLE_LENGTH = 120
MAX_BODY_LENGTH = 4000
AUDITED = ("category_id", "title", "body_zh", "body_en", "retired_at")


@dataclass(frozen=True)
class TemplateFields:
    """A template as an admin gives it; ``category_id`` None: for every category."""

    category_id: int | None
    title: str
    body_zh: str
    body_en: str = ""


@dataclass(frozen=True)
class CategoryTemplates:
    category: Category | None  # None: the templates offered in every category
    templates: list[ReplyTemplate]


def list_by_category() -> list[CategoryTemplates]:
    """Every template, grouped by category: those for every category first, then by the
    categories' order; in use before retired within a group."""
    rows = db.session.scalars(
        sa.select(ReplyTemplate)
        .options(joinedload(ReplyTemplate.category))
        .outerjoin(ReplyTemplate.category)
        .order_by(
            ReplyTemplate.category_id.is_not(None),
            Category.sort_order,
            Category.id,
            ReplyTemplate.retired_at.is_not(None),
            ReplyTemplate.title,
            ReplyTemplate.id,
        )
    ).all()
    groups: list[CategoryTemplates] = []
    for row in rows:
        if not groups or groups[-1].category is not row.category:
            groups.append(CategoryTemplates(row.category, []))
        groups[-1].templates.append(row)
    return groups


def categories() -> Sequence[Category]:
    """The categories a template can be for (those in use)."""
    return db.session.scalars(
        sa.select(Category)
        .where(Category.retired_at.is_(None))
        .order_by(Category.sort_order, Category.id)
    ).all()


def template(template_id: int) -> ReplyTemplate:
    found = db.session.get(ReplyTemplate, template_id)
    if found is None:
        raise NotFound("no such reply template")
    return found


def _checked(fields: TemplateFields, keep_category_id: int | None = None) -> TemplateFields:
    """The fields trimmed, or ValidationFailed with the reasons by field. A retired
    category is refused, unless the template is already in it (``keep_category_id``)."""
    title, body_zh, body_en = fields.title.strip(), fields.body_zh.strip(), fields.body_en.strip()
    errors: dict[str, object] = {}
    if not title:
        errors["title"] = N_("Give the template a title.")
    elif len(title) > MAX_TITLE_LENGTH:
        errors["title"] = Message(N_("At most %(count)s characters."), count=MAX_TITLE_LENGTH)
    if not body_zh:
        errors["body_zh"] = N_("Write the Chinese text.")
    for name, body in (("body_zh", body_zh), ("body_en", body_en)):
        if len(body) > MAX_BODY_LENGTH:
            errors[name] = Message(N_("At most %(count)s characters."), count=MAX_BODY_LENGTH)
    if fields.category_id is not None:
        category = db.session.get(Category, fields.category_id)
        if category is None or (
            category.retired_at is not None and category.id != keep_category_id
        ):
            errors["category_id"] = N_("Choose a category in use.")
    if errors:
        raise ValidationFailed("the reply template was not saved", errors)
    return TemplateFields(fields.category_id, title, body_zh, body_en)


ENTITY = "reply_template"


def _snapshot(row: ReplyTemplate) -> dict[str, object]:
    return audit.snapshot(row, AUDITED)


def create_template(
    fields: TemplateFields, actor: User | None, now: datetime | None = None
) -> ReplyTemplate:
    """Add a reply template; staff see it at once on the cases of its category."""
    now = now or utcnow()
    with audit.audited(actor, ENTITY, "create", _snapshot, now) as change:
        checked = _checked(fields)
        row = ReplyTemplate(
            category_id=checked.category_id,
            title=checked.title,
            body_zh=checked.body_zh,
            body_en=checked.body_en,
            updated_at=now,
        )
        db.session.add(row)
        change.track(row, new=True)
    return row


def update_template(
    template_id: int, fields: TemplateFields, actor: User | None, now: datetime | None = None
) -> ReplyTemplate:
    """Change a template's category, title or texts."""
    now = now or utcnow()
    with audit.audited(actor, ENTITY, "update", _snapshot, now) as change:
        row = template(template_id)
        checked = _checked(fields, keep_category_id=row.category_id)
        change.track(row)
        row.category_id = checked.category_id
        row.title = checked.title
        row.body_zh = checked.body_zh
        row.body_en = checked.body_en
        if change.after() != change.before:
            row.updated_at = now
    return row


def set_template_retired(
    template_id: int, retired: bool, actor: User | None, now: datetime | None = None
) -> ReplyTemplate:
    """Retire a template (staff no longer see it) or bring it back; no change, no row."""
    row = template(template_id)
    if (row.retired_at is not None) == retired:
        return row
    now = now or utcnow()
    with audit.audited(actor, ENTITY, "retire" if retired else "restore", _snapshot, now) as change:
        change.track(row)
        row.retired_at = now if retired else None
        row.updated_at = now
    return row
