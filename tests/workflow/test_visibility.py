"""The staff visibility predicate (DESIGN §8)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Case, CaseParticipant, UserRole
from caseapp.models.enums import Role
from caseapp.workflow.visibility import department_subtree, visible_cases
from tests.factories import case_row, department, user


def _titles_seen_by(username: str) -> set[str]:
    return set(db.session.scalars(visible_cases(user(username)).with_only_columns(Case.title)))


@pytest.fixture
def cases(app_ctx: Flask, demo_base: None) -> None:
    case_row(title="zjj-lead", lead="zjj")
    case_row(title="cgj-lead", lead="cgj")
    case_row(title="cgj-lead-zjj-assists", lead="cgj", assists=("zjj",))
    case_row(title="street-office", lead="yhq-bc")
    case_row(title="not-dispatched", lead=None)


def test_department_subtree_includes_children(app_ctx: Flask, demo_base: None) -> None:
    ids = set(db.session.scalars(department_subtree(department("yhq").id)))
    codes = {
        department(code).id for code in ("yhq", "yhq-bc", "yhq-nc", "yhq-dc", "yhq-xc", "yhq-ay")
    }
    assert ids == codes


@pytest.mark.usefixtures("cases")
@pytest.mark.parametrize(
    ("username", "expected"),
    [
        (
            "intake",
            {"zjj-lead", "cgj-lead", "cgj-lead-zjj-assists", "street-office", "not-dispatched"},
        ),
        (
            "supervisor",
            {"zjj-lead", "cgj-lead", "cgj-lead-zjj-assists", "street-office", "not-dispatched"},
        ),
        ("handler", {"zjj-lead", "cgj-lead-zjj-assists"}),
        ("lead", {"zjj-lead", "cgj-lead-zjj-assists"}),
        ("handler2", {"cgj-lead", "cgj-lead-zjj-assists"}),
        ("leader", set()),
        ("admin", set()),
    ],
)
def test_who_sees_what(username: str, expected: set[str]) -> None:
    assert _titles_seen_by(username) == expected


@pytest.mark.usefixtures("cases")
def test_district_staff_see_their_street_offices_cases() -> None:
    from caseapp.services.access.accounts import create_user

    create_user("district-handler", "long-enough-pw", "区承办人", [Role.HANDLER], "yhq")
    assert _titles_seen_by("district-handler") == {"street-office"}


@pytest.mark.usefixtures("cases")
def test_participants_keep_seeing_a_case() -> None:
    moved = db.session.scalar(sa.select(Case).where(Case.title == "cgj-lead"))
    db.session.add(CaseParticipant(case_id=moved.id, user_id=user("handler").id))
    db.session.commit()
    assert "cgj-lead" in _titles_seen_by("handler")


@pytest.mark.usefixtures("cases")
def test_leaders_see_cases_they_are_responsible_for() -> None:
    case = db.session.scalar(sa.select(Case).where(Case.title == "street-office"))
    case.responsible_leader_id = user("leader").id
    db.session.commit()
    assert _titles_seen_by("leader") == {"street-office"}


@pytest.mark.usefixtures("cases")
def test_a_second_role_widens_what_is_seen() -> None:
    handler2 = user("handler2")
    handler2.role_rows.append(UserRole(role=Role.SUPERVISOR))
    db.session.commit()
    assert len(_titles_seen_by("handler2")) == 5
