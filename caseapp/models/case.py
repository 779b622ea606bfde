"""Cases and everything that hangs off one: events, clocks, followers, attachments."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models.catalog import Category
from caseapp.models.enums import (
    CaseKind,
    CaseStatus,
    Channel,
    Clock,
    CloseReason,
    EventAction,
    NotifyBy,
    PetitionDecision,
    Priority,
    RequestKind,
    RequestStatus,
    Satisfaction,
)
from caseapp.models.org import Department, User
from caseapp.models.types import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from caseapp.models.admin import ApiFiling


class Case(db.Model):
    """A citizen's request (诉求). Its status changes only through ``caseapp.workflow``.

    Columns below "summary" are kept up to date by the services in the same transaction
    as the event that changes them; the events remain the record.
    """

    __tablename__ = "cases"
    __table_args__ = (
        # The queues: by status, by department, by next deadline (DESIGN §8, §11).
        sa.Index("ix_cases_status_next_deadline", "status", "next_deadline_at"),
        sa.Index(
            "ix_cases_lead_department_status_deadline",
            "lead_department_id",
            "status",
            "next_deadline_at",
        ),
        sa.Index("ix_cases_handler_status_deadline", "handler_id", "status", "next_deadline_at"),
        sa.Index("ix_cases_next_deadline_at", "next_deadline_at"),
        # The escalation board's counts per department, from the index alone.
        sa.Index(
            "ix_cases_status_department_deadline_level",
            "status",
            "lead_department_id",
            "next_deadline_at",
            "escalation_level",
        ),
        # The duplicate check: a category's newest cases first.
        sa.Index("ix_cases_category_received_id", "category_id", "received_at", "id"),
        # Public statistics filter on kind (never petitions or reports) as well.
        sa.Index("ix_cases_category_status_kind", "category_id", "status", "kind"),
        sa.Index("ix_cases_received_at_kind", "received_at", "kind"),
        # A phone number typed in the queue's search: that citizen's cases, newest first.
        sa.Index("ix_cases_citizen_phone_received_at", "citizen_phone", "received_at"),
        sa.UniqueConstraint("number_year", "number_seq", name="uq_cases_number_year_seq"),
        # Links most cases do not have: indexed where set (migration 0015), else
        # SQLite's statistics take ``column = ?`` for a million rows and scan.
        *(
            sa.Index(
                f"ix_cases_{column}",
                column,
                sqlite_where=sa.text(f"{column} IS NOT NULL"),
                postgresql_where=sa.text(f"{column} IS NOT NULL"),
            )
            for column in (
                "duplicate_of_id",
                "review_of_id",
                "first_responsible_id",
                "responsible_leader_id",
            )
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    number_year: Mapped[int]
    number_seq: Mapped[int]
    # Optimistic lock: an action names the version it was shown; a stale one is refused,
    # and every UPDATE checks it (version_id_col), so two concurrent writers cannot both win.
    version: Mapped[int] = mapped_column(default=1)

    kind: Mapped[CaseKind] = mapped_column(str_enum(CaseKind))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    priority: Mapped[Priority] = mapped_column(str_enum(Priority), default=Priority.NORMAL)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus))
    close_reason: Mapped[CloseReason | None] = mapped_column(str_enum(CloseReason))
    language: Mapped[str] = mapped_column(sa.String(8), default="zh_CN")

    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    # The part of the address that may be shown publicly (street or road, no number).
    public_location: Mapped[str] = mapped_column(sa.String(120), default="")
    district_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    # Answers to the category's own questions: {question code: value}.
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    # --- the citizen (personal data: masked in lists, revealed with an event) ----------
    anonymous: Mapped[bool] = mapped_column(default=False)
    citizen_name: Mapped[str] = mapped_column(sa.String(80), default="")
    citizen_phone: Mapped[str] = mapped_column(sa.String(32), default="")
    citizen_email: Mapped[str] = mapped_column(sa.String(254), default="")
    citizen_postal_address: Mapped[str] = mapped_column(sa.String(300), default="")
    notify_by: Mapped[NotifyBy] = mapped_column(str_enum(NotifyBy), default=NotifyBy.NONE)
    consent_privacy_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_public: Mapped[bool] = mapped_column(default=False)
    identity_confidential: Mapped[bool] = mapped_column(default=False)
    # sha256 of the private link's key; the key itself is shown once and never stored.
    access_key_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    # --- who ----------------------------------------------------------------------------
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    first_responsible_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    lead_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    handler_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    responsible_leader_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    case_plan: Mapped[str] = mapped_column(sa.Text, default="")

    # --- time ---------------------------------------------------------------------------
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The deadline policy's terms copied at filing: {term: {kind?: {unit, value, ...}}}.
    policy_terms: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Earliest due time of the running clocks; NULL when none runs (closed or paused).
    next_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalation_level: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The status a question to the citizen was asked from; the reply returns to it.
    status_before_pause: Mapped[CaseStatus | None] = mapped_column(str_enum(CaseStatus))

    # --- summary ------------------------------------------------------------------------
    reopen_count: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    is_legacy: Mapped[bool] = mapped_column(default=False)
    decision: Mapped[PetitionDecision | None] = mapped_column(str_enum(PetitionDecision))
    public_answer: Mapped[str] = mapped_column(sa.Text, default="")
    rating_solved: Mapped[bool | None]
    rating_satisfaction: Mapped[Satisfaction | None] = mapped_column(str_enum(Satisfaction))
    rating_excluded: Mapped[bool] = mapped_column(default=False)
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    review_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    # 0: an original matter, 1: a review (复查), 2: a re-review (复核), after which it is final.
    review_level: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    repeat_of_final: Mapped[bool] = mapped_column(default=False)

    category: Mapped[Category] = relationship()
    lead_department: Mapped[Department | None] = relationship(foreign_keys=[lead_department_id])
    district_department: Mapped[Department | None] = relationship(
        foreign_keys=[district_department_id]
    )
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    first_responsible: Mapped[User | None] = relationship(foreign_keys=[first_responsible_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    responsible_leader: Mapped[User | None] = relationship(foreign_keys=[responsible_leader_id])
    duplicate_of: Mapped[Case | None] = relationship(
        remote_side="Case.id", foreign_keys=[duplicate_of_id]
    )
    review_of: Mapped[Case | None] = relationship(
        remote_side="Case.id", foreign_keys=[review_of_id]
    )
    events: WriteOnlyMapped[CaseEvent] = relationship(
        back_populates="case", order_by="CaseEvent.id", passive_deletes=True
    )
    clocks: Mapped[list[CaseClock]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseClock.id"
    )
    assists: Mapped[list[CaseAssist]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    followers: Mapped[list[CaseFollower]] = relationship(
        back_populates="case", cascade="all, delete-orphan", foreign_keys="CaseFollower.case_id"
    )
    requests: Mapped[list[CaseRequest]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseRequest.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    milestones: Mapped[list[CaseMilestone]] = relationship(
        back_populates="case",
        cascade="all, delete-orphan",
        order_by="(CaseMilestone.due_on, CaseMilestone.position)",
    )
    # Set for a case filed through the Open311 API.
    api_filing: Mapped[ApiFiling | None] = relationship(viewonly=True)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Case {self.number} {self.status}>"


class CaseMilestone(db.Model):
    """A dated step of the case plan (一案一策); late while not done after its day."""

    __tablename__ = "case_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # The order it was written in, for steps due on the same day.
    position: Mapped[int]
    due_on: Mapped[date] = mapped_column(sa.Date)
    text: Mapped[str] = mapped_column(sa.String(200))
    # The city-local day it was marked done.
    done_on: Mapped[date | None] = mapped_column(sa.Date)

    case: Mapped[Case] = relationship(back_populates="milestones")


class CaseEvent(db.Model):
    """One entry of a case's timeline. Append-only: never updated or deleted.

    The snapshot columns hold what was in force when it happened, so scorecards and
    ledgers can be computed from events alone.
    """

    __tablename__ = "case_events"
    __table_args__ = (
        sa.Index("ix_case_events_case_id_id", "case_id", "id"),
        sa.Index("ix_case_events_action_at", "action", "at"),
        sa.Index("ix_case_events_department_at", "department_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[EventAction] = mapped_column(str_enum(EventAction))
    # Staff member, or NULL for the citizen, the system or an API client (see actor_kind).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_kind: Mapped[str] = mapped_column(sa.String(16))  # staff, citizen, public, system, api
    from_status: Mapped[CaseStatus | None] = mapped_column(str_enum(CaseStatus))
    to_status: Mapped[CaseStatus | None] = mapped_column(str_enum(CaseStatus))
    public: Mapped[bool] = mapped_column(default=False)
    public_text: Mapped[str] = mapped_column(sa.Text, default="")
    internal_text: Mapped[str] = mapped_column(sa.Text, default="")
    # Action-specific details: departments, reasons, rating, decision, days, ...
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Snapshot of what was in force.
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    handler_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"))
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    case_version: Mapped[int]

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class CaseClock(db.Model):
    """One run of a deadline clock (DESIGN §4). A new deadline is a new row (episode)."""

    __tablename__ = "case_clocks"
    __table_args__ = (
        sa.Index("ix_case_clocks_running_due", "stopped_at", "due_at"),
        sa.Index("ix_case_clocks_case_id_clock", "case_id", "clock"),
        sa.Index("ix_case_clocks_next_escalation_at", "next_escalation_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    clock: Mapped[Clock] = mapped_column(str_enum(Clock))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The period the clock was given, for "80 % used" (changes with pause and extension).
    unit: Mapped[str] = mapped_column(sa.String(16))
    length: Mapped[int]
    extended_by: Mapped[int] = mapped_column(default=0)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The department holding the case when it became overdue (charged on scorecards).
    overdue_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    escalation_level: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    # When the sweep next raises the level (DeadlineMath.next_escalation_at); NULL when
    # it never will (stopped, paused, at 督办, a clock that does not escalate). Kept by
    # ``casework.clocks.schedule_escalation`` whenever the clock is written.
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The deadline was counted over days of a year the calendar does not cover yet
    # (Monday–Friday fallback): to be checked, and recomputed once the year is known.
    on_fallback: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    case: Mapped[Case] = relationship(back_populates="clocks")


class CaseAssist(db.Model):
    """An assisting department (协办) on a case."""

    __tablename__ = "case_assists"

    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="assists")
    department: Mapped[Department] = relationship()


class CaseParticipant(db.Model):
    """Staff who keep seeing a case: its first-responsible person and past handlers."""

    __tablename__ = "case_participants"

    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseFollower(db.Model):
    """A further citizen who follows a case (a merged or followed matter)."""

    __tablename__ = "case_followers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # The case the follower filed, when it was merged into this one.
    source_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    notify_by: Mapped[NotifyBy] = mapped_column(str_enum(NotifyBy), default=NotifyBy.NONE)
    language: Mapped[str] = mapped_column(sa.String(8), default="zh_CN")
    access_key_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="followers", foreign_keys=[case_id])


class CaseRequest(db.Model):
    """A request waiting for a decision: an extension, a late return, a further redo."""

    __tablename__ = "case_requests"
    __table_args__ = (sa.Index("ix_case_requests_status_kind", "status", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RequestKind] = mapped_column(str_enum(RequestKind))
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus), default=RequestStatus.PENDING
    )
    # The case status it was made in; leaving that status cancels it.
    case_status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    days: Mapped[int | None]
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")

    case: Mapped[Case] = relationship(back_populates="requests")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class Attachment(db.Model):
    """A file on a case; stored under UPLOAD_DIR by its content hash."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_events.id"))
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(80))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    public: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="attachments")


class CaseNumberSequence(db.Model):
    """The last number given per (prefix, year); incremented under a row lock."""

    __tablename__ = "case_number_sequences"

    prefix: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class TrackingCode(db.Model):
    """A one-time code sent by SMS to open a case found by number and phone. Only the
    latest code of a case and phone is accepted; the rows are also the count of codes
    sent, per case and per phone, that the limits are checked against."""

    __tablename__ = "tracking_codes"
    __table_args__ = (sa.Index("ix_tracking_codes_phone_created_at", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # The phone the code was sent to, as the case had it then.
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@sa.event.listens_for(CaseEvent, "before_update")
def _case_events_are_not_changed(mapper: Any, connection: Any, target: CaseEvent) -> None:
    # SQLAlchemy also calls this for rows touched only through a relationship; refuse
    # only a real change of a column.
    state = sa.inspect(target)
    changed = [
        attr.key
        for attr in state.attrs
        if attr.key in mapper.columns and attr.history.has_changes()
    ]
    if changed:
        raise RuntimeError(f"case events are append-only; write a new event instead ({changed})")


@sa.event.listens_for(CaseEvent, "before_delete")
def _case_events_are_not_deleted(mapper: Any, connection: Any, target: CaseEvent) -> None:
    raise RuntimeError("case events are append-only; they are never deleted")
