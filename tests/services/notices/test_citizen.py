"""Citizen notices into the outbox (services.notices.citizen): one row per person who
wants to be told — the filer and every follower, each address once — in their channel
and language, with a key that makes a repeat harmless; only the notices DESIGN §7 names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseEvent, CaseFollower, OutboxMessage
from caseapp.models.enums import EventAction, NotifyBy, OutboxChannel
from caseapp.notify.texts import TEXTS
from caseapp.services.casework import lifecycle
from caseapp.services.notices.citizen import (
    CITIZEN_TEMPLATES,
    PERSONAL_TEMPLATES,
    notify_citizens,
)
from tests.factories import new_case, staff

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("template", sorted(CITIZEN_TEMPLATES | PERSONAL_TEMPLATES))
def test_every_notice_has_a_text_in_both_languages(template: str) -> None:
    assert set(TEXTS[template]) == {"zh_CN", "en"}


def test_a_personal_notice_is_not_one_for_followers() -> None:
    assert not PERSONAL_TEMPLATES & CITIZEN_TEMPLATES


def quiet_case(notify_by: NotifyBy = NotifyBy.NONE, **fields: object) -> Case:
    """A case filed by someone who wanted no notices (its receipt queued nothing), who
    then chose ``notify_by``."""
    case = new_case(notify_by=NotifyBy.NONE, **fields)
    case.notify_by = notify_by
    return case


def note_event(case: Case) -> CaseEvent:
    """An event not yet flushed (no id)."""
    return lifecycle.record_event(case, EventAction.NOTE, staff("intake"), AT, internal_text="x")


def follow(case: Case, **fields: object) -> CaseFollower:
    values: dict[str, object] = {"name": "李明", "phone": "", "notify_by": NotifyBy.SMS}
    values.update(fields)
    follower = CaseFollower(**values)
    case.followers.append(follower)
    db.session.flush()
    return follower


def outbox(case: Case) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id)
    ).all()


pytest_db = pytest.mark.usefixtures("app_ctx", "demo_base")


@pytest_db
@pytest.mark.parametrize("template", ["access_code", "receipt ", "Receipt", "nothing"])
def test_an_unknown_notice_is_refused_and_queues_nothing(template: str) -> None:
    case = new_case()
    before = len(outbox(case))
    with pytest.raises(ValueError, match="unknown citizen notice"):
        notify_citizens(case, note_event(case), template)
    assert len(outbox(case)) == before


@pytest_db
def test_one_row_per_person_in_their_channel_and_language() -> None:
    case = quiet_case(citizen_email="zhang@example.cn", notify_by=NotifyBy.EMAIL, language="en")
    follow(case, phone="13900001111", notify_by=NotifyBy.SMS, language="zh_CN")
    follow(case, phone="13900002222", email="wang@example.cn", notify_by=NotifyBy.EMAIL)
    event = note_event(case)
    rows = notify_citizens(case, event, "answer", {"text": "已修复"})
    assert [(r.channel, r.recipient, r.language) for r in rows] == [
        (OutboxChannel.EMAIL, "zhang@example.cn", "en"),
        (OutboxChannel.SMS, "13900001111", "zh_CN"),
        (OutboxChannel.EMAIL, "wang@example.cn", "zh_CN"),
    ]
    db.session.commit()
    assert [r.id for r in outbox(case)] == [r.id for r in rows]
    for row in rows:
        assert row.template == "answer" and row.case_id == case.id
        assert row.params == {"number": case.number, "text": "已修复"}
        assert row.next_attempt_at == AT and row.created_at == AT


@pytest_db
def test_people_who_want_nothing_or_gave_no_address_are_left_out() -> None:
    case = quiet_case()
    follow(case, phone="13900001111", notify_by=NotifyBy.NONE)
    follow(case, phone="", notify_by=NotifyBy.SMS)
    follow(case, phone="13900002222", email="", notify_by=NotifyBy.EMAIL)
    assert notify_citizens(case, note_event(case), "closing") == []
    db.session.commit()
    assert outbox(case) == []


@pytest_db
def test_the_same_address_is_told_once_in_the_first_person_s_language() -> None:
    """The filer who filed again (a merged duplicate, now a follower) gets one SMS."""
    case = quiet_case(notify_by=NotifyBy.SMS, language="en")
    follow(case, phone=case.citizen_phone, notify_by=NotifyBy.SMS, language="zh_CN")
    follow(case, phone="13900001111", email=case.citizen_phone, notify_by=NotifyBy.EMAIL)
    rows = notify_citizens(case, note_event(case), "redo")
    assert [(r.channel, r.recipient, r.language) for r in rows] == [
        (OutboxChannel.SMS, case.citizen_phone, "en"),
        # The same string as an email address is another address.
        (OutboxChannel.EMAIL, case.citizen_phone, "zh_CN"),
    ]


@pytest_db
def test_the_event_is_flushed_and_its_id_is_in_every_key() -> None:
    case = quiet_case(notify_by=NotifyBy.SMS)
    follow(case, phone="13900001111")
    event = note_event(case)
    assert event.id is None
    rows = notify_citizens(case, event, "question")
    assert event.id is not None
    keys = [r.idempotency_key for r in rows]
    assert len(set(keys)) == 2
    assert all(k.startswith(f"case-{case.id}-event-{event.id}-question-sms-") for k in keys)
    assert all(case.citizen_phone not in k for k in keys)  # the phone is hashed


@pytest_db
def test_another_notice_or_another_event_gets_another_key() -> None:
    case = quiet_case(notify_by=NotifyBy.SMS)
    first = note_event(case)
    keys = [notify_citizens(case, first, "question")[0].idempotency_key]
    keys.append(notify_citizens(case, first, "answer")[0].idempotency_key)
    keys.append(notify_citizens(case, note_event(case), "answer")[0].idempotency_key)
    db.session.commit()
    assert len(set(keys)) == 3
    assert [r.idempotency_key for r in outbox(case)] == keys


@pytest_db
def test_every_notice_carries_the_case_number_beside_its_params() -> None:
    case = quiet_case(notify_by=NotifyBy.SMS)
    [row] = notify_citizens(case, note_event(case), "deadline_moved", {"due": "2026-03-09"})
    assert row.params == {"number": case.number, "due": "2026-03-09"}
