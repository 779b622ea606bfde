"""Deciding a waiting request (DESIGN §4): a late return, an extension, a further
redo. One entry point checks what every decision needs; what approving or denying does
lives with the action it belongs to (``handling``, ``closing``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from caseapp.models import Case
from caseapp.models.enums import RequestKind
from caseapp.services.casework import closing, handling, lifecycle
from caseapp.services.casework.intake import optional_text, required_text
from caseapp.services.casework.lifecycle import Actor, Decision
from caseapp.services.filing.cases import now_or
from caseapp.services.transactions import one_transaction

# What deciding each kind of request does, and whether the decision needs a note (a
# late return takes the case from its handler: the supervisor says why).
DECIDE: dict[RequestKind, Callable[[Decision], None]] = {
    RequestKind.RETURN: handling.decide_return,
    RequestKind.EXTENSION: handling.decide_extension,
    RequestKind.REDO: closing.decide_redo,
}
NOTE_REQUIRED = frozenset({RequestKind.RETURN})


@one_transaction
def decide_request(
    kind: RequestKind,
    case: Case,
    actor: Actor,
    approve: bool,
    note: str = "",
    *,
    version: int | None,
    now: datetime | None = None,
) -> Case:
    """Approve or deny the waiting request of ``kind`` on ``case``: refused unless the
    table allows the deciding action, a request is waiting and it is not the actor's own."""
    now = now_or(now)
    request = lifecycle.request_to_decide(case, kind, actor, version)
    note = (required_text if kind in NOTE_REQUIRED else optional_text)(note, "note")
    DECIDE[kind](Decision(case, request, actor, approve, note, now, version))
    lifecycle.commit()
    return case
