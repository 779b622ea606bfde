"""What a worker killed mid-batch leaves (issue 20): a slow gateway's notices are marked
as they go, not once the batch is over, so a worker that dies repeats only the last
fraction of a second's notices; a batch slower than half its lease gives the rest back
instead of outliving the lease. The kill itself (``kill -9`` of ``flask worker``) is in
tests/test_crashes.py."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import OutboxMessage
from caseapp.models.enums import OutboxStatus
from caseapp.models.types import utcnow
from caseapp.notify.backends import Notice
from caseapp.notify.delivery import LEASE, MARK_EVERY, deliver_due, lease_of
from tests.notify.test_delivery import queue as queue_at


def queue(count: int) -> list[str]:
    return queue_at(count, utcnow() - timedelta(seconds=1), prefix="lease")


class SlowGateway:
    """Takes ``seconds`` per notice and looks, before each, at the outbox as another
    process would (its own connection): how many are marked sent, and how long the
    lease on the notice it is given has still to run."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.keys: list[str] = []
        self.marked_before: list[int] = []
        self.lease_left: list[float] = []
        self._lock = threading.Lock()

    def send(self, notice: Notice) -> None:
        now = utcnow()
        with db.engine.connect() as conn:
            marked = conn.scalar(
                sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.SENT)
            )
            until = conn.scalar(
                sa.select(OutboxMessage.claimed_until).where(
                    OutboxMessage.idempotency_key == notice.idempotency_key
                )
            )
        time.sleep(self.seconds)
        with self._lock:
            self.keys.append(notice.idempotency_key)
            self.marked_before.append(int(marked or 0))
            self.lease_left.append((until - now).total_seconds() if until else -1.0)


def test_a_slow_gateways_notices_are_marked_as_they_go(app_ctx: Flask) -> None:
    """Before: a batch of 100 was marked only after its last notice, and a worker killed
    near its end sent up to 99 notices again."""
    keys = queue(12)
    gateway = SlowGateway(0.05)
    report = deliver_due(app_ctx.config, backends={"sms": gateway})
    assert (report.sent, report.drained) == (12, True)
    assert sorted(gateway.keys) == sorted(keys)
    # When the last one went out, all but what was sent in the last MARK_EVERY seconds
    # (and the one being sent) were marked sent already.
    unmarked = len(keys) - 1 - gateway.marked_before[-1]
    assert 0 <= unmarked <= MARK_EVERY / gateway.seconds + 1, gateway.marked_before


def test_a_batch_slower_than_half_its_lease_gives_the_rest_back(
    app_ctx: Flask, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """With a one-second lease and a tenth of a second per notice, a batch of 20 is sent
    about five at a time: each notice goes while its lease has at least half a second to
    run (no other worker may take it meanwhile), each exactly once."""
    monkeypatch.setitem(app_ctx.config, "OUTBOX_LEASE_SECONDS", 1)
    keys = queue(20)
    gateway = SlowGateway(0.1)
    report = deliver_due(app_ctx.config, backends={"sms": gateway}, limit=20)
    assert (report.sent, report.drained) == (20, True)
    assert sorted(gateway.keys) == sorted(keys)  # each once
    assert min(gateway.lease_left) > 0.4, gateway.lease_left
    rows = db.session.scalars(sa.select(OutboxMessage)).all()
    assert {(r.status, r.attempts, r.claimed_by) for r in rows} == {(OutboxStatus.SENT, 1, None)}


def test_the_lease_is_a_setting(app_ctx: Flask) -> None:
    assert lease_of({}) == LEASE == timedelta(minutes=5)
    assert lease_of({"OUTBOX_LEASE_SECONDS": 30}) == timedelta(seconds=30)
    assert lease_of(app_ctx.config) == timedelta(seconds=app_ctx.config["OUTBOX_LEASE_SECONDS"])
