"""``casework.decisions.decide_request``: one entry point for deciding a waiting request
(a late return, an extension, a further redo). Every decision is refused on a stale
version, where the table does not give the actor the deciding action, where no request
of the kind waits, and on a text that breaks the rules (a late return's note is
required, the others' optional); a refusal writes nothing. A decision settles the
request (who, when, the note) and writes the deciding event with ``approved``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, CaseRequest
from caseapp.models.enums import (
    CaseStatus,
    Clock,
    EventAction,
    RequestKind,
    RequestStatus,
    Satisfaction,
)
from caseapp.services.casework import clocks, closing, decisions
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import DomainError, NotAllowed, StaleVersion, ValidationFailed
from tests.factories import case_in, staff, user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

TZ = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


START = local(2026, 11, 2, 9, 0)  # a Monday
WHEN = {
    RequestKind.RETURN: local(2026, 11, 5, 10, 0),
    RequestKind.EXTENSION: local(2026, 11, 3, 10, 0),
    RequestKind.REDO: local(2026, 11, 24, 9, 0),
}


def extension_waiting() -> Case:
    case = case_in(CaseStatus.IN_PROGRESS, now=START)
    casework.request_extension(
        case, staff("handler"), 2, "需要协调", version=None, now=START + timedelta(hours=2)
    )
    return case


def return_waiting() -> Case:
    case = case_in(CaseStatus.DISPATCHED, now=START)
    late = local(2026, 11, 5, 9, 0)  # past the return window of the dispatch
    casework.request_return(case, staff("handler"), "不属于本单位", version=None, now=late)
    return case


def redo_waiting() -> Case:
    case = case_in(CaseStatus.RESOLVED, now=START)
    for day in (9, 16):
        closing.rate_case(
            case, Actor.citizen(), False, Satisfaction.UNSATISFIED, version=None,
            now=local(2026, 11, day, 9, 0),
        )  # fmt: skip
        casework.resolve_case(
            case, staff("handler"), "再次处理", version=None, now=local(2026, 11, day, 15, 0)
        )
    closing.rate_case(
        case, Actor.citizen(), False, Satisfaction.UNSATISFIED, version=None,
        now=local(2026, 11, 23, 9, 0),
    )  # fmt: skip
    return case


WAITING: dict[RequestKind, Callable[[], Case]] = {
    RequestKind.RETURN: return_waiting,
    RequestKind.EXTENSION: extension_waiting,
    RequestKind.REDO: redo_waiting,
}


def the_request(case: Case, kind: RequestKind) -> CaseRequest:
    [request] = db.session.scalars(
        sa.select(CaseRequest).where(CaseRequest.case_id == case.id, CaseRequest.kind == kind)
    ).all()
    return request


def written(case: Case) -> tuple[int, CaseStatus, list[EventAction], list[RequestStatus]]:
    """What a refusal must leave as it was, read back from the database."""
    db.session.expire_all()
    fresh = db.session.get(Case, case.id)
    assert fresh is not None
    actions = list(
        db.session.scalars(
            sa.select(CaseEvent.action).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )
    requests = list(
        db.session.scalars(
            sa.select(CaseRequest.status)
            .where(CaseRequest.case_id == case.id)
            .order_by(CaseRequest.id)
        )
    )
    return fresh.version, fresh.status, actions, requests


def refused(case: Case, error: type[DomainError], call: Callable[[], object]) -> None:
    before = written(case)
    with pytest.raises(error):
        call()
    db.session.rollback()
    assert written(case) == before, "a refused decision wrote something"


@pytest.mark.parametrize("kind", list(RequestKind))
@pytest.mark.parametrize("approve", [True, False])
def test_a_decision_settles_the_request_and_writes_the_deciding_event(
    kind: RequestKind, approve: bool
) -> None:
    case = WAITING[kind]()
    decisions.decide_request(
        kind, case, staff("supervisor"), approve, "  已审核  ", version=case.version, now=WHEN[kind]
    )
    request = the_request(case, kind)
    assert request.status is (RequestStatus.APPROVED if approve else RequestStatus.DENIED)
    assert request.decided_by_id == user("supervisor").id
    assert request.decided_at == WHEN[kind]
    assert request.decision_note == "已审核"  # cleaned
    deciding = {
        RequestKind.RETURN: EventAction.DECIDE_RETURN,
        RequestKind.EXTENSION: EventAction.DECIDE_EXTENSION,
        RequestKind.REDO: EventAction.DECIDE_REDO,
    }[kind]
    [event] = db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == deciding)
    ).all()
    assert event.at == WHEN[kind]
    assert event.data["approved"] is approve
    assert event.internal_text == "已审核"
    assert event.actor_id == user("supervisor").id


@pytest.mark.parametrize("kind", list(RequestKind))
def test_nothing_to_decide_is_refused_and_writes_nothing(kind: RequestKind) -> None:
    case = WAITING[kind]()
    decisions.decide_request(
        kind, case, staff("supervisor"), False, "不同意", version=None, now=WHEN[kind]
    )
    if case.status is CaseStatus.CLOSED:  # a denied redo closes the case: nothing to decide
        return
    refused(
        case,
        NotAllowed,
        lambda: decisions.decide_request(
            kind, case, staff("supervisor"), True, "同意", version=None, now=WHEN[kind]
        ),
    )


@pytest.mark.parametrize(
    ("kind", "status"),
    [(RequestKind.EXTENSION, CaseStatus.DISPATCHED), (RequestKind.RETURN, CaseStatus.IN_PROGRESS)],
)
def test_no_request_of_the_kind_waiting_is_refused(kind: RequestKind, status: CaseStatus) -> None:
    case = case_in(status)
    refused(
        case,
        NotAllowed,
        lambda: decisions.decide_request(
            kind, case, staff("supervisor"), True, "同意", version=None
        ),
    )


@pytest.mark.parametrize("kind", list(RequestKind))
def test_a_stale_version_is_refused_before_anything_else(kind: RequestKind) -> None:
    case = WAITING[kind]()
    stale = case.version - 1
    # Even someone the table never lets decide hears first that the case changed.
    for actor in (staff("supervisor"), staff("handler2")):
        refused(
            case,
            StaleVersion,
            lambda actor=actor: decisions.decide_request(
                kind, case, actor, True, "同意", version=stale, now=WHEN[kind]
            ),
        )


@pytest.mark.parametrize("kind", list(RequestKind))
@pytest.mark.parametrize("username", ["intake", "handler", "handler2", "leader"])
def test_only_those_the_table_names_decide(kind: RequestKind, username: str) -> None:
    case = WAITING[kind]()
    refused(
        case,
        NotAllowed,
        lambda: decisions.decide_request(
            kind, case, staff(username), True, "同意", version=None, now=WHEN[kind]
        ),
    )


@pytest.mark.parametrize("note", ["", "   ", "同意\x00", "长" * 4001])
def test_a_late_return_needs_a_proper_note(note: str) -> None:
    case = return_waiting()
    for approve in (True, False):
        refused(
            case,
            ValidationFailed,
            lambda approve=approve: decisions.decide_request(
                RequestKind.RETURN,
                case,
                staff("supervisor"),
                approve,
                note,
                version=None,
                now=WHEN[RequestKind.RETURN],
            ),  # fmt: skip
        )


@pytest.mark.parametrize("kind", [RequestKind.EXTENSION, RequestKind.REDO])
def test_other_decisions_take_an_empty_note(kind: RequestKind) -> None:
    case = WAITING[kind]()
    decisions.decide_request(kind, case, staff("supervisor"), True, version=None, now=WHEN[kind])
    request = the_request(case, kind)
    assert request.status is RequestStatus.APPROVED and request.decision_note == ""
    refused_case = WAITING[kind]()
    refused(
        refused_case,
        ValidationFailed,
        lambda: decisions.decide_request(
            kind, refused_case, staff("supervisor"), True, "x" * 4001, version=None, now=WHEN[kind]
        ),
    )


def test_a_denied_extension_leaves_the_deadline_and_a_denied_return_the_department() -> None:
    case = extension_waiting()
    [resolve] = clocks.running(case, Clock.RESOLVE)
    due = resolve.due_at
    decisions.decide_request(
        RequestKind.EXTENSION, case, staff("supervisor"), False, version=None,
        now=WHEN[RequestKind.EXTENSION],
    )  # fmt: skip
    assert resolve.due_at == due and resolve.extended_by == 0

    held = return_waiting()
    lead, version = held.lead_department_id, held.version
    decisions.decide_request(
        RequestKind.RETURN, held, staff("supervisor"), False, "仍属本单位", version=version,
        now=WHEN[RequestKind.RETURN],
    )  # fmt: skip
    assert held.status is CaseStatus.DISPATCHED and held.lead_department_id == lead
    assert held.version == version + 1
