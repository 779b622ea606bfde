"""Filing and following a case (services.filing.cases): a filing opens a new case with
its acceptance clock, its event, the filer's receipt and a private link shown once (kept
only hashed), and keeps nothing — rows or files — when any part fails; a further citizen
follows a case offered to them, chooses their notices and stops following; the lookups
by number and by link; the shared helpers (departments, participants, the earliest date).

What a filing's fields may hold: test_validation.py; the numbers: test_numbers.py."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image

from caseapp.extensions import db
from caseapp.models import (
    Attachment,
    Case,
    CaseClock,
    CaseEvent,
    CaseFollower,
    CaseParticipant,
    OutboxMessage,
)
from caseapp.models.enums import (
    CONFIDENTIAL_KINDS,
    CaseKind,
    CaseStatus,
    Channel,
    Clock,
    EventAction,
    NotifyBy,
)
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.errors import NotAllowed, NotFound, ValidationFailed
from caseapp.services.filing import cases
from caseapp.services.filing.attachments import Upload, checked_uploads
from caseapp.services.filing.cases import NewCase, NewFollower
from tests.factories import department, new_case, staff, user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
FOLLOWER = NewFollower("李明", "139 0000 1111")


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def events(case: Case) -> list[CaseEvent]:
    return db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()


def filing(**fields: object) -> NewCase:
    values: dict[str, object] = {
        "kind": CaseKind.HELP,
        "category_code": "road-damage",
        "title": "红旗西街人行道破损",
        "description": "砖块松动。",
        "citizen_name": "张秀英",
        "citizen_phone": "13812345678",
        "notify_by": NotifyBy.SMS,
        "consent_privacy": True,
    }
    values.update(fields)
    return NewCase(**values)  # type: ignore[arg-type]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def stored_files(app: Flask) -> list[Path]:
    return [p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]


# --- filing ----------------------------------------------------------------------------------


def test_a_filing_opens_a_new_case_with_its_clock_event_receipt_and_private_link() -> None:
    case, key = cases.submit_case(filing(), Actor.citizen(), NOW)
    db.session.expire_all()
    assert case.status is CaseStatus.NEW and case.received_at == NOW == case.created_at
    assert case.consent_privacy_at == NOW
    [clock] = db.session.scalars(sa.select(CaseClock).where(CaseClock.case_id == case.id)).all()
    assert clock.clock is Clock.ACCEPT and clock.started_at == NOW
    assert case.next_deadline_at == clock.due_at > NOW
    [submit] = events(case)
    assert (submit.action, submit.to_status, submit.actor_kind) == (
        EventAction.SUBMIT,
        CaseStatus.NEW,
        "citizen",
    )
    assert submit.data == {"channel": "web", "repeat_of_final": False}
    [receipt] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert (receipt.template, receipt.recipient, receipt.case_id) == (
        "receipt",
        "13812345678",
        case.id,
    )
    assert receipt.params == {"number": case.number, "accept_by": clock.due_at.isoformat()}
    # The key is shown once and kept only as its hash.
    assert len(key) >= 32 and key not in case.access_key_hash
    assert case.access_key_hash == cases.hash_key(key)
    assert cases.case_by_access_key(key) == (case, None)


def test_every_filing_gets_its_own_private_link() -> None:
    keys = {cases.submit_case(filing(), Actor.citizen(), NOW)[1] for _ in range(3)}
    hashes = set(db.session.scalars(sa.select(Case.access_key_hash)))
    assert len(keys) == 3 and hashes == {cases.hash_key(k) for k in keys}


@pytest.mark.parametrize(
    ("actor", "asked", "channel"),
    [
        (Actor.citizen(), Channel.WEB, Channel.WEB),
        (Actor.citizen(), Channel.PHONE, Channel.WEB),  # a citizen files on the web
        (Actor.citizen(), Channel.API, Channel.WEB),
        (Actor.api(), Channel.WEB, Channel.API),  # an API client files through the API
        (Actor.api(), Channel.LETTER, Channel.API),
    ],
)
def test_the_channel_is_the_one_the_filer_used(
    actor: Actor, asked: Channel, channel: Channel
) -> None:
    case, _key = cases.submit_case(filing(channel=asked), actor, NOW)
    assert case.channel is channel
    assert events(case)[0].data["channel"] == str(channel)


@pytest.mark.parametrize("kind", list(CaseKind), ids=str)
def test_the_identity_is_confidential_exactly_for_reports_and_petitions(kind: CaseKind) -> None:
    case = new_case(kind=kind, now=NOW)
    assert case.identity_confidential is (kind in CONFIDENTIAL_KINDS)


@pytest.mark.parametrize(("asked", "kept"), [("en", "en"), ("zh_CN", "zh_CN"), ("fr", "zh_CN")])
def test_the_language_is_english_or_chinese(asked: str, kept: str) -> None:
    assert new_case(language=asked, now=NOW).language == kept


def test_staff_filing_for_a_citizen_stay_responsible_for_it_and_a_citizen_does_not() -> None:
    taken, _ = cases.submit_case(
        filing(channel=Channel.WINDOW), staff("intake"), NOW - timedelta(hours=1)
    )
    filed = new_case(now=NOW)
    intake_id = user("intake").id
    assert (taken.created_by_id, taken.first_responsible_id) == (intake_id, intake_id)
    assert (filed.created_by_id, filed.first_responsible_id) == (None, None)
    participants = db.session.execute(
        sa.select(CaseParticipant.case_id, CaseParticipant.user_id).order_by(
            CaseParticipant.case_id
        )
    ).all()
    assert participants == [(taken.id, intake_id)]


@pytest.mark.parametrize("username", ["handler", "lead", "leader", "admin"])
def test_staff_who_do_not_take_requests_file_nothing(username: str) -> None:
    with pytest.raises(NotAllowed):
        cases.submit_case(filing(channel=Channel.PHONE), staff(username), NOW)
    assert (count(Case), count(CaseEvent), count(OutboxMessage)) == (0, 0, 0)


def test_files_are_stored_with_the_case_and_never_public(app_ctx: Flask) -> None:
    files = checked_uploads([Upload("路面.png", png())])
    case, _key = cases.submit_case(filing(), Actor.citizen(), NOW, files)
    [row] = db.session.scalars(sa.select(Attachment)).all()
    assert (row.case_id, row.public, row.uploaded_by_id) == (case.id, False, None)
    assert [p.read_bytes() for p in stored_files(app_ctx)] == [files[0].data]


def test_a_filing_that_fails_after_storing_its_files_keeps_neither_rows_nor_files(
    app_ctx: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(cases, "attach_files", fails)
    with pytest.raises(RuntimeError):
        cases.submit_case(filing(), Actor.citizen(), NOW, checked_uploads([Upload("a.png", png())]))
    assert (count(Case), count(CaseEvent), count(OutboxMessage), count(CaseClock)) == (0, 0, 0, 0)
    assert stored_files(app_ctx) == []


# --- looking a case up -----------------------------------------------------------------------


def test_a_case_is_found_by_its_number_and_only_by_it() -> None:
    case = new_case(now=NOW)
    assert cases.case_by_number(case.number) == case
    for other in (case.number.lower(), case.number + "0", "", "YC2026-999999"):
        with pytest.raises(NotFound):
            cases.case_by_number(other)


def test_a_private_link_opens_its_case_for_its_filer_or_its_follower() -> None:
    case = new_case(now=NOW)
    key, follower = cases.follow_case(case, Actor.public(), FOLLOWER, offered={case.number})
    assert cases.case_by_access_key(key) == (case, follower)
    for wrong in ("", key[:-1], case.access_key_hash):  # the stored hash is not a key
        with pytest.raises(NotFound):
            cases.case_by_access_key(wrong)


# --- following -------------------------------------------------------------------------------


def test_a_follower_is_kept_cleaned_with_a_link_of_their_own() -> None:
    case = new_case(now=NOW)
    version = case.version
    key, follower = cases.follow_case(
        case,
        Actor.public(),
        NewFollower(" 李明 ", "+86 139-0000-1111", " Li@Example.cn ", NotifyBy.EMAIL, "fr"),
        offered={"YC2026-999999", case.number},
        now=NOW,
    )
    db.session.expire_all()
    assert (follower.name, follower.phone, follower.email) == (
        "李明",
        "13900001111",
        "Li@example.cn",  # the domain lower-cased, the mailbox kept
    )
    assert (follower.notify_by, follower.language, follower.created_at) == (
        NotifyBy.EMAIL,
        "zh_CN",
        NOW,
    )
    assert follower.access_key_hash == cases.hash_key(key) != case.access_key_hash
    assert case.followers == [follower] and case.version == version + 1
    assert events(case)[-1].action is EventAction.FOLLOW


def test_only_a_case_offered_to_the_citizen_is_followed() -> None:
    case = new_case(now=NOW)
    other = new_case(title="解放路井盖缺失", now=NOW)
    with pytest.raises(NotAllowed, match="not offered"):
        cases.follow_case(case, Actor.public(), FOLLOWER, offered={other.number})
    assert count(CaseFollower) == 0 and [e.action for e in events(case)] == [EventAction.SUBMIT]


@pytest.mark.parametrize("kind", list(CaseKind), ids=str)
def test_a_case_may_be_followed_unless_its_kind_is_confidential(kind: CaseKind) -> None:
    case = new_case(kind=kind, now=NOW)
    if kind in CONFIDENTIAL_KINDS:
        with pytest.raises(NotAllowed):
            cases.follow_case(case, Actor.public(), FOLLOWER, offered={case.number})
        assert count(CaseFollower) == 0
    else:
        cases.follow_case(case, Actor.public(), FOLLOWER, offered={case.number})
        assert count(CaseFollower) == 1


@pytest.mark.parametrize(
    ("new", "reasons"),
    [
        (NewFollower("", "13900001111"), {"citizen_name"}),
        (NewFollower("李" * 81, "13900001111"), {"citizen_name"}),
        (NewFollower("李明\x07", "13900001111"), {"citizen_name"}),
        (NewFollower("李明", ""), {"citizen_phone"}),
        (NewFollower("李明", "0359-2345678"), {"citizen_phone"}),  # a landline gets no SMS
        (NewFollower("李明", "13900001111", "not-an-address"), {"citizen_email"}),
        (NewFollower("李明", "13900001111", notify_by=NotifyBy.EMAIL), {"notify_by"}),
        (NewFollower("", "12345", "x@", NotifyBy.EMAIL), {"citizen_name", "citizen_phone",
                                                          "citizen_email", "notify_by"}),
    ],
    ids=["no name", "long name", "control", "no phone", "landline", "email", "no email", "all"],
)  # fmt: skip
def test_a_follower_refused_on_their_fields_writes_nothing(
    new: NewFollower, reasons: set[str]
) -> None:
    case = new_case(now=NOW)
    version = case.version
    with pytest.raises(ValidationFailed) as refused:
        cases.follow_case(case, Actor.public(), new, offered={case.number}, now=NOW)
    assert set(refused.value.field_errors) == reasons
    db.session.expire_all()
    assert count(CaseFollower) == 0 and case.version == version
    assert [e.action for e in events(case)] == [EventAction.SUBMIT]


def test_unfollowing_removes_the_follower_and_their_link_and_is_an_event() -> None:
    case = new_case(now=NOW)
    key, follower = cases.follow_case(case, Actor.public(), FOLLOWER, offered={case.number})
    follower_id = follower.id
    cases.unfollow_case(case, Actor.citizen(follower_id), now=NOW)
    db.session.expire_all()
    assert count(CaseFollower) == 0 and case.followers == []
    last = events(case)[-1]
    assert (last.action, last.data) == (EventAction.UNFOLLOW, {"follower_id": follower_id})
    with pytest.raises(NotFound):
        cases.case_by_access_key(key)


def test_only_a_follower_of_the_case_unfollows_it() -> None:
    case = new_case(now=NOW)
    other = new_case(title="解放路井盖缺失", now=NOW)
    _key, theirs = cases.follow_case(other, Actor.public(), FOLLOWER, offered={other.number})
    _key, mine = cases.follow_case(case, Actor.public(), FOLLOWER, offered={case.number})
    written = len(events(case))
    for actor in (Actor.citizen(), Actor.citizen(theirs.id), Actor.public(), staff("intake")):
        with pytest.raises(NotAllowed):
            cases.unfollow_case(case, actor, now=NOW)
    assert count(CaseFollower) == 2 and len(events(case)) == written
    assert cases.follower_of(case, Actor.citizen(mine.id)) == mine


def test_a_follower_chooses_their_notices_and_the_case_s_stay() -> None:
    case = new_case(now=NOW)
    _key, follower = cases.follow_case(
        case,
        Actor.public(),
        NewFollower("李明", "13900001111", "li@example.cn"),
        offered={case.number},
    )
    version = case.version
    as_follower = Actor.citizen(follower.id)
    for choice in (NotifyBy.EMAIL, NotifyBy.NONE, NotifyBy.SMS):
        cases.choose_notices(case, as_follower, choice)
        db.session.expire_all()
        assert follower.notify_by is choice
    assert case.notify_by is NotifyBy.SMS and case.version == version


def test_email_notices_need_an_email_and_a_refusal_keeps_the_choice() -> None:
    case = new_case(now=NOW)
    _key, follower = cases.follow_case(case, Actor.public(), FOLLOWER, offered={case.number})
    with pytest.raises(ValidationFailed) as refused:
        cases.choose_notices(case, Actor.citizen(follower.id), NotifyBy.EMAIL)
    assert set(refused.value.field_errors) == {"notify_by"}
    db.session.expire_all()
    assert follower.notify_by is NotifyBy.SMS
    with pytest.raises(NotAllowed):
        cases.choose_notices(case, Actor.citizen(), NotifyBy.NONE)  # the filer is no follower
    assert case.notify_by is NotifyBy.SMS


# --- the helpers every action shares --------------------------------------------------------


def test_a_department_is_found_unless_it_is_missing_or_retired() -> None:
    zjj = department("zjj")
    assert cases.department_by_id(zjj.id) == zjj
    cgj = department("cgj")
    cgj.retired_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    for wrong in (None, 0, 99999, cgj.id):
        with pytest.raises(ValidationFailed) as refused:
            cases.department_by_id(wrong)
        assert set(refused.value.field_errors) == {"department"}


def test_a_participant_is_added_once_and_nobody_is_no_participant() -> None:
    case = new_case(now=NOW)
    handler = user("handler")
    cases.add_participant(case, None)
    cases.add_participant(case, handler)
    cases.add_participant(case, handler)  # still pending: not added twice
    db.session.commit()
    cases.add_participant(case, handler)  # already stored
    db.session.commit()
    rows = db.session.execute(sa.select(CaseParticipant.case_id, CaseParticipant.user_id)).all()
    assert rows == [(case.id, handler.id)]


@pytest.mark.parametrize("setting", ["2000-01-01", "2020-02-29"])
def test_the_earliest_date_received_is_local_midnight_of_the_setting(
    app_ctx: Flask, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setitem(app_ctx.config, "FILING_EARLIEST_DATE", setting)
    earliest = cases.earliest_received_at()
    assert (
        earliest.astimezone(TZ).time() == time(0)
        and earliest.astimezone(TZ).date().isoformat() == setting
    )
    assert earliest.utcoffset() == timedelta(hours=8)
