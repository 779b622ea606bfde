"""``access.staff.case_for_staff``: a staff member finds a case by number only through
the one visibility predicate; a case they may not see answers NotFound, exactly as a
number that does not exist, so numbers cannot be probed."""

from __future__ import annotations

import pytest
from flask import Flask

from caseapp.models.enums import CaseStatus
from caseapp.services.access.staff import case_for_staff
from caseapp.services.errors import NotFound
from tests.factories import case_in, user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")


@pytest.mark.parametrize("username", ["intake", "supervisor", "handler", "lead"])
def test_those_who_may_see_the_case_find_it_by_number(username: str) -> None:
    case = case_in(CaseStatus.DISPATCHED)  # led by zjj (handler, lead)
    assert case_for_staff(case.number, user(username)).id == case.id


@pytest.mark.parametrize("username", ["handler2", "leader", "admin"])
def test_a_case_out_of_sight_answers_as_no_case_does(username: str) -> None:
    case = case_in(CaseStatus.DISPATCHED)
    with pytest.raises(NotFound) as hidden:
        case_for_staff(case.number, user(username))
    with pytest.raises(NotFound) as missing:
        case_for_staff("YC2099-999999", user(username))
    # The same answer, bar the number itself.
    assert type(hidden.value) is type(missing.value)
    assert hidden.value.field_errors == missing.value.field_errors == {}
    assert str(hidden.value).replace(case.number, "N") == str(missing.value).replace(
        "YC2099-999999", "N"
    )


def test_the_number_must_match_exactly(app_ctx: Flask) -> None:
    case = case_in(CaseStatus.NEW)
    for near in (case.number.lower(), f" {case.number}", case.number[:-1], ""):
        if near == case.number:
            continue
        with pytest.raises(NotFound):
            case_for_staff(near, user("intake"))


def test_the_responsible_leader_finds_the_case_they_answer_for() -> None:
    case = case_in(CaseStatus.DISPATCHED, leader=True)
    assert case_for_staff(case.number, user("leader")).id == case.id


def test_the_other_department_finds_its_own_cases_and_not_the_first_s() -> None:
    ours = case_in(CaseStatus.DISPATCHED, lead="cgj")
    theirs = case_in(CaseStatus.DISPATCHED, lead="zjj")
    assert case_for_staff(ours.number, user("handler2")).id == ours.id
    with pytest.raises(NotFound):
        case_for_staff(theirs.number, user("handler2"))
    with pytest.raises(NotFound):
        case_for_staff(ours.number, user("handler"))
