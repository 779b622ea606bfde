"""The outbox for admins (services.notices.outbox): how many notices stand in each state,
the dead letters newest first, and a dead notice retried or dropped — only a dead one,
each change in the admin audit log. (Through the admin console: tests/web/admin/test_outbox.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import AuditLog, OutboxMessage
from caseapp.models.enums import OutboxChannel, OutboxStatus
from caseapp.services.errors import NotFound
from caseapp.services.notices import outbox
from tests.factories import user

pytestmark = pytest.mark.usefixtures("app_ctx", "demo_base")

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def notice(
    status: OutboxStatus = OutboxStatus.DEAD, *, created: datetime = T0, attempts: int = 8
) -> OutboxMessage:
    row = OutboxMessage(
        idempotency_key=f"key-{db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))}",
        channel=OutboxChannel.SMS,
        recipient="13812345678",
        template="receipt",
        params={"number": "YC2026-000001"},
        status=status,
        attempts=attempts,
        next_attempt_at=created,
        last_error="gateway down",
        created_at=created,
    )
    db.session.add(row)
    db.session.commit()
    return row


def audit_rows() -> list[AuditLog]:
    return db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)).all()


def test_counts_name_every_state_even_an_empty_one() -> None:
    assert outbox.counts() == {str(s): 0 for s in OutboxStatus}
    for status, n in ((OutboxStatus.PENDING, 3), (OutboxStatus.DEAD, 2), (OutboxStatus.SENT, 1)):
        for _ in range(n):
            notice(status)
    assert outbox.counts() == {"pending": 3, "sent": 1, "dead": 2, "dropped": 0}


def test_dead_letters_are_only_the_dead_ones_newest_first() -> None:
    older = notice(created=T0)
    notice(OutboxStatus.PENDING, created=T0 + timedelta(hours=2))
    notice(OutboxStatus.DROPPED, created=T0 + timedelta(hours=3))
    newer = notice(created=T0 + timedelta(hours=1))
    same_time = notice(created=T0)  # ties: the later row first
    assert [r.id for r in outbox.dead_letters()] == [newer.id, same_time.id, older.id]
    assert [r.id for r in outbox.dead_letters(limit=2)] == [newer.id, same_time.id]


def test_a_retry_sends_again_from_now_with_a_fresh_count_and_is_audited() -> None:
    dead = notice(attempts=8)
    admin = user("admin")
    retried = outbox.retry(dead.id, admin, now=NOW)
    db.session.expire_all()
    row = db.session.get(OutboxMessage, dead.id)
    assert retried.id == row.id
    assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.PENDING, 0, NOW)
    assert row.last_error == "gateway down" and row.recipient == "13812345678"
    [audit] = audit_rows()
    assert (audit.entity, audit.entity_id, audit.action) == ("outbox", str(row.id), "retry")
    assert audit.actor_id == admin.id and audit.at == NOW
    assert audit.before == {"status": "dead", "attempts": 8, "next_attempt_at": T0.isoformat()}
    assert audit.after == {"status": "pending", "attempts": 0, "next_attempt_at": NOW.isoformat()}


def test_a_drop_keeps_the_notice_on_record_as_dropped_and_is_audited() -> None:
    dead = notice(attempts=5)
    outbox.drop(dead.id, user("admin"), now=NOW)
    db.session.expire_all()
    row = db.session.get(OutboxMessage, dead.id)
    assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.DROPPED, 5, T0)
    [audit] = audit_rows()
    assert (audit.action, audit.before["status"], audit.after["status"]) == (
        "drop",
        "dead",
        "dropped",
    )
    assert outbox.dead_letters() == []
    assert outbox.counts()["dropped"] == 1


@pytest.mark.parametrize("change", [outbox.retry, outbox.drop], ids=["retry", "drop"])
@pytest.mark.parametrize(
    "status", [s for s in OutboxStatus if s is not OutboxStatus.DEAD] + [None], ids=str
)
def test_only_a_dead_notice_is_retried_or_dropped(change, status: OutboxStatus | None) -> None:  # type: ignore[no-untyped-def]
    row_id = notice(status, attempts=2).id if status is not None else 999
    with pytest.raises(NotFound):
        change(row_id, user("admin"), now=NOW)
    db.session.expire_all()
    assert audit_rows() == []
    if status is not None:
        row = db.session.get(OutboxMessage, row_id)
        assert (row.status, row.attempts, row.next_attempt_at) == (status, 2, T0)


def test_a_retried_notice_is_no_longer_dead_and_cannot_be_dropped() -> None:
    dead = notice()
    outbox.retry(dead.id, user("admin"), now=NOW)
    with pytest.raises(NotFound):
        outbox.drop(dead.id, user("admin"), now=NOW + timedelta(minutes=1))
    assert [a.action for a in audit_rows()] == ["retry"]
