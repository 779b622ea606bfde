"""``casework.lifecycle``: the one place a case's status is set. Who acts (``Actor``)
and in which capacities (``capacities_of``, ``capacities_without_case``); the check of
the table and the version (``check_action``: a stale version is told first); applying
an action (``apply_action``: the rule's target, a required text, one event with the
snapshot of what is in force, the version bumped, a concurrent change a StaleVersion
that writes nothing); and waiting requests (``settle_request``, nobody deciding their
own, ``pending_request``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseAssist, CaseEvent, CaseRequest, User
from caseapp.models.enums import (
    CaseStatus,
    EventAction,
    RequestKind,
    RequestStatus,
    Role,
)
from caseapp.models.org import UserRole
from caseapp.services.casework import lifecycle
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed, StaleVersion, ValidationFailed
from caseapp.workflow.lifecycle import Capacity, rules_for, who_may
from tests.factories import case_in, department, staff, user

C = Capacity
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
REACHABLE = [
    CaseStatus.NEW,
    CaseStatus.REJECTED,
    CaseStatus.WITHDRAWN,
    CaseStatus.DISPATCHED,
    CaseStatus.RETURNED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.AWAITING_CITIZEN,
    CaseStatus.RESOLVED,
    CaseStatus.CLOSED,
]


def events_of(case: Case) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )


def stored(case: Case) -> tuple[int, CaseStatus, int]:
    db.session.expire_all()
    fresh = db.session.get(Case, case.id)
    assert fresh is not None
    return fresh.version, fresh.status, len(events_of(fresh))


# --- who acts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "kind", "capacities"),
    [
        (Actor.citizen(), "citizen", {C.CITIZEN}),
        (Actor.citizen(4), "citizen", {C.FOLLOWER}),
        (Actor.public(), "public", {C.PUBLIC}),
        (Actor.api(), "api", {C.CITIZEN}),  # an API client files for a citizen
        (Actor.system(), "system", {C.SYSTEM}),
        (Actor("staff"), "staff", {C.SYSTEM}),  # no user: never a staff capacity
    ],
)
def test_capacities_without_a_case(actor: Actor, kind: str, capacities: set[Capacity]) -> None:
    assert actor.kind == kind
    assert lifecycle.capacities_without_case(actor) == capacities


@pytest.mark.parametrize(
    ("roles", "capacities"),
    [
        ({Role.INTAKE}, {C.INTAKE}),
        ({Role.SUPERVISOR, Role.INTAKE}, {C.INTAKE, C.SUPERVISOR}),
        ({Role.HANDLER, Role.LEAD}, set()),  # no case, no department of a case
        ({Role.LEADER}, set()),
        ({Role.ADMIN}, set()),
    ],
)
def test_staff_capacities_without_a_case_come_from_the_roles(
    roles: set[Role], capacities: set[Capacity]
) -> None:
    member = User(
        id=9, username="x", department_id=3, role_rows=[UserRole(role=role) for role in roles]
    )
    assert lifecycle.capacities_without_case(Actor.staff(member)) == capacities


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_capacities_on_a_case_come_from_the_case_s_departments_and_leader() -> None:
    case = case_in(CaseStatus.DISPATCHED, leader=True)
    case.assists.append(CaseAssist(department_id=department("cgj").id))
    db.session.commit()
    expected = {
        "intake": {C.INTAKE},
        "supervisor": {C.SUPERVISOR},
        "handler": {C.LEAD_HANDLER},
        "lead": {C.LEAD_LEAD},
        "handler2": {C.ASSIST},
        "leader": {C.LEADER},
        "admin": set(),
    }
    for username, capacities in expected.items():
        assert lifecycle.capacities_of(staff(username), case) == capacities, username
    assert lifecycle.capacities_of(Actor.system(), case) == {C.SYSTEM}
    assert lifecycle.capacities_of(Actor.citizen(), case) == {C.CITIZEN}


# --- checking --------------------------------------------------------------------------------


@pytest.mark.usefixtures("app_ctx", "demo_base")
@pytest.mark.parametrize("status", REACHABLE)
def test_check_action_allows_exactly_what_the_page_offers(status: CaseStatus) -> None:
    """For every action: ``check_action`` passes it exactly when ``offered_actions``
    (what the pages show) lists it, and only where the table gives the actor a rule."""
    case = case_in(status)
    for username in ("intake", "supervisor", "handler", "handler2", "lead", "leader"):
        actor = staff(username)
        mine = lifecycle.capacities_of(actor, case)
        offered = lifecycle.offered_actions(case, actor)
        for action in EventAction:
            if action in offered:
                assert who_may(action, status, case.kind) & mine
                rule, capacities = lifecycle.check_action(case, action, actor, case.version)
                assert rule in rules_for(action, status, case.kind)
                assert capacities == mine
            else:
                with pytest.raises(NotAllowed):
                    lifecycle.check_action(case, action, actor, case.version)


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_a_stale_version_is_told_before_a_refusal() -> None:
    case = case_in(CaseStatus.NEW)
    with pytest.raises(StaleVersion):
        lifecycle.check_action(case, EventAction.RESOLVE, staff("handler2"), case.version + 1)
    with pytest.raises(NotAllowed):
        lifecycle.check_action(case, EventAction.RESOLVE, staff("handler2"), None)


# --- applying --------------------------------------------------------------------------------


@pytest.mark.usefixtures("app_ctx", "demo_base")
@pytest.mark.parametrize("status", REACHABLE)
def test_an_event_only_action_keeps_the_status_bumps_the_version_and_writes_one_event(
    status: CaseStatus,
) -> None:
    case = case_in(status)
    version, count = case.version, len(events_of(case))
    outcome = lifecycle.apply_action(
        case, EventAction.NOTE, staff("supervisor"), NOW, expected_version=version,
        internal_text="内部记录",
    )  # fmt: skip
    lifecycle.commit()
    assert (outcome.from_status, outcome.to_status) == (status, status)
    assert outcome.capacities == {C.SUPERVISOR}
    assert stored(case) == (version + 1, status, count + 1)
    event = events_of(case)[-1]
    assert (event.action, event.from_status, event.to_status) == (EventAction.NOTE, status, status)
    assert (event.public, event.internal_text, event.actor_id) == (
        False, "内部记录", user("supervisor").id
    )  # fmt: skip


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_apply_action_sets_the_target_and_snapshots_what_is_in_force() -> None:
    case = case_in(CaseStatus.DISPATCHED)
    called: list[CaseStatus] = []
    outcome = lifecycle.apply_action(
        case, EventAction.SIGN_FOR, staff("handler"), NOW, expected_version=None,
        effects=lambda: called.append(case.status),
    )  # fmt: skip
    lifecycle.commit()
    assert called == [CaseStatus.IN_PROGRESS]  # effects run with the new status set
    assert case.status is CaseStatus.IN_PROGRESS and case.updated_at == NOW
    event = outcome.event
    assert (event.from_status, event.to_status) == (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS)
    assert event.department_id == department("zjj").id
    assert event.category_id == case.category_id
    assert event.actor_kind == "staff" and event.at == NOW


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_apply_action_refusals_write_nothing() -> None:
    case = case_in(CaseStatus.RESOLVED)
    before = stored(case)
    cases = [
        # The rule needs a text.
        (ValidationFailed, dict(action=EventAction.NOTE, actor=staff("intake"))),
        # A target the rule does not lead to.
        (
            NotAllowed,
            dict(action=EventAction.RATE, actor=Actor.citizen(), to_status=CaseStatus.WITHDRAWN),
        ),
        # Not the actor's action.
        (NotAllowed, dict(action=EventAction.RESOLVE, actor=staff("handler"), public_text="x")),
        # A stale version.
        (StaleVersion, dict(action=EventAction.NOTE, actor=staff("intake"), internal_text="x",
                            expected_version=before[0] - 1)),
    ]  # fmt: skip
    for error, call in cases:
        kwargs = {"expected_version": None, **call}
        action, actor = kwargs.pop("action"), kwargs.pop("actor")
        with pytest.raises(error):
            lifecycle.apply_action(case, action, actor, NOW, **kwargs)  # type: ignore[arg-type]
        db.session.rollback()
        assert stored(case) == before, error


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_a_concurrent_change_is_a_stale_version_and_writes_nothing() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    version, status, count = stored(case)
    assert case.version == version  # loaded in memory
    # Someone else's write, unseen by the loaded case.
    db.session.execute(
        sa.update(Case.__table__).where(Case.__table__.c.id == case.id).values(version=version + 1)
    )
    with pytest.raises(StaleVersion):
        lifecycle.apply_action(
            case, EventAction.NOTE, staff("handler"), NOW, expected_version=None,
            internal_text="同时修改",
        )  # fmt: skip
    assert stored(case) == (version, status, count)


# --- waiting requests ------------------------------------------------------------------------


def _request(by: int | None, kind: RequestKind = RequestKind.EXTENSION) -> CaseRequest:
    return CaseRequest(
        kind=kind, status=RequestStatus.PENDING, case_status=CaseStatus.IN_PROGRESS,
        requested_by_id=by,
    )  # fmt: skip


def _staff(user_id: int) -> Actor:
    return Actor.staff(User(id=user_id, username=f"u{user_id}"))


@pytest.mark.parametrize("approve", [True, False])
def test_settle_request_records_the_decision(approve: bool) -> None:
    request = _request(1)
    lifecycle.settle_request(request, _staff(2), approve, "理由", NOW)
    assert request.status is (RequestStatus.APPROVED if approve else RequestStatus.DENIED)
    assert (request.decided_by_id, request.decided_at, request.decision_note) == (2, NOW, "理由")


def test_nobody_decides_their_own_request() -> None:
    request = _request(5)
    assert lifecycle.decides_own_request(request, _staff(5))
    with pytest.raises(NotAllowed):
        lifecycle.check_not_own_request(request, _staff(5))
    for other in (_staff(6), Actor.system(), Actor.citizen()):
        assert not lifecycle.decides_own_request(request, other)
        lifecycle.check_not_own_request(request, other)  # no refusal
    # A request nobody on the staff made (the citizen's rating) is nobody's own.
    assert not lifecycle.decides_own_request(_request(None), Actor.system())


def test_pending_request_finds_the_waiting_one_of_the_kind() -> None:
    case = Case()
    done = _request(1)
    done.status = RequestStatus.DENIED
    waiting = _request(1)
    other = _request(1, RequestKind.RETURN)
    case.requests = [done, other, waiting]
    assert lifecycle.pending_request(case, RequestKind.EXTENSION) is waiting
    assert lifecycle.pending_request(case, RequestKind.RETURN) is other
    assert lifecycle.pending_request(case, RequestKind.REDO) is None
