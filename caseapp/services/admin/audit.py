"""The audit log (DESIGN §8): every change made in the admin console, with who made it,
when, and the values before and after, written in the change's transaction; and the
security events (issue 20): sign-ins and their refusals, refused access, and every
showing of a citizen's personal data to staff (``security_event``)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from caseapp.extensions import db
from caseapp.models import AuditLog, User
from caseapp.models.types import utcnow


def _plain(value: Any) -> Any:
    """A value as JSON can hold it: dates as ISO text, enums as their value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):
        return value.value
    return value


def record(
    actor: User | int | None,
    entity: str,
    entity_id: object,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime | None = None,
) -> AuditLog:
    """Add one audit row (the caller commits with the change itself). ``actor`` is the
    user or their id (an id where the user's row may be expired: no query to reload it)."""
    row = AuditLog(
        at=now or utcnow(),
        actor_id=_actor_id(actor),
        entity=entity,
        entity_id=str(entity_id) if entity_id is not None else None,
        action=action,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )
    db.session.add(row)
    return row


# --- security events ---------------------------------------------------------------------

_log = logging.getLogger("caseapp.security")

# The entity of authentication and authorization events; of showings of personal data.
SECURITY = "security"
PERSONAL_DATA = "personal_data"
# Text kept from a request (a path, an address) is cut to this many characters: a 10 kB
# path must not make a 10 kB row, and a refused request must not fail for its length.
TEXT_LIMIT = 200
_SUBJECT_LIMIT = 40  # audit_log.entity_id


def _no_origin() -> str | None:
    return None


# Where the event comes from (the client's address), given by the web layer: services
# never read the request themselves. Outside a request (a command, the worker) it is None.
_origin_of_request: Callable[[], str | None] = _no_origin


def set_origin_provider(provider: Callable[[], str | None]) -> None:
    """Name the function that gives the client address of the request being served
    (``caseapp.security`` does, once, at start-up)."""
    global _origin_of_request
    _origin_of_request = provider


def clean_text(value: object, limit: int = TEXT_LIMIT) -> str:
    """``value`` as text a log can hold whatever a visitor sent: control and format
    characters (NUL, CR/LF, bidirectional overrides) become "?", and the text is cut to
    ``limit`` characters, so no event fails to be written and none can forge a line."""
    text = str(value)[: limit * 2]
    shown = "".join("?" if unicodedata.category(ch) in {"Cc", "Cf", "Cs"} else ch for ch in text)
    return shown[:limit]


def typed_name_digest(typed: str) -> str:
    """What the audit log keeps of a username typed at sign-in that names no account: a
    keyed digest (HMAC-SHA-256 with SECRET_KEY, 16 hex characters) of the name as the
    per-account limit counts it (trimmed, lower-cased). Never the text: a name that is
    no account is often a password typed in the wrong field. Equal digests are the same
    name, so a spray of many names and a guessing run on one are told apart; an admin
    checks a suspected name with this function (``flask shell``)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    name = typed.strip().lower().encode("utf-8", "replace")
    return hmac.new(key, b"sign-in-name:" + name, hashlib.sha256).hexdigest()[:16]


def _event_fields(subject: object, detail: dict[str, Any] | None) -> tuple[str | None, dict]:
    origin = _origin_of_request()
    after: dict[str, Any] = {"address": clean_text(origin, 64) if origin else None}
    for key, value in (detail or {}).items():
        after[key] = (
            clean_text(value)
            if isinstance(value, str)
            else [clean_text(item) for item in value]
            if isinstance(value, list)
            else value
        )
    return (clean_text(subject, _SUBJECT_LIMIT) if subject is not None else None), after


def _actor_id(actor: User | int | None) -> int | None:
    return actor if isinstance(actor, int) or actor is None else actor.id


def log_security_event(
    action: str,
    *,
    actor: User | int | None = None,
    subject: object = None,
    detail: dict[str, Any] | None = None,
    entity: str = SECURITY,
) -> None:
    """Write a security event to the application log only (logger ``caseapp.security``,
    one JSON line in production): the events too frequent for the audit table, a
    successful sign-in or sign-out. ``security_event`` logs the same line as well."""
    _log_event(action, entity, _actor_id(actor), *_event_fields(subject, detail))


def _log_event(
    action: str, entity: str, actor_id: int | None, subject: str | None, after: dict[str, Any]
) -> None:
    _log.info(
        "%s %s",
        entity,
        action,
        extra={
            "event": action,
            "entity": entity,
            "actor_id": actor_id,
            "subject": subject,
            **{f"event_{key}": value for key, value in after.items()},
        },
    )


def security_event(
    action: str,
    *,
    actor: User | int | None = None,
    subject: object = None,
    detail: dict[str, Any] | None = None,
    entity: str = SECURITY,
    now: datetime | None = None,
) -> AuditLog:
    """Add one audit row for a security event, and log it (``log_security_event``):
    ``actor`` the account it concerns (the signed-in user, or the account a sign-in
    named), ``subject`` what it is about (an account id, a case number), and in
    ``after`` the client's address and ``detail``. Text is cleaned and cut
    (``clean_text``); no password and no citizen's personal data may be given. One
    INSERT; the caller commits."""
    subject_text, after = _event_fields(subject, detail)
    _log_event(action, entity, _actor_id(actor), subject_text, after)
    return record(actor, entity, subject_text, action, None, after, now)


# --- admin changes ------------------------------------------------------------------------

Snapshot = Callable[[Any], dict[str, Any]]


class AuditedChange:
    """The subject of one ``audited`` change, and its values before the change."""

    def __init__(self, snapshot_of: Snapshot) -> None:
        self._snapshot_of = snapshot_of
        self.subject: Any = None
        self.before: dict[str, Any] | None = None
        self.values: tuple[dict[str, Any] | None, dict[str, Any] | None] | None = None

    def track(self, subject: object, *, new: bool = False) -> None:
        """Name what the change is about, once the input has passed its checks and
        before anything is applied (``new``: it did not exist before)."""
        self.subject = subject
        self.before = None if new else self._snapshot_of(subject)

    def record_as(self, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        """Write these values instead of the snapshots (what must not be kept: a
        password, even hashed; ``after`` None for a row deleted)."""
        self.values = (before, after)

    def after(self) -> dict[str, Any]:
        return self._snapshot_of(self.subject)


@contextmanager
def audited(
    actor: User | None,
    entity: str,
    action: str,
    snapshot_of: Snapshot,
    now: datetime | None = None,
) -> Iterator[AuditedChange]:
    """One admin change as one unit of work: validate, snapshot, apply, audit, commit.

    The body checks the input (raising ``ValidationFailed`` before it writes), names the
    subject with ``change.track`` and applies the change. At the end the audit row
    (before and after; none when nothing changed) is added and all is committed in
    one transaction. Any error rolls everything back: no view has to."""
    change = AuditedChange(snapshot_of)
    try:
        yield change
        if change.subject is not None:
            db.session.flush()
            before, after = change.values or (change.before, change.after())
            if after != before:
                (key,) = sa.inspect(change.subject).identity
                record(actor, entity, key, action, before, after, now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def snapshot(obj: object, fields: Sequence[str]) -> dict[str, Any]:
    """The named attributes of ``obj``, for the before and after of a change."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def recent(limit: int = 200, entity: str | None = None) -> Sequence[AuditLog]:
    """The newest audit rows first (of one kind of entity, when given)."""
    query = sa.select(AuditLog).options(joinedload(AuditLog.actor))
    if entity:
        query = query.where(AuditLog.entity == entity)
    return db.session.scalars(
        query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    ).all()
