"""Typed SQLAlchemy 2 models. No Flask request code lives here."""

from caseapp.models.admin import ApiFiling, ApiKey, AuditLog, Setting
from caseapp.models.case import (
    Attachment,
    Case,
    CaseAssist,
    CaseClock,
    CaseEvent,
    CaseFollower,
    CaseMilestone,
    CaseNumberSequence,
    CaseParticipant,
    CaseRequest,
    TrackingCode,
)
from caseapp.models.catalog import (
    CalendarOverride,
    CalendarYear,
    Category,
    CategoryQuestion,
    DeadlinePolicy,
    DeadlineTerm,
    ReplyTemplate,
)
from caseapp.models.ledger import (
    Ledger,
    LedgerCategory,
    LedgerItem,
    LedgerItemCase,
    LedgerItemEvent,
    LedgerMilestone,
)
from caseapp.models.notify import InboxMessage, OutboxMessage
from caseapp.models.org import Department, User, UserRole
from caseapp.models.stats import (
    DailyTotalsState,
    PublicDailyFiling,
    PublicStatusCount,
    ScorecardDaily,
)

__all__ = [
    "ApiFiling",
    "ApiKey",
    "Attachment",
    "AuditLog",
    "CalendarOverride",
    "CalendarYear",
    "Case",
    "CaseAssist",
    "CaseClock",
    "CaseEvent",
    "CaseFollower",
    "CaseMilestone",
    "CaseNumberSequence",
    "CaseParticipant",
    "CaseRequest",
    "DailyTotalsState",
    "Category",
    "CategoryQuestion",
    "DeadlinePolicy",
    "DeadlineTerm",
    "Department",
    "InboxMessage",
    "Ledger",
    "LedgerCategory",
    "LedgerItem",
    "LedgerItemCase",
    "LedgerItemEvent",
    "LedgerMilestone",
    "OutboxMessage",
    "PublicDailyFiling",
    "PublicStatusCount",
    "ReplyTemplate",
    "ScorecardDaily",
    "Setting",
    "TrackingCode",
    "User",
    "UserRole",
]
