"""Written notices to the citizen: which notice applies to which case, who issues it,
on which day, and the citizen's name masked until revealed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from caseapp.models.enums import CaseKind, CaseStatus, PetitionDecision
from caseapp.services.errors import NotFound
from caseapp.services.notices.written import (
    NoticeKind,
    decision_notice_kind,
    written_notice,
)
from tests.factories import case_in, user

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
S = CaseStatus


def test_an_unknown_kind_is_not_found(app_ctx: Flask, demo_base: None) -> None:
    case = case_in(S.DISPATCHED, now=NOW)
    with pytest.raises(NotFound):
        written_notice(case, "receipt", user("intake"))


def test_the_acceptance_notice_is_issued_by_the_lead_department_on_acceptance(
    app_ctx: Flask, demo_base: None
) -> None:
    case = case_in(S.IN_PROGRESS, now=NOW)
    notice = written_notice(case, "acceptance", user("intake"))
    assert notice.kind is NoticeKind.ACCEPTANCE
    assert notice.issuer is not None and notice.issuer.code == "zjj"
    assert notice.issued_at == case.accepted_at is not None


@pytest.mark.parametrize("status", [S.NEW, S.REJECTED])
def test_no_acceptance_notice_for_a_case_never_accepted(
    app_ctx: Flask, demo_base: None, status: CaseStatus
) -> None:
    case = case_in(status, now=NOW)
    with pytest.raises(NotFound):
        written_notice(case, "acceptance", user("intake"))


def test_the_rejection_notice_gives_the_reason_and_intakes_office(
    app_ctx: Flask, demo_base: None
) -> None:
    case = case_in(S.REJECTED, now=NOW)
    notice = written_notice(case, "rejection", user("intake"))
    assert notice.kind is NoticeKind.REJECTION
    assert notice.reason == "不属于受理范围"
    assert notice.issuer is not None and notice.issuer.code == "zfbgs"
    assert notice.belongs_to is None  # only a petition names where it belongs


def test_a_rejected_petition_names_the_channel_it_belongs_to(
    app_ctx: Flask, demo_base: None
) -> None:
    case = case_in(S.REJECTED, kind=CaseKind.PETITION, now=NOW)
    assert written_notice(case, "rejection", user("intake")).belongs_to == "court"


def test_no_rejection_notice_for_a_case_not_rejected(app_ctx: Flask, demo_base: None) -> None:
    case = case_in(S.DISPATCHED, now=NOW)
    with pytest.raises(NotFound):
        written_notice(case, "rejection", user("intake"))


def test_a_decided_petition_has_its_decision_notice(app_ctx: Flask, demo_base: None) -> None:
    case = case_in(S.RESOLVED, kind=CaseKind.PETITION, now=NOW)
    assert decision_notice_kind(case) is NoticeKind.DECISION
    notice = written_notice(case, "decision", user("supervisor"))
    assert notice.decision is PetitionDecision.SUPPORTED
    assert notice.answer == case.public_answer
    assert notice.issued_at == case.resolved_at
    assert notice.issuer is not None and notice.issuer.code == "zjj"
    assert notice.review is not None and notice.review.next_level == 0
    assert notice.review.due_at > case.resolved_at
    assert notice.reviewed is None
    with pytest.raises(NotFound):  # an original decision is not a review's
        written_notice(case, "review_decision", user("supervisor"))


def test_a_help_request_has_no_decision_notice(app_ctx: Flask, demo_base: None) -> None:
    case = case_in(S.RESOLVED, now=NOW)
    with pytest.raises(NotFound):
        written_notice(case, "decision", user("supervisor"))


def test_the_name_is_masked_until_revealed(app_ctx: Flask, demo_base: None) -> None:
    case = case_in(S.DISPATCHED, now=NOW)
    masked = written_notice(case, "acceptance", user("intake"))
    assert (masked.show_identity, masked.masked_name, masked.may_reveal) == (False, "张*英", True)
    shown = written_notice(case, "acceptance", user("intake"), revealed=True)
    assert (shown.show_identity, shown.masked_name, shown.may_reveal) == (True, "", False)


@pytest.mark.parametrize("status", [S.IN_PROGRESS, S.RESOLVED, S.CLOSED])
def test_the_acceptance_notice_states_the_answer_deadline_whenever_it_is_printed(
    app_ctx: Flask, demo_base: None, status: CaseStatus
) -> None:
    """Printed after the answer, the notice still gives the deadline the case had, not
    the moment it was answered."""
    from caseapp.models.enums import Clock

    case = case_in(status, now=NOW)
    runs = [row for row in case.clocks if row.clock is Clock.RESOLVE]
    deadline = max(runs, key=lambda row: row.started_at).due_at
    notice = written_notice(case, "acceptance", user("intake"))
    assert notice.dates.resolve_by == deadline
    if case.resolved_at is not None:
        assert notice.dates.resolve_by != case.resolved_at
