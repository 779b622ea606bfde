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
from limits import parse as parse_limit

from caseapp.db_setup import transaction_lock
from caseapp.extensions import db
from caseapp.models import Case, OutboxMessage, TrackingCode
from caseapp.models.enums import (
    OPEN_STATUSES,
    Clock,
    OutboxChannel,
    PolicyTerm,
)
from caseapp.services.casework import clocks as deadlines
from caseapp.services.filing.cases import now_or
from caseapp.services.filing.validation import normalise_phone
from caseapp.services.transactions import one_transaction
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


@dataclass(frozen=True)
class CodeLimits:
    """How many tracking codes may be sent: per request and per phone, each within its
    window (the settings RATELIMIT_TRACKING_CODE_CASE and _PHONE)."""

    per_case: int
    case_window: timedelta
    per_phone: int
    phone_window: timedelta


def tracking_code_limits() -> CodeLimits:
    """The limits in force, for the service to apply and the page to tell citizens."""
    case = parse_limit(current_app.config["RATELIMIT_TRACKING_CODE_CASE"])
    phone = parse_limit(current_app.config["RATELIMIT_TRACKING_CODE_PHONE"])
    return CodeLimits(
        per_case=case.amount,
        case_window=timedelta(seconds=case.get_expiry()),
        per_phone=phone.amount,
        phone_window=timedelta(seconds=phone.get_expiry()),
    )


def _codes_sent(*where: sa.ColumnElement[bool]) -> int:
    return db.session.scalar(sa.select(sa.func.count(TrackingCode.id)).where(*where)) or 0


@one_transaction
def send_tracking_code(case: Case, now: datetime | None = None) -> bool:
    """Queue a six-digit code by SMS to the filer's phone, valid for 10 minutes, unless
    this request or this phone has had all the codes its limits allow for now. A new
    code replaces the earlier ones of the case and phone. Returns whether a code was
    queued, for tests and logs only: the citizen is told the same either way.

    The limits count the codes sent (the rows of this table), so they hold on every
    host and across restarts whatever the rate-limit storage. Two hosts counting at
    once are kept apart by a lock on the phone (SQLite: the one write lock)."""
    now = now_or(now)
    phone = normalise_phone(case.citizen_phone, mobile_only=True)
    if phone is None:  # a landline, or no phone: no SMS can reach it
        db.session.commit()
        return False
    transaction_lock(f"tracking-code:{phone}")
    limits = tracking_code_limits()
    if (
        _codes_sent(
            TrackingCode.case_id == case.id,
            TrackingCode.created_at > now - limits.case_window,
        )
        >= limits.per_case
        or _codes_sent(
            TrackingCode.phone == phone,
            TrackingCode.created_at > now - limits.phone_window,
        )
        >= limits.per_phone
    ):
        db.session.commit()  # nothing written; ends the transaction and its lock
        return False
    db.session.execute(
        sa.update(TrackingCode)
        .where(
            TrackingCode.case_id == case.id,
            TrackingCode.phone == phone,
            TrackingCode.used_at.is_(None),
            TrackingCode.expires_at > now,
        )
        .values(expires_at=now)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = TrackingCode(
        case_id=case.id,
        phone=phone,
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
            recipient=phone,
            template="access_code",
            language=case.language,
            # The case number only: the SMS may be read by anyone holding the phone.
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
    return True


@one_transaction
def verify_tracking_code(case: Case, code: str, now: datetime | None = None) -> bool:
    """Whether ``code`` is the live code of ``case`` for the filer's phone. Only the
    latest code sent is compared; it is used once and ends after 5 wrong guesses."""
    now = now_or(now)
    row = db.session.scalar(
        sa.select(TrackingCode)
        .where(TrackingCode.case_id == case.id, TrackingCode.phone == case.citizen_phone)
        .order_by(TrackingCode.id.desc())
        .limit(1)
        # Two guesses at once must not both be counted as the fifth.
        .with_for_update()
    )
    if (
        row is None
        or row.used_at is not None
        or row.expires_at <= now
        or row.attempts >= CODE_ATTEMPTS
    ):
        db.session.commit()
        return False
    matched = hmac.compare_digest(row.code_hash, _code_hash(case.id, code.strip()))
    if matched:
        row.used_at = now
    else:
        row.attempts += 1
    db.session.commit()
    return matched
