"""Finding a case for a staff member: through the one visibility predicate."""

from __future__ import annotations

from caseapp.extensions import db
from caseapp.models import Case, User
from caseapp.services.errors import NotFound
from caseapp.workflow.visibility import visible_cases


def case_for_staff(number: str, user: User) -> Case:
    """The case with this number if ``user`` may see it; otherwise NotFound (the same
    answer as for no such case, so numbers cannot be probed)."""
    case = db.session.scalar(visible_cases(user).where(Case.number == number))
    if case is None:
        raise NotFound(f"no case {number} for this user")
    return case
