"""Reading the city's catalogue: categories grouped for the public."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Category


@dataclass(frozen=True)
class CategoryGroup:
    name: str
    categories: list[Category]


def public_category_groups(lang: str) -> list[CategoryGroup]:
    """Active categories, grouped and ordered as the public sees them."""
    categories = db.session.scalars(
        sa.select(Category)
        .where(Category.retired_at.is_(None))
        .order_by(Category.sort_order, Category.id)
    ).all()
    groups: dict[str, list[Category]] = {}
    for category in categories:
        groups.setdefault(category.group(lang), []).append(category)
    return [CategoryGroup(name, items) for name, items in groups.items()]
