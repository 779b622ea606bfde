"""The staff case page beside the case itself (services.pages.case_page): the timeline
oldest first, the running clocks with the share of their period used, the departments
a lead may forward to, the reply templates of the case's category, the linked cases the
user may see, and the possible duplicates without the case itself.

Which milestones of the case plan are late: tests/services/casework/test_plans.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Category, ReplyTemplate
from caseapp.models.enums import CaseKind, CaseStatus, Clock, EventAction, PetitionDecision, Role
from caseapp.services.access.accounts import create_user
from caseapp.services.casework import clocks as deadlines
from caseapp.services.casework import closing, intake, supervision
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.filing.cases import NewFollower, follow_case
from caseapp.services.pages import case_page
from tests import factories
from tests.factories import case_in, department, new_case, staff, user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a Monday


# --- the timeline ----------------------------------------------------------------------------


def test_the_timeline_is_every_event_of_the_case_oldest_first_with_who_acted() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=T0)
    other = new_case(now=T0)
    supervision.urge_case(case, staff("supervisor"), "加快办理", version=None, now=T0)
    timeline = case_page.timeline(case)
    assert [e.action for e in timeline] == [
        EventAction.SUBMIT,
        EventAction.DISPATCH,
        EventAction.SIGN_FOR,
        EventAction.URGE,
    ]
    assert [e.id for e in timeline] == sorted(e.id for e in timeline)
    assert {e.case_id for e in timeline} == {case.id} != {other.id}
    assert [e.actor.username if e.actor else None for e in timeline] == [
        None,
        "intake",
        "handler",
        "supervisor",
    ]


# --- the running clocks ----------------------------------------------------------------------


def _accept_clock_of_a_new_case():  # type: ignore[no-untyped-def]
    case = new_case(now=T0)
    [row] = deadlines.running(case)
    assert row.clock is Clock.ACCEPT
    return case, row


@pytest.mark.parametrize(
    ("share", "used", "overdue"),
    [(-0.5, 0, False), (0.0, 0, False), (0.25, 25, False), (0.999, 100, False),
     (1.0, 100, True), (3.0, 100, True)],
)  # fmt: skip
def test_the_share_used_is_of_the_clock_s_period_between_0_and_100(
    share: float, used: int, overdue: bool
) -> None:
    case, row = _accept_clock_of_a_new_case()
    now = row.started_at + (row.due_at - row.started_at) * share
    [view] = case_page.running_clocks(case, now)
    assert (view.clock, view.started_at, view.due_at) == ("accept", row.started_at, row.due_at)
    assert (view.used_percent, view.overdue, view.paused, view.level) == (used, overdue, False, 0)


def test_a_paused_clock_counts_up_to_its_pause_and_is_never_overdue_while_paused() -> None:
    case = case_in(CaseStatus.AWAITING_CITIZEN, now=T0)
    views = case_page.running_clocks(case, T0 + timedelta(days=365))
    by_clock = {v.clock: v for v in views}
    assert set(by_clock) == {str(r.clock) for r in deadlines.running(case)}
    [resolve] = deadlines.running(case, Clock.RESOLVE)
    period = (resolve.due_at - resolve.started_at).total_seconds()
    waited = (resolve.paused_at - resolve.started_at).total_seconds()
    assert by_clock["resolve"].paused and not by_clock["resolve"].overdue
    assert by_clock["resolve"].used_percent == round(waited / period * 100) < 100
    assert [v.due_at for v in views] == sorted(v.due_at for v in views)


def test_stopped_clocks_are_not_shown_and_the_level_is_the_clock_s() -> None:
    case = case_in(CaseStatus.IN_PROGRESS, now=T0)
    supervision.urge_case(case, staff("supervisor"), "加快办理", version=None, now=T0)
    views = case_page.running_clocks(case, T0)
    assert Clock.ACCEPT not in {r.clock for r in deadlines.running(case)}
    assert "accept" not in {v.clock for v in views} and views
    assert {v.clock: v.level for v in views} == {
        str(r.clock): r.escalation_level for r in deadlines.running(case)
    }
    assert any(v.level == 3 for v in views)


# --- the choices of the forms ----------------------------------------------------------------


def test_child_departments_are_the_lead_s_current_children_by_id() -> None:
    assert case_page.child_departments(new_case(now=T0)) == []  # no lead department yet
    assert case_page.child_departments(case_in(CaseStatus.DISPATCHED, now=T0)) == []  # zjj
    district = case_in(CaseStatus.DISPATCHED, lead="yhq", now=T0)
    children = ["yhq-bc", "yhq-nc", "yhq-dc", "yhq-xc", "yhq-ay"]
    assert [d.code for d in case_page.child_departments(district)] == children
    department("yhq-nc").retired_at = T0
    db.session.commit()
    assert [d.code for d in case_page.child_departments(district)] == [
        c for c in children if c != "yhq-nc"
    ]


def test_reply_templates_are_the_category_s_first_then_the_general_ones() -> None:
    case = new_case(now=T0)
    water = db.session.scalar(sa.select(Category).where(Category.service_code == "water"))

    def template(title: str, category_id: int | None, retired: bool = False) -> ReplyTemplate:
        row = ReplyTemplate(
            title=title,
            category_id=category_id,
            body_zh=title,
            retired_at=datetime(2026, 1, 1, tzinfo=UTC) if retired else None,
        )
        db.session.add(row)
        db.session.flush()
        return row

    general = template("通用答复", None)
    own = template("路面已修复", case.category_id)
    template("停水答复", water.id)
    template("旧答复", case.category_id, retired=True)
    template("旧通用", None, retired=True)
    own_too = template("已安排勘查", case.category_id)
    db.session.commit()
    assert [t.id for t in case_page.reply_templates(case)] == [own.id, own_too.id, general.id]


# --- the linked cases ------------------------------------------------------------------------


def test_merged_cases_and_followers_are_linked_as_the_user_may_see_them() -> None:
    survivor = case_in(CaseStatus.DISPATCHED, now=T0)
    duplicate = new_case(title="红旗西街人行道又坏了", now=T0)
    intake.merge_case(duplicate, staff("intake"), survivor, version=None, now=T0)
    follow_case(
        survivor, Actor.public(), NewFollower("李明", "13900001111"), offered={survivor.number}
    )
    seen_by_intake = case_page.links(survivor, user("intake"))
    assert seen_by_intake.merged == [duplicate] and seen_by_intake.followers == 2
    assert case_page.links(survivor, user("handler")).merged == []  # never dispatched to zjj
    assert case_page.links(survivor, user("handler2")).merged == []
    back = case_page.links(duplicate, user("intake"))
    assert back.duplicate_of == survivor and back.merged == []
    assert (back.review_of, back.reviewed, back.review_of_visible, back.reviews) == (
        None,
        None,
        False,
        [],
    )


def test_a_review_shows_the_decision_it_reviews_even_to_who_may_not_open_it() -> None:
    original = case_in(CaseStatus.RESOLVED, kind=CaseKind.PETITION, category="petition", now=T0)
    review, _key = closing.request_review(
        original, Actor.citizen(), "不服，申请复查", now=T0 + timedelta(days=10)
    )
    bureau = create_user("xfj-handler", "long-enough-pw", "信访局承办人", [Role.HANDLER], "xfj")
    for who, visible in ((user("intake"), True), (bureau, False)):
        shown = case_page.links(review, who)
        assert shown.review_of == original and shown.review_of_visible is visible
        assert shown.reviewed is not None and shown.reviewed.case == original
        assert shown.reviewed.decision is PetitionDecision.SUPPORTED
    assert case_page.links(original, user("intake")).reviews == [review]
    assert case_page.links(original, user("handler2")).reviews == []


def test_the_ledger_items_of_the_case_are_linked() -> None:
    factories.legacy_ledger()
    case = case_in(CaseStatus.IN_PROGRESS, now=T0)
    assert case_page.links(case, user("intake")).ledger_items == []
    item = supervision.mark_legacy(case, staff("intake"), version=None, now=T0)
    assert case_page.links(case, user("handler")).ledger_items == [item]


# --- possible duplicates ---------------------------------------------------------------------


def test_possible_duplicates_leave_the_case_out_and_offer_at_most_five() -> None:
    cases = [new_case(now=T0 + timedelta(minutes=n)) for n in range(7)]
    for case in (cases[0], cases[-1]):
        offered = [m.case.id for m in case_page.possible_duplicates(case)]
        assert case.id not in offered
        assert len(offered) == 5 and set(offered) < {c.id for c in cases}
    lone = new_case(category="water", title="人民路停水三天", description="人民路停水。", now=T0)
    assert case_page.possible_duplicates(lone) == []
