"""``access.citizen``: the citizen side's one decision (DESIGN §7). Who a browser is to a
case (``role_of``, ``actor_for``); which actions its role may ever take
(``check_role``, from ``workflow.citizen_access``) and may take now (``check``,
``offered_actions``: the lifecycle table's rule for the role's capacity); and what of
the case it sees (``timeline``, ``attachments``, ``attachment``, ``case_view``): the
filer everything, a follower the status and staff's public replies but never the
filer's own words or files, anyone else nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Attachment, Case, CaseEvent, CaseFollower
from caseapp.models.enums import CaseKind, CaseStatus, EventAction, NotifyBy
from caseapp.services.access import citizen
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed, NotFound
from caseapp.workflow.citizen_access import (
    CAPACITY,
    LIFECYCLE_ACTION,
    CitizenAction,
    CitizenRole,
    may,
)
from caseapp.workflow.lifecycle import who_may
from tests.factories import case_in, staff, user

A = CitizenAction
NOT_BUTTONS = frozenset({A.VIEW, A.OPEN_FILE, A.FOLLOW})
# The statuses the factories reach through the real actions.
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


def actor_in(role: CitizenRole, follower_id: int = 1) -> Actor:
    return {
        CitizenRole.FILER: Actor.citizen(),
        CitizenRole.FOLLOWER: Actor.citizen(follower_id),
        CitizenRole.PUBLIC: Actor.public(),
    }[role]


def follow(case: Case) -> CaseFollower:
    follower = CaseFollower(name="李四", phone="13900002222", notify_by=NotifyBy.SMS)
    case.followers.append(follower)
    db.session.commit()
    return follower


def attach(case: Case, filename: str, *, by_staff: bool, public: bool) -> Attachment:
    made = Attachment(
        case=case,
        filename=filename,
        content_type="image/jpeg",
        size=3,
        sha256="0" * 64,
        storage_key=f"00/{filename}",
        public=public,
        uploaded_by_id=user("handler").id if by_staff else None,
    )
    db.session.add(made)
    db.session.commit()
    return made


def event_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CaseEvent))


# --- who a browser is ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "role"),
    [
        (Actor.citizen(), CitizenRole.FILER),
        (Actor.citizen(7), CitizenRole.FOLLOWER),
        (Actor.public(), CitizenRole.PUBLIC),
        (Actor.system(), CitizenRole.PUBLIC),
        (Actor.api(), CitizenRole.PUBLIC),
        (Actor("staff"), CitizenRole.PUBLIC),
    ],
)
def test_role_of(actor: Actor, role: CitizenRole) -> None:
    assert citizen.role_of(actor) is role


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_actor_for_names_the_filer_or_a_follower_still_following() -> None:
    case = case_in(CaseStatus.NEW)
    follower = follow(case)
    assert citizen.actor_for(case, None) == Actor.citizen()
    assert citizen.actor_for(case, follower.id) == Actor.citizen(follower.id)
    gone = follower.id
    case.followers.remove(follower)
    db.session.commit()
    with pytest.raises(NotAllowed):
        citizen.actor_for(case, gone)


# --- what each role may do -------------------------------------------------------------------


@pytest.mark.parametrize("role", list(CitizenRole))
@pytest.mark.parametrize("action", list(CitizenAction))
def test_check_role_follows_the_citizen_table(role: CitizenRole, action: CitizenAction) -> None:
    if may(role, action):
        citizen.check_role(actor_in(role), action)
    else:
        with pytest.raises(NotAllowed):
            citizen.check_role(actor_in(role), action)


@pytest.mark.usefixtures("app_ctx", "demo_base")
@pytest.mark.parametrize("status", REACHABLE)
def test_offered_actions_are_those_the_lifecycle_table_gives_the_role_now(
    status: CaseStatus,
) -> None:
    case = case_in(status)
    for role in CitizenRole:
        expected = {
            action
            for action in CitizenAction
            if action not in NOT_BUTTONS
            and may(role, action)
            and (
                action not in LIFECYCLE_ACTION
                or CAPACITY[role] in who_may(LIFECYCLE_ACTION[action], status, case.kind)
            )
        }
        assert citizen.offered_actions(case, actor_in(role)) == expected, role


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_check_refuses_what_the_role_may_do_but_not_in_this_status() -> None:
    closed = case_in(CaseStatus.CLOSED)
    for action in (A.WITHDRAW, A.REPLY, A.ADD_INFORMATION, A.RATE):
        with pytest.raises(NotAllowed):
            citizen.check(closed, Actor.citizen(), action)
    # The page's own actions pass for the role that has them, in any status.
    citizen.check(closed, Actor.citizen(), A.VIEW)
    citizen.check(closed, Actor.citizen(3), A.CHOOSE_NOTICES)


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_a_help_request_is_never_offered_a_review_but_a_petition_decision_is() -> None:
    help_case = case_in(CaseStatus.RESOLVED)
    petition = case_in(CaseStatus.RESOLVED, kind=CaseKind.PETITION, category="petition")
    assert A.REQUEST_REVIEW not in citizen.offered_actions(help_case, Actor.citizen())
    assert A.REQUEST_REVIEW in citizen.offered_actions(petition, Actor.citizen())
    with pytest.raises(NotAllowed):
        citizen.check(help_case, Actor.citizen(), A.REQUEST_REVIEW)


# --- what each role sees ---------------------------------------------------------------------


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_the_timeline_hides_internal_notes_and_the_filer_s_words_from_followers() -> None:
    case = case_in(CaseStatus.AWAITING_CITIZEN)  # staff asked 请提供具体位置的照片。
    casework.add_note(case, staff("handler"), "内部：等现场照片", version=None)
    casework.add_note(case, staff("handler"), "我们正在处理。", public=True, version=None)
    casework.add_information(case, Actor.citizen(), "我家住在3号楼2单元。")

    filer = citizen.timeline(case, CitizenRole.FILER)
    follower = citizen.timeline(case, CitizenRole.FOLLOWER)
    public = citizen.timeline(case, CitizenRole.PUBLIC)
    assert [e.action for e in filer] == [e.action for e in follower] == [e.action for e in public]
    actions = [e.action for e in filer]
    assert actions.count(EventAction.NOTE) == 1  # the public reply, not the internal note
    assert all("内部" not in e.text for e in filer)
    texts = {e.action: e.text for e in filer}
    assert texts[EventAction.ADD_INFORMATION] == "我家住在3号楼2单元。"
    assert {e.action: e.text for e in follower}[EventAction.ADD_INFORMATION] == ""
    assert {e.action: e.text for e in follower}[EventAction.ASK_CITIZEN] == "请提供具体位置的照片。"
    assert {e.action: e.text for e in follower}[EventAction.NOTE] == "我们正在处理。"
    assert all(e.text == "" for e in public)


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_attachments_by_role() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    own = attach(case, "现场.jpg", by_staff=False, public=False)
    shown = attach(case, "整改后.jpg", by_staff=True, public=True)
    kept = attach(case, "内部.jpg", by_staff=True, public=False)

    def ids(role: CitizenRole) -> list[int]:
        return sorted(a.id for a in citizen.attachments(case, role))

    assert ids(CitizenRole.FILER) == sorted([own.id, shown.id])
    assert ids(CitizenRole.FOLLOWER) == [shown.id]
    assert ids(CitizenRole.PUBLIC) == []
    assert kept.id not in ids(CitizenRole.FILER)


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_attachment_opens_only_a_file_the_actor_may_see() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    other = case_in(CaseStatus.IN_PROGRESS)
    own = attach(case, "现场.jpg", by_staff=False, public=False)
    kept = attach(case, "内部.jpg", by_staff=True, public=False)
    elsewhere = attach(other, "别处.jpg", by_staff=False, public=False)
    assert citizen.attachment(case, Actor.citizen(), own.id).id == own.id
    for refused in (kept.id, elsewhere.id, 999_999):
        with pytest.raises(NotFound):
            citizen.attachment(case, Actor.citizen(), refused)
    with pytest.raises(NotFound):  # a follower never opens the filer's own file
        citizen.attachment(case, Actor.citizen(1), own.id)
    with pytest.raises(NotAllowed):
        citizen.attachment(case, Actor.public(), own.id)


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_case_view_for_the_filer_and_a_follower() -> None:
    case = case_in(CaseStatus.AWAITING_CITIZEN)
    follower = follow(case)

    mine = citizen.case_view(case, Actor.citizen())
    assert mine.is_filer and mine.role is CitizenRole.FILER
    assert mine.title == case.title
    assert mine.question == "请提供具体位置的照片。"
    assert mine.follower is None
    assert A.REPLY in mine.offered

    theirs = citizen.case_view(case, Actor.citizen(follower.id))
    assert not theirs.is_filer
    assert theirs.title is None  # the filer did not agree to show their words
    assert theirs.question == "请提供具体位置的照片。"
    assert theirs.follower is not None and theirs.follower.id == follower.id
    assert theirs.offered == {A.UNFOLLOW, A.CHOOSE_NOTICES}

    case.consent_public = True
    db.session.commit()
    assert citizen.case_view(case, Actor.citizen(follower.id)).title == case.title


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_case_view_is_refused_to_anyone_else_and_writes_nothing() -> None:
    case = case_in(CaseStatus.NEW)
    before = (case.version, event_count())
    for stranger in (Actor.public(), Actor.system(), Actor.api()):
        with pytest.raises(NotAllowed):
            citizen.case_view(case, stranger)
    db.session.expire_all()
    assert (db.session.get(Case, case.id).version, event_count()) == before


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_case_view_answer_is_the_public_answer() -> None:
    case = case_in(CaseStatus.RESOLVED)
    follower = follow(case)
    assert case.public_answer
    assert citizen.case_view(case, Actor.citizen()).answer == case.public_answer
    assert citizen.case_view(case, Actor.citizen(follower.id)).answer == case.public_answer
    assert citizen.case_view(case, Actor.citizen()).question is None
