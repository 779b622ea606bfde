"""What the citizen sees of a case, and how they get to it: the private link, tracking
by number and phone, and one-time codes sent by SMS."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from caseapp.extensions import db
from caseapp.models import Case, OutboxMessage, TrackingCode
from caseapp.models.enums import (
    OPEN_STATUSES,
    Clock,
    OutboxChannel,
    PolicyTerm,
)
from caseapp.services import deadlines
from caseapp.services.cases import now_or
from caseapp.services.validation import normalise_phone
from caseapp.workflow.deadlines import DeadlineMath

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5

@dataclass(frozen=True)
class ExpectedDates:
    accept_by: datetime | None
    resolve_by: datetime | None


def expected_dates(case: Case, math: DeadlineMath | None = None) -> ExpectedDates:
    """By when the case will be accepted and resolved under its policy: the running
    clocks' deadlines, or for a case not yet accepted, its resolve period counted from
    the accept deadline (the latest it can start). A caller dating many cases passes
    one ``math`` for all."""
    accept = deadlines.running(case, Clock.ACCEPT)
    resolve = deadlines.running(case, Clock.RESOLVE)
    accept_by = accept[0].due_at if accept else case.accepted_at
    if resolve:
        resolve_by: datetime | None = resolve[0].due_at
    elif case.resolved_at is not None:
        resolve_by = case.resolved_at
    elif accept_by is not None and case.status in OPEN_STATUSES:
        math = math or deadlines.deadline_math()
        resolve_by = math.due_at(accept_by, deadlines.case_period(case, PolicyTerm.RESOLVE))
    else:
        resolve_by = None
    return ExpectedDates(accept_by, resolve_by)


def _phone_matches(case: Case, phone: str) -> bool:
    if not case.citizen_phone:
        return False
    return hmac.compare_digest(case.citizen_phone, phone)


def find_for_tracking(number: str, phone: str) -> Case | None:
    """The case with this number whose filer has this phone; None for a wrong number
    or a wrong phone alike."""
    clean = normalise_phone(phone, mobile_only=False)
    case = db.session.scalar(sa.select(Case).where(Case.number == number.strip().upper()))
    if case is None or clean is None or not _phone_matches(case, clean):
        return None
    return case


def _code_hash(case_id: int, code: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{case_id}:{code}".encode(), hashlib.sha256).hexdigest()


def send_tracking_code(case: Case, now: datetime | None = None) -> None:
    """Queue a six-digit code by SMS to the filer's phone (valid for 10 minutes)."""
    now = now_or(now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = TrackingCode(
        case_id=case.id,
        code_hash=_code_hash(case.id, code),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    db.session.add(row)
    db.session.flush()
    db.session.add(
        OutboxMessage(
            idempotency_key=f"tracking-code-{row.id}",
            channel=OutboxChannel.SMS,
            recipient=case.citizen_phone,
            template="access_code",
            language=case.language,
            params={
                "number": case.number,
                "code": code,
                "minutes": int(CODE_TTL.total_seconds() // 60),
            },
            case_id=case.id,
            next_attempt_at=now,
            created_at=now,
        )
    )
    db.session.commit()


def verify_tracking_code(case: Case, code: str, now: datetime | None = None) -> bool:
    """Whether ``code`` is a live code of ``case``; each is used once, 5 tries at most."""
    now = now_or(now)
    rows = db.session.scalars(
        sa.select(TrackingCode)
        .where(
            TrackingCode.case_id == case.id,
            TrackingCode.used_at.is_(None),
            TrackingCode.expires_at > now,
        )
        .order_by(TrackingCode.id.desc())
    ).all()
    wanted = _code_hash(case.id, code.strip())
    matched = False
    for row in rows:
        if row.attempts >= CODE_ATTEMPTS:
            continue
        if hmac.compare_digest(row.code_hash, wanted):
            row.used_at = now
            matched = True
            break
        row.attempts += 1
    db.session.commit()
    return matched
