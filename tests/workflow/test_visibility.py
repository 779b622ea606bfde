"""The staff visibility predicate (DESIGN §8)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Case, CaseAssist, CaseParticipant, User, UserRole
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


# --- whose identity: the SQL form of may_see_identity ----------------------------------------


def test_identity_visible_to_agrees_with_may_see_identity_on_every_demo_case(
    app_ctx: Flask, demo_city: None
) -> None:
    """The condition a phone search filters with says of every case exactly what the
    case page's ``may_see_identity`` says, for every kind of staff member: confidential
    petitions and reports, cases with a responsible leader, street offices' cases seen
    from the district above, assisting departments."""
    from caseapp.models.enums import CaseKind
    from caseapp.services.access.accounts import create_user
    from caseapp.services.casework.lifecycle import Actor, capacities_of
    from caseapp.workflow.visibility import identity_visible_to, may_see_identity

    create_user("district-lead", "long-enough-pw", "区负责人", [Role.LEAD], "yhq")
    create_user("street-handler", "long-enough-pw", "街道承办人", [Role.HANDLER], "yhq-bc")
    create_user("leading-handler", "long-enough-pw", "兼任领导", [Role.HANDLER, Role.LEADER], "cgj")
    # Three demo cases made into what the demo may lack (the numbering stays the demo's).
    changed = db.session.scalars(sa.select(Case).order_by(Case.id).limit(3)).all()
    shapes = ((CaseKind.PETITION, "zjj"), (CaseKind.REPORT, "cgj"), (CaseKind.HELP, "yhq-bc"))
    for case, (kind, lead) in zip(changed, shapes, strict=True):
        case.kind = kind
        case.lead_department_id = department(lead).id
        case.identity_confidential = kind is not CaseKind.HELP
        case.responsible_leader_id = user("leading-handler").id
        if lead != "zjj":
            case.assists.append(CaseAssist(department_id=department("zjj").id))
    db.session.commit()
    cases = db.session.scalars(sa.select(Case).order_by(Case.id)).all()
    assert any(c.identity_confidential for c in cases)
    assert any(c.responsible_leader_id is not None for c in cases)
    staff = db.session.scalars(sa.select(User).order_by(User.id)).all()
    assert len(staff) >= 10
    for someone in staff:
        allowed = set(db.session.scalars(sa.select(Case.id).where(identity_visible_to(someone))))
        actor = Actor.staff(someone)
        expected = {c.id for c in cases if may_see_identity(c, capacities_of(actor, c))}
        assert allowed == expected, someone.username
