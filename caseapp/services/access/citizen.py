"""The citizen side's one decision (DESIGN §7): who a browser is to a case, what of the
case it sees, and which actions its page offers — the same checks the services run
when the action is taken (``workflow.citizen_access`` is the table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Attachment, Case, CaseEvent, CaseFollower
from caseapp.models.enums import EventAction
from caseapp.services.access import tracking as citizen
from caseapp.services.casework import closing, lifecycle
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed, NotFound
from caseapp.services.filing import cases
from caseapp.services.filing.cases import now_or
from caseapp.workflow.citizen_access import (
    CITIZEN_WORDS,
    LIFECYCLE_ACTION,
    CitizenAction,
    CitizenRole,
    Sight,
    may,
    sees,
)

# Events a citizen sees on the case page: those with public text, and status changes.
CITIZEN_VISIBLE_ACTIONS = frozenset(
    {
        EventAction.SUBMIT,
        EventAction.ANSWER_DIRECTLY,
        EventAction.REJECT,
        EventAction.REINSTATE,
        EventAction.MERGE,
        EventAction.DISPATCH,
        EventAction.SIGN_FOR,
        EventAction.ASK_CITIZEN,
        EventAction.CITIZEN_REPLIES,
        EventAction.REPLY_WINDOW_PASSES,
        EventAction.RESOLVE,
        EventAction.RATE,
        EventAction.FEEDBACK_WINDOW_PASSES,
        EventAction.REOPEN,
        EventAction.WITHDRAW,
        EventAction.REQUEST_REVIEW,
        EventAction.ADD_INFORMATION,
        EventAction.DECIDE_EXTENSION,
    }
)


def role_of(actor: Actor) -> CitizenRole:
    """The citizen role ``actor`` acts in (``Actor.citizen(follower_id)`` is a follower)."""
    if actor.kind == "citizen":
        return CitizenRole.FOLLOWER if actor.follower_id else CitizenRole.FILER
    return CitizenRole.PUBLIC


def actor_for(case: Case, follower_id: int | None) -> Actor:
    """The actor a browser holding ``case`` is: its filer (``follower_id`` None), or the
    follower it followed as — NotAllowed once that follower stopped following."""
    if follower_id is None:
        return Actor.citizen()
    if not any(f.id == follower_id for f in case.followers):
        raise NotAllowed("this browser no longer follows the case")
    return Actor.citizen(follower_id)


def _lifecycle_allows(action: CitizenAction) -> Callable[[Case, Actor, datetime], None]:
    def check(case: Case, actor: Actor, now: datetime) -> None:
        lifecycle.check_action(case, LIFECYCLE_ACTION[action], actor, None, now)

    return check


def _no_check(case: Case, actor: Actor, now: datetime) -> None:
    return None


# Beyond the role, what each action needs of the case now: the very functions the
# services call before they act, so a page never offers what the service refuses.
CONDITIONS: dict[CitizenAction, Callable[[Case, Actor, datetime], None]] = {
    CitizenAction.VIEW: _no_check,
    CitizenAction.OPEN_FILE: _no_check,
    CitizenAction.ADD_INFORMATION: _lifecycle_allows(CitizenAction.ADD_INFORMATION),
    CitizenAction.REPLY: _lifecycle_allows(CitizenAction.REPLY),
    CitizenAction.WITHDRAW: _lifecycle_allows(CitizenAction.WITHDRAW),
    CitizenAction.RATE: closing.check_rate,
    CitizenAction.REQUEST_REVIEW: closing.check_review,
    CitizenAction.FOLLOW: lambda case, actor, now: cases.check_follow(case, actor),
    CitizenAction.UNFOLLOW: _lifecycle_allows(CitizenAction.UNFOLLOW),
    CitizenAction.CHOOSE_NOTICES: _no_check,
}


def check_role(actor: Actor, action: CitizenAction) -> None:
    """Refuse an action the citizen table never gives ``actor``'s role."""
    if not may(role_of(actor), action):
        raise NotAllowed(f"a {role_of(actor)} may not {action}")


def check(case: Case, actor: Actor, action: CitizenAction, now: datetime | None = None) -> None:
    """Refuse ``action`` unless ``actor`` may take it on ``case`` now."""
    check_role(actor, action)
    CONDITIONS[action](case, actor, now_or(now))


def offered_actions(
    case: Case, actor: Actor, now: datetime | None = None
) -> frozenset[CitizenAction]:
    """The actions the case page offers ``actor`` now: exactly those ``check`` passes."""
    now = now_or(now)
    offered = set()
    for action in CitizenAction:
        if action in (CitizenAction.VIEW, CitizenAction.OPEN_FILE, CitizenAction.FOLLOW):
            continue  # not buttons on the case page
        try:
            check(case, actor, action, now)
        except NotAllowed:
            continue
        offered.add(action)
    return frozenset(offered)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the citizen's timeline."""

    at: datetime
    action: EventAction
    text: str


@dataclass(frozen=True)
class CitizenCaseView:
    """What the case page shows a citizen, as the table lets their role see it."""

    case: Case
    role: CitizenRole
    title: str | None  # None: the reader may not see the filer's words (show the category)
    question: str | None  # staff's open question to the filer
    answer: str | None
    timeline: list[TimelineEntry]
    attachments: list[Attachment]
    dates: citizen.ExpectedDates
    offered: frozenset[CitizenAction]
    follower: CaseFollower | None

    @property
    def is_filer(self) -> bool:
        return self.role is CitizenRole.FILER


def _events(case: Case) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            sa.select(CaseEvent)
            .where(
                CaseEvent.case_id == case.id,
                sa.or_(CaseEvent.public.is_(True), CaseEvent.action.in_(CITIZEN_VISIBLE_ACTIONS)),
            )
            .order_by(CaseEvent.id)
        )
    )


def timeline(case: Case, role: CitizenRole) -> list[TimelineEntry]:
    """The case's timeline as a citizen in ``role`` sees it: no internal notes, no staff
    names; a follower sees what happened but not the filer's own words."""
    entries = []
    for event in _events(case):
        own_words = event.action in CITIZEN_WORDS
        shown = sees(role, Sight.CITIZEN_TEXTS if own_words else Sight.PUBLIC_REPLIES)
        entries.append(TimelineEntry(event.at, event.action, event.public_text if shown else ""))
    return entries


def attachments(case: Case, role: CitizenRole) -> list[Attachment]:
    """Files a citizen in ``role`` may open: the filer's own uploads (the filer only) and
    those staff made public."""
    own_files = sees(role, Sight.CITIZEN_FILES)
    staff_files = sees(role, Sight.STAFF_FILES)
    return [
        a
        for a in case.attachments
        if (own_files if a.uploaded_by_id is None else staff_files and a.public)
    ]


def attachment(case: Case, actor: Actor, attachment_id: int) -> Attachment:
    """One file of the case that ``actor`` may open, or NotFound."""
    check_role(actor, CitizenAction.OPEN_FILE)
    for found in attachments(case, role_of(actor)):
        if found.id == attachment_id:
            return found
    raise NotFound("no such file on this case")


def case_view(case: Case, actor: Actor, now: datetime | None = None) -> CitizenCaseView:
    """The case page for ``actor`` (the filer or a follower); NotAllowed for anyone else."""
    check_role(actor, CitizenAction.VIEW)
    role = role_of(actor)
    entries = timeline(case, role)
    question = next(
        (e.text for e in reversed(entries) if e.action is EventAction.ASK_CITIZEN), None
    )
    return CitizenCaseView(
        case=case,
        role=role,
        title=case.title
        if sees(role, Sight.REQUEST_TEXT, consent_public=case.consent_public)
        else None,
        question=question if sees(role, Sight.PUBLIC_REPLIES) else None,
        answer=case.public_answer if sees(role, Sight.PUBLIC_REPLIES) else None,
        timeline=entries,
        attachments=attachments(case, role),
        dates=citizen.expected_dates(case),
        offered=offered_actions(case, actor, now),
        follower=next((f for f in case.followers if f.id == actor.follower_id), None)
        if role is CitizenRole.FOLLOWER
        else None,
    )
