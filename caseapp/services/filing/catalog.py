"""Reading the city's catalogue: categories grouped for the public, districts."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from caseapp.extensions import db
from caseapp.models import Category, Department


@dataclass(frozen=True)
class CategoryGroup:
    name: str
    categories: list[Category]


def public_category_groups(lang: str, query: str = "") -> list[CategoryGroup]:
    """Active categories, grouped and ordered as the public sees them; ``query`` keeps
    those whose names (in either language), group or keywords contain it."""
    categories = db.session.scalars(
        sa.select(Category)
        .where(Category.retired_at.is_(None))
        .order_by(Category.sort_order, Category.id)
    ).all()
    needle = query.strip().lower()
    groups: dict[str, list[Category]] = {}
    for category in categories:
        haystack = " ".join(
            (
                category.name_zh,
                category.name_en,
                category.group_zh,
                category.group_en,
                category.keywords,
            )
        ).lower()
        if needle and needle not in haystack:
            continue
        groups.setdefault(category.group(lang), []).append(category)
    return [CategoryGroup(name, items) for name, items in groups.items()]


def active_category(service_code: str) -> Category | None:
    """The category with this code, unless retired; its questions loaded."""
    return db.session.scalar(
        sa.select(Category)
        .where(Category.service_code == service_code, Category.retired_at.is_(None))
        .options(selectinload(Category.questions))
    )


def districts() -> list[Department]:
    """Departments that have departments below them (districts with street offices)."""
    child = aliased(Department)
    return list(
        db.session.scalars(
            sa.select(Department)
            .where(
                Department.retired_at.is_(None),
                sa.exists().where(child.parent_id == Department.id),
            )
            .order_by(Department.id)
        )
    )
