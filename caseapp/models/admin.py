"""API keys, the admin audit log and the few settings kept in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models.org import User
from caseapp.models.types import UTCDateTime, utcnow


class ApiKey(db.Model):
    """An Open311 API key; only its sha256 is stored, the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # The first characters of the key, to tell keys apart in lists.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship()


class ApiFiling(db.Model):
    """A case filed through the Open311 API: which key filed it, the token that finds
    it again (``tokens/{token}``), and the media link the client sent, kept as a link.

    A client that sent an ``Idempotency-Key`` may send the filing again under it (its
    answer was lost): the key is unique per API key, so a retry, even one arriving
    while the first is being filed, answers this filing instead of filing again."""

    __tablename__ = "api_filings"
    __table_args__ = (sa.UniqueConstraint("api_key_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    api_key_id: Mapped[int] = mapped_column(sa.ForeignKey("api_keys.id"), index=True)
    token: Mapped[str] = mapped_column(sa.String(40), unique=True)
    media_url: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The client's Idempotency-Key (none: the client sent none; keys of other API keys
    # never collide), the SHA-256 of the filing's parameters (a retry must send the
    # same ones) and the first answer's notice, so that a retry gets the same answer.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(100))
    request_digest: Mapped[str | None] = mapped_column(sa.String(64))
    notice_params: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    api_key: Mapped[ApiKey] = relationship()


class AuditLog(db.Model):
    """Who changed what in the admin console, with the values before and after; also
    who searched the queue by a citizen's phone number (``after``: the number masked
    and the cases found)."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str | None] = mapped_column(sa.String(40))
    action: Mapped[str] = mapped_column(sa.String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    actor: Mapped[User | None] = relationship()


class Setting(db.Model):
    """A setting an admin changes at run time (e.g. scorecard weights)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
