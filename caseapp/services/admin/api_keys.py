"""Open311 API keys (DESIGN §9): issued by admins, shown once, stored as their sha256,
revocable. ``key_for`` is how the API recognises a caller."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from caseapp.extensions import db
from caseapp.models import ApiKey, User
from caseapp.models.types import utcnow
from caseapp.services.admin import audit
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.messages import N_, Message
from caseapp.services.transactions import one_transaction

# Every key starts with this, so a leaked one is easy to recognise in logs and code.
KEY_MARK = "csk_"
# The mark and the first random characters: enough to tell keys apart, never to use one.
PREFIX_LENGTH = len(KEY_MARK) + 8
MAX_NAME_LENGTH = 120
AUDITED = ("name", "prefix", "created_by_id", "revoked_at")


def hash_key(raw: str) -> str:
    """The sha256 (hex) under which a key is stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def list_keys() -> Sequence[ApiKey]:
    """Every key, those in use first, newest first."""
    return db.session.scalars(
        sa.select(ApiKey)
        .options(joinedload(ApiKey.created_by))
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
    ).all()


def create_key(name: str, actor: User | None, now: datetime | None = None) -> tuple[ApiKey, str]:
    """Issue a key named ``name``; returns the row and the key itself, which is not
    kept anywhere and so can be shown only this once. ``actor`` is None from the CLI."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("the key was not created", {"name": N_("Give the key a name.")})
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            "the key was not created",
            {"name": Message(N_("At most %(count)s characters."), count=MAX_NAME_LENGTH)},
        )
    in_use = db.session.scalar(
        sa.select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
    )
    if in_use:
        raise ValidationFailed(
            "the key was not created",
            {"name": N_("A key in use already has this name; choose another.")},
        )
    raw = KEY_MARK + secrets.token_urlsafe(32)
    with audit.audited(actor, ENTITY, "create", _snapshot, now) as change:
        key = ApiKey(
            name=name,
            prefix=raw[:PREFIX_LENGTH],
            key_hash=hash_key(raw),
            created_by_id=actor.id if actor is not None else None,
            created_at=now or utcnow(),
        )
        db.session.add(key)
        change.track(key, new=True)
    return key, raw


ENTITY = "api_key"


def _snapshot(key: ApiKey) -> dict[str, object]:
    return audit.snapshot(key, AUDITED)


def revoke_key(key_id: int, actor: User | None, now: datetime | None = None) -> ApiKey:
    """Refuse the key from now on (it stays listed). Revoking a revoked key changes
    nothing."""
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("no such API key")
    if key.revoked_at is not None:
        return key
    now = now or utcnow()
    with audit.audited(actor, ENTITY, "revoke", _snapshot, now) as change:
        change.track(key)
        key.revoked_at = now
    return key


@one_transaction
def key_for(raw: str | None, now: datetime | None = None) -> ApiKey | None:
    """The key in use that ``raw`` is, with its use recorded; None for an unknown or
    revoked key. (A lookup by hash needs no constant-time comparison.)"""
    if not raw:
        return None
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == hash_key(raw.strip())))
    if key is None or key.revoked_at is not None:
        return None
    key.last_used_at = now or utcnow()
    db.session.commit()
    return key
