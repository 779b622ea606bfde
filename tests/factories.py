"""Small factories for test data that the services do not make yet."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseAssist, Category, Department, User
from caseapp.models.enums import CaseKind, CaseStatus, Channel

_numbers = itertools.count(1)


def department(code: str) -> Department:
    found = db.session.scalar(sa.select(Department).where(Department.code == code))
    assert found is not None, code
    return found


def user(username: str) -> User:
    found = db.session.scalar(sa.select(User).where(User.username == username))
    assert found is not None, username
    return found


def case_row(
    *,
    status: CaseStatus = CaseStatus.DISPATCHED,
    lead: str | None = "zjj",
    assists: tuple[str, ...] = (),
    category: str = "road-damage",
    title: str = "路面破损",
    due_in: timedelta | None = timedelta(days=1),
) -> Case:
    """A case row as the lifecycle would leave it, written directly."""
    seq = next(_numbers)
    now = datetime.now(UTC)
    case = Case(
        number=f"YC{now.year}-{seq:06d}",
        number_year=now.year,
        number_seq=seq,
        kind=CaseKind.HELP,
        category=db.session.scalar(sa.select(Category).where(Category.service_code == category)),
        channel=Channel.WEB,
        status=status,
        title=title,
        description="测试用诉求",
        received_at=now,
        lead_department=department(lead) if lead else None,
        next_deadline_at=now + due_in if due_in is not None else None,
        assists=[CaseAssist(department=department(code)) for code in assists],
    )
    db.session.add(case)
    db.session.commit()
    return case
