"""Who among the staff may see which case (DESIGN §8): one predicate for every list,
page, export and download."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from caseapp.models import Case, CaseAssist, CaseParticipant, Department, User
from caseapp.models.enums import CONFIDENTIAL_KINDS, Role
from caseapp.workflow.lifecycle import Capacity

SEES_ALL_CASES = frozenset({Role.INTAKE, Role.SUPERVISOR})


def department_subtree(
    department_id: int, name: str = "department_subtree"
) -> sa.Select[tuple[int]]:
    """The ids of a department and all departments below it (a recursive CTE; a query
    that needs a second one beside the visibility predicate's gives it another name)."""
    tree = sa.select(Department.id).where(Department.id == department_id).cte(name, recursive=True)
    child = aliased(Department)
    tree = tree.union_all(sa.select(child.id).where(child.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def staff_can_see(user: User) -> sa.ColumnElement[bool]:
    """A condition on ``Case`` true for the cases this staff member may see.

    Intake and supervisors see every case. Handlers and leads see the cases their
    department or a department below it leads or assists on. Leaders see the cases
    they are responsible for. Everyone keeps seeing cases they once handled or were
    first responsible for. An admin role alone sees no case.
    """
    roles = user.roles
    if roles & SEES_ALL_CASES:
        return sa.true()
    conditions: list[sa.ColumnElement[bool]] = [
        _probe(
            sa.select(CaseParticipant.case_id).where(
                CaseParticipant.case_id == Case.id, CaseParticipant.user_id == user.id
            )
        )
    ]
    if roles & {Role.HANDLER, Role.LEAD} and user.department_id is not None:
        subtree = department_subtree(user.department_id)
        conditions.append(Case.lead_department_id.in_(subtree))
        conditions.append(
            _probe(
                sa.select(CaseAssist.case_id).where(
                    CaseAssist.case_id == Case.id, CaseAssist.department_id.in_(subtree)
                )
            )
        )
    if Role.LEADER in roles:
        conditions.append(Case.responsible_leader_id == user.id)
    return sa.or_(*conditions)


def _probe(rows: sa.Select[tuple[int]]) -> sa.ColumnElement[bool]:
    """EXISTS looked up case by case on the index: a handler may have taken part in a
    hundred thousand cases while a page looks at a few dozen. (``LIMIT 1 OFFSET 0`` keeps
    PostgreSQL from turning it into a hash of every such case, built per query, which
    its estimates prefer when they ignore the page's LIMIT: 500 ms at a million.)"""
    return rows.limit(sa.literal_column("1")).offset(sa.literal_column("0")).exists()


def visible_cases(user: User) -> sa.Select[tuple[Case]]:
    """``select(Case)`` limited to what ``user`` may see."""
    return sa.select(Case).where(staff_can_see(user))


def publicly_counted() -> sa.ColumnElement[bool]:
    """The public rule as a condition on ``Case``: never petitions or reports (举报)."""
    return Case.kind.not_in(CONFIDENTIAL_KINDS)


def public_cases() -> sa.Select[tuple[Case]]:
    """Cases the public rule lets the API and public pages list (DESIGN §9)."""
    return sa.select(Case).where(publicly_counted())


def may_see_identity(case: Case, capacities: frozenset[Capacity]) -> bool:
    """Whether someone acting on ``case`` in ``capacities`` may see who filed it.

    For reports and petitions the citizen's identity is hidden from the handling
    departments (and the responsible leader); intake and supervisors may always reveal
    it (DESIGN §8).
    """
    if capacities & {Capacity.INTAKE, Capacity.SUPERVISOR}:
        return True
    return not case.identity_confidential and bool(
        capacities & {Capacity.LEAD_HANDLER, Capacity.LEAD_LEAD, Capacity.LEADER}
    )


def identity_visible_to(user: User) -> sa.ColumnElement[bool]:
    """``may_see_identity`` as a condition on ``Case``: true for the cases on which
    ``user`` acts in a capacity that may see who filed them.

    It follows ``lifecycle.staff_capacities``: intake and supervisors always; a handler
    or lead of the lead department itself (not one above it, not an assisting one) and
    the case's responsible leader only where the identity is not confidential. Used
    where a citizen's personal data picks the cases (a phone number typed in the
    queue's search), so that it finds nothing whose filer the user may not know.
    """
    roles = user.roles
    if roles & {Role.INTAKE, Role.SUPERVISOR}:
        return sa.true()
    acting: list[sa.ColumnElement[bool]] = []
    if roles & {Role.HANDLER, Role.LEAD} and user.department_id is not None:
        acting.append(Case.lead_department_id == user.department_id)
    if Role.LEADER in roles:
        acting.append(Case.responsible_leader_id == user.id)
    if not acting:
        return sa.false()
    return sa.and_(Case.identity_confidential.is_(False), sa.or_(*acting))
