"""The domain's closed vocabularies (DESIGN §2–§5), stored as their string values."""

from __future__ import annotations

import enum


class CaseStatus(enum.StrEnum):
    """Where a case stands in its lifecycle (DESIGN §3); written only by the lifecycle."""

    NEW = "new"  # 待受理
    REJECTED = "rejected"  # 不予受理
    DISPATCHED = "dispatched"  # 待签收
    RETURNED = "returned"  # 已退单
    IN_PROGRESS = "in_progress"  # 办理中
    AWAITING_CITIZEN = "awaiting_citizen"  # 待补充
    RESOLVED = "resolved"  # 已办结(待回访)
    CLOSED = "closed"  # 已归档
    WITHDRAWN = "withdrawn"  # 已撤回


OPEN_STATUSES = frozenset(
    {
        CaseStatus.NEW,
        CaseStatus.DISPATCHED,
        CaseStatus.RETURNED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.AWAITING_CITIZEN,
        CaseStatus.RESOLVED,
    }
)


# Open and still being worked: not yet answered (resolved cases wait for their rating).
WORKED_STATUSES = frozenset(
    {
        CaseStatus.NEW,
        CaseStatus.DISPATCHED,
        CaseStatus.RETURNED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.AWAITING_CITIZEN,
    }
)


class CloseReason(enum.StrEnum):
    """Why a closed case closed: rated by the citizen, no rating in time, or merged."""

    RATED = "rated"
    NO_RATING = "no_rating"
    MERGED = "merged"


class CaseKind(enum.StrEnum):
    """What the citizen asks for; a petition (信访) has legal deadlines and a written answer."""

    CONSULTATION = "consultation"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬
    PETITION = "petition"  # 信访


# Kinds whose citizen identity is hidden from the handling departments (DESIGN §8).
CONFIDENTIAL_KINDS = frozenset({CaseKind.REPORT, CaseKind.PETITION})


class Priority(enum.StrEnum):
    """An urgent case runs on the policies' urgent terms."""

    NORMAL = "normal"
    URGENT = "urgent"


class Channel(enum.StrEnum):
    """How the request reached the city."""

    WEB = "web"
    WINDOW = "window"
    PHONE = "phone"
    LETTER = "letter"
    VISIT = "visit"
    API = "api"


class NotifyBy(enum.StrEnum):
    """How the citizen is told of their case's progress."""

    SMS = "sms"
    EMAIL = "email"
    NONE = "none"


class Role(enum.StrEnum):
    """What a staff account may do; an account may hold several roles."""

    INTAKE = "intake"  # 受理员
    HANDLER = "handler"  # 承办人
    LEAD = "lead"  # 部门负责人
    SUPERVISOR = "supervisor"  # 督办
    LEADER = "leader"  # 包联领导
    ADMIN = "admin"


class Clock(enum.StrEnum):
    """The deadline clocks of DESIGN §4."""

    ACCEPT = "accept"
    SIGN = "sign"
    FIRST_RESPONSE = "first_response"
    RESOLVE = "resolve"
    REPLY_WINDOW = "reply_window"
    FEEDBACK = "feedback"


class PolicyTerm(enum.StrEnum):
    """What a deadline policy sets: every clock, plus the limits that are not clocks."""

    ACCEPT = "accept"
    SIGN = "sign"
    FIRST_RESPONSE = "first_response"
    RESOLVE = "resolve"
    REPLY_WINDOW = "reply_window"
    FEEDBACK = "feedback"
    EXTENSION_CAP = "extension_cap"  # total extension per resolve period
    RETURN_WINDOW = "return_window"  # a direct return is allowed within this of dispatch
    REVIEW_WINDOW = "review_window"  # a petition review may be asked within this


class TimeUnit(enum.StrEnum):
    """The unit a deadline term counts in."""

    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    HOURS = "hours"


class EventAction(enum.StrEnum):
    """Every kind of entry a case's timeline can hold (DESIGN §3)."""

    SUBMIT = "submit"
    ANSWER_DIRECTLY = "answer_directly"
    REJECT = "reject"
    REINSTATE = "reinstate"
    MERGE = "merge"
    DISPATCH = "dispatch"
    FORWARD = "forward"
    REASSIGN = "reassign"
    RETURN = "return"
    REQUEST_RETURN = "request_return"
    DECIDE_RETURN = "decide_return"
    SIGN_FOR = "sign_for"
    ASK_CITIZEN = "ask_citizen"
    CITIZEN_REPLIES = "citizen_replies"
    REPLY_WINDOW_PASSES = "reply_window_passes"
    RESOLVE = "resolve"
    RATE = "rate"
    FEEDBACK_WINDOW_PASSES = "feedback_window_passes"
    REOPEN = "reopen"
    WITHDRAW = "withdraw"
    REQUEST_REVIEW = "request_review"
    # Event-only actions: no change of status.
    NOTE = "note"
    ADD_INFORMATION = "add_information"
    RECORD_CONTACT = "record_contact"
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    URGE = "urge"
    SET_LEADER = "set_leader"
    SET_CASE_PLAN = "set_case_plan"
    MARK_LEGACY = "mark_legacy"
    LINK_LEDGER_ITEM = "link_ledger_item"
    REVEAL_CONTACT = "reveal_contact"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    EXCLUDE_RATING = "exclude_rating"
    ESCALATE = "escalate"
    CANCEL_REQUEST = "cancel_request"
    DECIDE_REDO = "decide_redo"
    # The working-day calendar changed (an imported schedule): a running clock's deadline
    # was counted again and moved (DESIGN §4).
    RECOMPUTE_DEADLINES = "recompute_deadlines"


class PetitionDecision(enum.StrEnum):
    """The written decision that answers a petition (信访处理意见)."""

    SUPPORTED = "supported"  # 支持
    EXPLAINED = "explained"  # 解释说明
    NOT_SUPPORTED = "not_supported"  # 不予支持


class Satisfaction(enum.StrEnum):
    """The citizen's rating of the answer."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


class RequestKind(enum.StrEnum):
    """Requests on a case that wait for someone's decision."""

    EXTENSION = "extension"
    RETURN = "return"
    REDO = "redo"  # a further redo past the second, decided by a supervisor


class RequestStatus(enum.StrEnum):
    """Where a request waiting for a decision stands."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"


class CalendarDayKind(enum.StrEnum):
    """An override of the working-day calendar: a holiday or a working weekend day (调休)."""

    HOLIDAY = "holiday"  # a day off, even on a weekday
    WORKDAY = "workday"  # a working day, even on a weekend (调休)


class LedgerKind(enum.StrEnum):
    """A campaign's ledger of commitments, or the legacy-issue ledger (理旧账)."""

    CAMPAIGN = "campaign"
    LEGACY = "legacy"


class LedgerItemStatus(enum.StrEnum):
    """Where a ledger item stands; written off (销号) when done."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WRITTEN_OFF = "written_off"  # 销号


class LedgerItemAction(enum.StrEnum):
    """Every kind of entry a ledger item's timeline can hold (``LedgerItemEvent.action``);
    their names for the UI are ``caseapp.labels.LEDGER_ITEM_ACTION_LABELS``."""

    CREATED = "created"
    CREATED_FROM_CASE = "created_from_case"  # a case marked legacy
    IMPORTED = "imported"
    UPDATE = "update"
    LINK_CASE = "link_case"
    UNLINK_CASE = "unlink_case"
    IN_PROGRESS = "in_progress"
    # 销号: by hand (a supervisor, or an import) the event names no case; by the item's
    # cases it names the case whose change wrote the item off.
    WRITE_OFF = "write_off"
    UNDO_WRITE_OFF = "undo_write_off"  # by a change of its cases; names that case
    REOPEN = "reopen"  # by hand


class OutboxChannel(enum.StrEnum):
    """The channel a notice is sent by."""

    SMS = "sms"
    EMAIL = "email"


class OutboxStatus(enum.StrEnum):
    """Where a notice in the outbox stands."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after the last attempt; shown to admins
    DROPPED = "dropped"  # an admin decided a dead notice is not to be sent


class QuestionType(enum.StrEnum):
    """Open311 attribute datatypes."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"
