"""Who may do what on the citizen side (DESIGN §7), as data: what the filer, a follower
and anyone else see of a case, and which citizen actions each may take.

The lifecycle table (``workflow.lifecycle``) says from which statuses an action may be
taken; this table says which citizen may take it. The filer acts in the lifecycle's
``CITIZEN`` capacity, a follower in ``FOLLOWER``, anyone else in ``PUBLIC``, so the two
tables agree by construction: ``lifecycle.RULES`` names these capacities too, and
``test_citizen_access`` checks that they say the same.
"""

from __future__ import annotations

import enum

from caseapp.models.enums import CONFIDENTIAL_KINDS, CaseKind, EventAction
from caseapp.workflow.lifecycle import Capacity


class CitizenRole(enum.StrEnum):
    """How a browser stands to a case."""

    FILER = "filer"  # the private link, or number + phone + SMS code
    FOLLOWER = "follower"  # followed the case when the duplicate finder offered it
    PUBLIC = "public"  # anyone else: anonymous, or a session of another case


# The lifecycle capacity each citizen role acts in.
CAPACITY = {
    CitizenRole.FILER: Capacity.CITIZEN,
    CitizenRole.FOLLOWER: Capacity.FOLLOWER,
    CitizenRole.PUBLIC: Capacity.PUBLIC,
}


class Sight(enum.StrEnum):
    """What of a case a citizen may see."""

    STATUS = "status"  # number, status, kind, category, expected dates
    PUBLIC_REPLIES = "public_replies"  # staff's public replies, questions and the answer
    REQUEST_TEXT = "request_text"  # the title the filer wrote
    CITIZEN_TEXTS = "citizen_texts"  # what the filer added, answered, gave as reasons
    CITIZEN_FILES = "citizen_files"  # the filer's own uploads
    STAFF_FILES = "staff_files"  # files staff made public


class CitizenAction(enum.StrEnum):
    """Everything a citizen can ask of a case, one per citizen route."""

    VIEW = "view"
    OPEN_FILE = "open_file"
    ADD_INFORMATION = "add_information"
    REPLY = "reply"
    WITHDRAW = "withdraw"
    RATE = "rate"
    REQUEST_REVIEW = "request_review"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    CHOOSE_NOTICES = "choose_notices"


F, W, P = CitizenRole.FILER, CitizenRole.FOLLOWER, CitizenRole.PUBLIC

SEES: dict[CitizenRole, frozenset[Sight]] = {
    F: frozenset(Sight),
    # Nothing the filer did not agree to show: the request's own words only with the
    # filer's consent to show them publicly (``sees_request_text``), never their files.
    W: frozenset({Sight.STATUS, Sight.PUBLIC_REPLIES, Sight.STAFF_FILES}),
    # The status by number and phone (``/track``) is the filer's look-up, not a role.
    P: frozenset(),
}

MAY: dict[CitizenAction, frozenset[CitizenRole]] = {
    CitizenAction.VIEW: frozenset({F, W}),
    CitizenAction.OPEN_FILE: frozenset({F, W}),
    CitizenAction.ADD_INFORMATION: frozenset({F}),
    CitizenAction.REPLY: frozenset({F}),
    CitizenAction.WITHDRAW: frozenset({F}),
    CitizenAction.RATE: frozenset({F}),
    CitizenAction.REQUEST_REVIEW: frozenset({F}),
    # Only a case the duplicate finder offered to this browser (``may_be_followed``).
    CitizenAction.FOLLOW: frozenset({P}),
    CitizenAction.UNFOLLOW: frozenset({W}),
    CitizenAction.CHOOSE_NOTICES: frozenset({W}),
}

# The lifecycle action behind each citizen action that writes a case event.
LIFECYCLE_ACTION: dict[CitizenAction, EventAction] = {
    CitizenAction.ADD_INFORMATION: EventAction.ADD_INFORMATION,
    CitizenAction.REPLY: EventAction.CITIZEN_REPLIES,
    CitizenAction.WITHDRAW: EventAction.WITHDRAW,
    CitizenAction.RATE: EventAction.RATE,
    CitizenAction.REQUEST_REVIEW: EventAction.REQUEST_REVIEW,
    CitizenAction.FOLLOW: EventAction.FOLLOW,
    CitizenAction.UNFOLLOW: EventAction.UNFOLLOW,
}

# Texts of these events are the filer's own words (or a staff member's record of them).
CITIZEN_WORDS = frozenset(
    {
        EventAction.ADD_INFORMATION,
        EventAction.CITIZEN_REPLIES,
        EventAction.WITHDRAW,
        EventAction.RATE,
        EventAction.REQUEST_REVIEW,
    }
)


def may(role: CitizenRole, action: CitizenAction) -> bool:
    """Whether a citizen in ``role`` may ever take ``action`` (statuses aside)."""
    return role in MAY[action]


def sees(role: CitizenRole, sight: Sight, *, consent_public: bool = False) -> bool:
    """Whether a citizen in ``role`` sees ``sight`` of a case whose filer did or did not
    consent to show the request publicly."""
    if sight is Sight.REQUEST_TEXT and role is CitizenRole.FOLLOWER:
        return consent_public
    return sight in SEES[role]


def may_be_followed(kind: CaseKind, identity_confidential: bool) -> bool:
    """Petitions, reports (举报) and cases whose identity is confidential are never
    offered to follow: following one would tell a stranger who filed what."""
    return kind not in CONFIDENTIAL_KINDS and not identity_confidential
