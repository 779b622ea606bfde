"""Who and what there is to choose from: the departments in service and the active
staff holding a role. Pages, notices and the admin areas all ask here."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from caseapp.extensions import db
from caseapp.models import Department, User, UserRole
from caseapp.models.enums import Role


def departments() -> Sequence[Department]:
    """The departments not retired, in the order they were made."""
    return db.session.scalars(
        sa.select(Department).where(Department.retired_at.is_(None)).order_by(Department.id)
    ).all()


def users_with_role(role: Role, department_id: int | None = None) -> Sequence[User]:
    """The active staff holding ``role``, of one department when it is given."""
    stmt = (
        sa.select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == role, User.active.is_(True))
        .options(joinedload(User.department))
        .order_by(User.id)
    )
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    return db.session.scalars(stmt).all()
