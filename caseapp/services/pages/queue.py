"""The staff queues (DESIGN §8): intake, my cases, department and all open; filters;
the nearest deadline first, in keyset pages; every row for export; and the counts the
navigation shows. Everything goes through the one visibility predicate.

The search box also takes a case number (that case opens, whatever its status) and a
mobile phone number (the cases that citizen filed, in every status; only those whose
filer the user may know, and each such search is written to the audit log)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, lazyload, raiseload

from caseapp.extensions import db
from caseapp.kept import Keeper
from caseapp.models import Case, CaseRequest, Category, Department, User
from caseapp.models.enums import (
    OPEN_STATUSES,
    CaseKind,
    CaseStatus,
    Channel,
    RequestKind,
    RequestStatus,
    Role,
)
from caseapp.models.org import UserRole
from caseapp.services.admin import audit
from caseapp.services.errors import ValidationFailed
from caseapp.services.filing.validation import mask_phone, normalise_phone, parse_id, parse_int
from caseapp.services.pages.search import text_matches
from caseapp.services.transactions import one_transaction
from caseapp.workflow import deadline_states as states
from caseapp.workflow.deadlines import LEVEL_DUE_SOON, LEVEL_SUPERVISED
from caseapp.workflow.visibility import (
    SEES_ALL_CASES,
    department_subtree,
    identity_visible_to,
    staff_can_see,
    visible_cases,
)

PAGE_SIZE = 50
EXPORT_BATCH = 500

# The open statuses, in a fixed order (the SQL text stays the same between runs).
QUEUE_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.RETURNED,
    CaseStatus.DISPATCHED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.AWAITING_CITIZEN,
    CaseStatus.RESOLVED,
)

# A query that is a case number finds that case, not text that contains it.
CASE_NUMBER = re.compile(r"^[A-Za-z]{1,16}\d{4}-\d{1,12}$")


class QueueView(enum.StrEnum):
    INTAKE = "intake"  # new and returned: waiting for intake
    MINE = "mine"  # open cases I handle, and my department's waiting to be signed for
    DEPARTMENT = "department"  # dispatched to my department (or below), not signed for
    ALL = "all"  # every open case I may see
    FINISHED = "finished"  # closed, withdrawn or not accepted: every one I may see
    APPROVALS = "approvals"  # open cases with a request waiting for my decision


FINISHED_STATUSES = (CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.REJECTED)

VIEW_STATUSES: dict[QueueView, tuple[CaseStatus, ...]] = {
    QueueView.INTAKE: (CaseStatus.NEW, CaseStatus.RETURNED),
    QueueView.MINE: QUEUE_STATUSES,
    QueueView.DEPARTMENT: (CaseStatus.DISPATCHED,),
    QueueView.ALL: QUEUE_STATUSES,
    QueueView.FINISHED: FINISHED_STATUSES,
    QueueView.APPROVALS: QUEUE_STATUSES,
}


class DeadlineState(enum.StrEnum):
    DUE_TODAY = "due_today"  # due later today (city time), not yet overdue
    DUE_SOON = "due_soon"  # escalated as due soon, or due within a day
    OVERDUE = "overdue"
    SUPERVISED = "supervised"


@dataclass(frozen=True)
class QueueFilters:
    """What the filter form asks for; ``None`` (or "") is "any"."""

    status: CaseStatus | None = None
    kind: CaseKind | None = None
    category_id: int | None = None
    department_id: int | None = None  # the lead department
    handler_id: int | None = None
    channel: Channel | None = None
    deadline: DeadlineState | None = None
    legacy: bool | None = None
    received_from: date | None = None  # city dates, both ends included
    received_to: date | None = None
    q: str = ""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A cursor's deadline lies between 1970 and 2200 (any later one names no case).
_MAX_MICROS = (datetime(2200, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    """Where a page ends in the order (next deadline, nulls last; id). A phone
    number's list pages by (received, id), newest first, with the same cursor."""

    deadline: datetime | None
    id: int

    NO_DEADLINE = "n"

    def encode(self) -> str:
        """``<µs since 1970 UTC>.<id>``, or ``n.<id>`` past the cases without a deadline."""
        if self.deadline is None:
            return f"{self.NO_DEADLINE}.{self.id}"
        micros = (self.deadline - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor an ``after`` parameter names; ValidationFailed if it names none."""
        head, _, tail = text.partition(".")
        case_id = parse_id(tail)
        micros = (
            None if head == cls.NO_DEADLINE else parse_int(head, minimum=0, maximum=_MAX_MICROS)
        )
        if case_id is None or (micros is None and head != cls.NO_DEADLINE):
            raise ValidationFailed("not a queue position", {"after": "invalid"})
        if micros is None:
            return cls(None, case_id)
        return cls(_EPOCH + timedelta(microseconds=micros), case_id)

    @classmethod
    def after_case(cls, case: Case) -> Cursor:
        return cls(case.next_deadline_at, case.id)


@dataclass(frozen=True)
class QueuePage:
    cases: Sequence[Case]
    next_cursor: Cursor | None  # None on the last page


@dataclass(frozen=True)
class NavigationCounts:
    """The counts beside "Case queue": over the user's default queue, and approvals."""

    view: QueueView
    due_today: int
    overdue: int
    approvals: int


@dataclass(frozen=True)
class FilterOptions:
    """The choices of the filter form that come from the database."""

    categories: Sequence[Category]
    departments: Sequence[Department]
    handlers: Sequence[User]


# --- which queues ------------------------------------------------------------------------


def _in_department(user: User) -> bool:
    return bool(user.roles & {Role.HANDLER, Role.LEAD}) and user.department_id is not None


def offered_views(user: User) -> tuple[QueueView, ...]:
    """The queues shown as tabs for this user, in order."""
    views: list[QueueView] = []
    if user.roles & {Role.INTAKE, Role.SUPERVISOR}:
        views.append(QueueView.INTAKE)
    if user.roles & {Role.HANDLER, Role.LEAD}:
        views.append(QueueView.MINE)
    if _in_department(user):
        views.append(QueueView.DEPARTMENT)
    if _approvals_condition(user) is not None:
        views.append(QueueView.APPROVALS)
    views.append(QueueView.ALL)
    views.append(QueueView.FINISHED)
    return tuple(views)


def default_view(user: User) -> QueueView:
    """Supervisors and leaders: all open; leads: department; handlers: mine; intake:
    intake. With several roles the first of that order wins."""
    roles = user.roles
    if roles & {Role.SUPERVISOR, Role.LEADER}:
        return QueueView.ALL
    if Role.LEAD in roles and _in_department(user):
        return QueueView.DEPARTMENT
    if Role.HANDLER in roles:
        return QueueView.MINE
    if Role.INTAKE in roles:
        return QueueView.INTAKE
    return QueueView.ALL


def choose_view(user: User, wanted: str | None) -> QueueView:
    """The queue a ``view`` parameter asks for if it is one offered, else the default."""
    if wanted in {v.value for v in offered_views(user)}:
        return QueueView(wanted)
    return default_view(user)


def case_named(user: User, query: str) -> str | None:
    """The number of the case ``query`` names, whatever its status, if ``user`` may see
    it: a case number typed in the queue's search opens that case."""
    text = query.strip().upper()
    if not CASE_NUMBER.match(text):
        return None
    found: str | None = db.session.scalar(
        visible_cases(user).with_only_columns(Case.number).where(Case.number == text)
    )
    return found


# --- a phone number typed in the search --------------------------------------------------

# The audit log's name for a search by a citizen's phone number.
PHONE_SEARCH = "phone_search"


@dataclass(frozen=True)
class PhoneCases:
    """One page of the cases filed from a phone number, newest first."""

    masked_phone: str  # 138****5678: the page never shows the number itself
    page: QueuePage

    def only_case(self, first_page: bool) -> str | None:
        """The number of the one case the search found, to open it directly."""
        cases = self.page.cases
        if first_page and len(cases) == 1 and self.page.next_cursor is None:
            return cases[0].number
        return None


def phone_named(query: str) -> str | None:
    """The mobile number ``query`` is (spaces, dashes and +86 allowed), in the national
    digits cases keep it in (the public form's rule), or None."""
    return normalise_phone(query, mobile_only=True)


def phone_statement(user: User, phone: str) -> sa.Select[tuple[Case]]:
    """The cases filed from ``phone`` (national digits), in any status, that ``user``
    may see and whose filer ``user`` may know: a department must not learn from a
    phone number which petitions or reports that citizen filed (DESIGN §8)."""
    return visible_cases(user).where(Case.citizen_phone == phone, identity_visible_to(user))


def _phone_positions(
    stmt: sa.Select[tuple[Case]], after: Cursor | None, size: int
) -> list[tuple[int, str, datetime]]:
    """(id, number, received) of up to ``size + 1`` cases of a ``phone_statement`` after
    ``after``, newest first; ix_cases_citizen_phone_received_at finds them."""
    stmt = stmt.with_only_columns(Case.id, Case.number, Case.received_at)
    if after is not None:
        if after.deadline is None:
            raise ValidationFailed("not a position in a phone's list", {"after": "invalid"})
        stmt = stmt.where(
            Case.received_at <= after.deadline,
            sa.or_(Case.received_at < after.deadline, Case.id < after.id),
        )
    stmt = stmt.order_by(Case.received_at.desc(), Case.id.desc()).limit(size + 1)
    return [(row.id, row.number, row.received_at) for row in db.session.execute(stmt)]


def _listed(ids: Sequence[int]) -> list[Case]:
    """The cases of ``ids`` (a page's, so at most a page long) loaded for a list, in
    the order of ``ids``."""
    if not ids:
        return []
    found = {
        case.id: case
        for case in db.session.scalars(
            _for_listing(sa.select(Case).where(Case.id.in_(ids)))
        ).unique()
    }
    return [found[i] for i in ids if i in found]


def _record_phone_search(
    user: User, phone: str, numbers: Sequence[str], action: str, now: datetime | None
) -> None:
    """The audit row of a search by phone: who searched, when, the number masked (the
    audit log is read by admins, who see no case) and the cases it gave."""
    audit.record(
        user,
        PHONE_SEARCH,
        None,
        action,
        None,
        {"phone": mask_phone(phone), "cases": list(numbers)},
        now=now,
    )


@one_transaction
def cases_of_phone(
    user: User,
    phone: str,
    after: Cursor | None = None,
    *,
    now: datetime | None = None,
    size: int = PAGE_SIZE,
) -> PhoneCases:
    """One page of the cases filed from ``phone`` that ``user`` may see with their
    filer (``phone_statement``), whatever their status, newest first; every page asked
    for is written to the audit log with the cases it listed."""
    positions = _phone_positions(phone_statement(user, phone), after, size)
    shown = positions[:size]
    _record_phone_search(user, phone, [number for _id, number, _at in shown], "search", now)
    db.session.commit()  # before the cases are loaded: a commit would expire them
    next_cursor = None
    if len(positions) > size:
        last_id, _number, last_received = shown[-1]
        next_cursor = Cursor(last_received, last_id)
    return PhoneCases(
        mask_phone(phone), QueuePage(_listed([i for i, _n, _a in shown]), next_cursor)
    )


@one_transaction
def record_phone_export(user: User, phone: str, now: datetime | None = None) -> None:
    """Write to the audit log that ``user`` exports the cases of ``phone`` (with the
    first page of them)."""
    first = _phone_positions(phone_statement(user, phone), None, PAGE_SIZE)[:PAGE_SIZE]
    _record_phone_search(user, phone, [number for _id, number, _at in first], "export", now)
    db.session.commit()


def iter_phone_cases(user: User, phone: str, *, batch: int = EXPORT_BATCH) -> Iterator[Case]:
    """Every case of ``cases_of_phone``'s list, in its order, in keyset batches, each
    read in its own transaction (as ``iter_queue``). Call ``record_phone_export``
    first: this only reads."""
    # Built now, while the request has the user: a streamed export reads it later.
    return _phone_batches(phone_statement(user, phone), batch)


def _phone_batches(stmt: sa.Select[tuple[Case]], batch: int) -> Iterator[Case]:
    after: Cursor | None = None
    while True:
        positions = _phone_positions(stmt, after, batch)
        shown = positions[:batch]
        yield from _listed([case_id for case_id, _n, _a in shown])
        if len(positions) <= batch:
            return
        db.session.rollback()  # only reads happened; the next batch starts afresh
        last_id, _number, last_received = shown[-1]
        after = Cursor(last_received, last_id)


# --- the statement -----------------------------------------------------------------------


def _city_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CITY_TIMEZONE"])


def local_day_start(day: date) -> datetime:
    """00:00 of a city date, in UTC."""
    return datetime.combine(day, time(), tzinfo=_city_zone()).astimezone(UTC)


def end_of_local_day(now: datetime) -> datetime:
    """24:00 of the city's day that ``now`` falls on, in UTC."""
    return local_day_start(now.astimezone(_city_zone()).date() + timedelta(days=1))


def _view_arms(user: User, view: QueueView) -> list[sa.ColumnElement[bool]]:
    """What a view asks beside its statuses, as alternatives (any one admits a case):
    each, with one status, is an ordered range of an index (``_parts``)."""
    if view is QueueView.APPROVALS:
        decides = _approvals_condition(user)
        if decides is None:
            return [sa.false()]
        return [
            sa.exists().where(
                CaseRequest.case_id == Case.id, CaseRequest.status == RequestStatus.PENDING, decides
            )
        ]
    if view is QueueView.MINE:
        # What I handle, and what my department was sent that nobody has signed for yet:
        # a handler's day starts from one list.
        arms: list[sa.ColumnElement[bool]] = [Case.handler_id == user.id]
        if user.department_id is not None and Role.HANDLER in user.roles:
            arms.append(
                sa.and_(
                    Case.status == CaseStatus.DISPATCHED,
                    Case.handler_id.is_(None),
                    Case.lead_department_id == user.department_id,
                )
            )
        return arms
    if view is QueueView.DEPARTMENT:
        if not _in_department(user):
            return [sa.false()]
        assert user.department_id is not None
        subtree = department_subtree(user.department_id, name="queue_department")
        return [Case.lead_department_id.in_(subtree)]
    return [sa.true()]


def _view_condition(
    user: User, view: QueueView, arms: list[sa.ColumnElement[bool]] | None = None
) -> sa.ColumnElement[bool]:
    """The view's statuses and any of its ``arms`` (made here unless given)."""
    arms = _view_arms(user, view) if arms is None else arms
    return sa.and_(Case.status.in_(VIEW_STATUSES[view]), sa.or_(*arms))


def _parts(
    view: QueueView,
    filters: QueueFilters,
    shared: list[sa.ColumnElement[bool]],
    arms: list[sa.ColumnElement[bool]],
) -> list[sa.ColumnElement[bool]]:
    """The queue's condition cut into parts whose union it is: one per status and
    alternative of the view (``arms``), each with the ``shared`` conditions (visibility,
    filters) and each an ordered range of an index on (…, status, next deadline): the
    (status, next deadline) index for intake and supervisors, (handler, status, next
    deadline) for a handler's own cases. ``_page`` reads each part's first cases and
    merges them."""
    statuses = VIEW_STATUSES[view]
    if filters.status is not None:
        statuses = (filters.status,) if filters.status in statuses else ()
    return [
        sa.and_(*shared, arm, Case.status == status) for status in sorted(statuses) for arm in arms
    ]


def _deadline_condition(state: DeadlineState, now: datetime) -> sa.ColumnElement[bool]:
    if state is DeadlineState.DUE_TODAY:
        return sa.and_(Case.next_deadline_at >= now, Case.next_deadline_at < end_of_local_day(now))
    if state is DeadlineState.DUE_SOON:
        return states.due_soon(now)
    if state is DeadlineState.OVERDUE:
        return states.overdue(now)
    return states.supervised()


def _filter_conditions(filters: QueueFilters, now: datetime) -> list[sa.ColumnElement[bool]]:
    f = filters
    conditions: list[sa.ColumnElement[bool]] = []
    if f.status is not None:
        conditions.append(Case.status == f.status)
    if f.kind is not None:
        conditions.append(Case.kind == f.kind)
    if f.category_id is not None:
        conditions.append(Case.category_id == f.category_id)
    if f.department_id is not None:
        conditions.append(Case.lead_department_id == f.department_id)
    if f.handler_id is not None:
        conditions.append(Case.handler_id == f.handler_id)
    if f.channel is not None:
        conditions.append(Case.channel == f.channel)
    if f.deadline is not None:
        conditions.append(_deadline_condition(f.deadline, now))
    if f.legacy is not None:
        conditions.append(Case.is_legacy == f.legacy)
    if f.received_from is not None:
        conditions.append(Case.received_at >= local_day_start(f.received_from))
    if f.received_to is not None:
        conditions.append(Case.received_at < local_day_start(f.received_to + timedelta(days=1)))
    q = f.q.strip()
    if CASE_NUMBER.match(q):
        conditions.append(Case.number == q.upper())
    elif q:
        conditions.append(text_matches(q))
    return conditions


def queue_statement(
    user: User, view: QueueView, filters: QueueFilters, now: datetime | None = None
) -> sa.Select[tuple[Case]]:
    """``select(Case)`` of a queue with its filters, for ``user``; not yet ordered."""
    return _queue(user, view, filters, now)[0]


def _queue(
    user: User, view: QueueView, filters: QueueFilters, now: datetime | None
) -> tuple[sa.Select[tuple[Case]], list[sa.ColumnElement[bool]]]:
    """``queue_statement`` and its ``_parts``, each condition made once: a statement
    holds one of each named CTE, and a text search asks the index how common its words
    are."""
    shared = [staff_can_see(user), *_filter_conditions(filters, now or datetime.now(UTC))]
    arms = _view_arms(user, view)
    stmt = sa.select(Case).where(_view_condition(user, view, arms), *shared)
    return stmt, _parts(view, filters, shared, arms)


# --- pages -------------------------------------------------------------------------------


def _for_listing(stmt: sa.Select[tuple[Case]]) -> sa.Select[tuple[Case]]:
    """Load what a list row shows in the same statement; anything else would be N+1."""
    return stmt.options(
        joinedload(Case.category),
        joinedload(Case.lead_department),
        joinedload(Case.handler).options(lazyload(User.role_rows)),
        raiseload("*"),
    )


def _page(
    stmt: sa.Select[tuple[Case]],
    after: Cursor | None,
    size: int,
    parts: Sequence[sa.ColumnElement[bool]] = (),
) -> QueuePage:
    """One page in the order (next deadline, id), the cases without a deadline last.

    Two legs rather than one ``ORDER BY next_deadline_at IS NULL, …``: each leg's order
    is that of an index on next_deadline_at (SQLite's entries end with the id;
    PostgreSQL sorts ties incrementally), so a page reads about ``size`` rows instead
    of sorting the whole queue. The cursor condition is written as a range on
    next_deadline_at plus a tie-break, so the index serves it too.

    ``parts`` (``_parts``: conditions whose union is the statement's) split the dated
    leg further, each part's first cases merged by their ids (``first_by_deadline``): a view
    of a few statuses then reads its own rows in order on an index instead of walking
    past every earlier deadline of other cases or sorting all of its own (at a million
    cases the intake view walked 90,000 rows of cases in work for its page on
    PostgreSQL; SQLite sorted a handler's 35,000 open cases).
    """
    stmt = _for_listing(stmt)
    cases: list[Case] = []
    if after is None or after.deadline is not None:
        dated_condition = [Case.next_deadline_at.is_not(None)]
        if after is not None:
            assert after.deadline is not None
            dated_condition += [
                Case.next_deadline_at >= after.deadline,
                sa.or_(Case.next_deadline_at > after.deadline, Case.id > after.id),
            ]
        if len(parts) > 1:
            # The parts hold every condition of the statement: the ids are the page.
            nearest = first_by_deadline([sa.and_(p, *dated_condition) for p in parts], size + 1)
            dated = _for_listing(sa.select(Case)).where(Case.id.in_(nearest))
        else:
            dated = stmt.where(*dated_condition)
        dated = dated.order_by(Case.next_deadline_at, Case.id).limit(size + 1)
        cases = list(db.session.scalars(dated).unique())
        if len(cases) > size:
            return QueuePage(cases[:size], Cursor.after_case(cases[size - 1]))
    undated = stmt.where(Case.next_deadline_at.is_(None))
    if after is not None and after.deadline is None:
        undated = undated.where(Case.id > after.id)
    room = size - len(cases)
    cases += db.session.scalars(undated.order_by(Case.id).limit(room + 1)).unique()
    if len(cases) > size:
        return QueuePage(cases[:size], Cursor.after_case(cases[size - 1]))
    return QueuePage(cases, None)


def first_by_deadline(parts: Sequence[sa.ColumnElement[bool]], count: int) -> sa.Select[tuple[int]]:
    """The ids of the first ``count`` cases of the union of ``parts`` in (next deadline,
    id) order, from each part's first ``count``: with each part an ordered range of an
    index, the database reads about ``count`` rows a part instead of sorting all that
    match. (A case in two parts is one row of the union.)"""
    firsts = [
        sa.select(Case.id, Case.next_deadline_at)
        .where(part)
        .order_by(Case.next_deadline_at, Case.id)
        .limit(count)
        .subquery()
        for part in parts
    ]
    nearest = sa.union(*(sa.select(first) for first in firsts)).subquery("nearest")
    return sa.select(nearest.c.id).order_by(nearest.c.next_deadline_at, nearest.c.id).limit(count)


def queue_page(
    user: User,
    view: QueueView,
    filters: QueueFilters,
    after: Cursor | None = None,
    *,
    now: datetime | None = None,
    size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of a queue: the nearest deadline first, then by id, after ``after``."""
    stmt, parts = _queue(user, view, filters, now)
    return _page(stmt, after, size, parts)


def iter_queue(
    user: User,
    view: QueueView,
    filters: QueueFilters,
    *,
    now: datetime | None = None,
    batch: int = EXPORT_BATCH,
) -> Iterator[Case]:
    """Every case of a filtered queue in page order, read in keyset batches (exports).

    Each batch is read in its own transaction, ended once the caller has taken the
    batch's last case: a long export holds neither a lock nor a snapshot for its whole
    length (on SQLite every transaction here takes the write lock, and writers would
    wait). A case whose deadline moves meanwhile may be missed or listed twice, as when
    paging by hand. Call it with no pending changes in the session.
    """
    stmt, parts = _queue(user, view, filters, now)
    after: Cursor | None = None
    while True:
        page = _page(stmt, after, batch, parts)
        yield from page.cases
        if page.next_cursor is None:
            return
        db.session.rollback()  # only reads happened; the next batch starts afresh
        after = page.next_cursor


def deadline_state(case: Case, now: datetime) -> DeadlineState | None:
    """The most pressing state a row shows: supervised, overdue or due soon (the rules
    of ``workflow.deadline_states``, for a row in hand)."""
    due = case.next_deadline_at
    if case.status not in OPEN_STATUSES:
        return None
    if case.escalation_level >= LEVEL_SUPERVISED:
        return DeadlineState.SUPERVISED
    if due is not None and due < now:
        return DeadlineState.OVERDUE
    if case.escalation_level == LEVEL_DUE_SOON or (
        due is not None and now <= due < now + states.DUE_SOON_WITHIN
    ):
        return DeadlineState.DUE_SOON
    return None


# --- the navigation's counts -------------------------------------------------------------


def _approvals_condition(user: User) -> sa.ColumnElement[bool] | None:
    """The pending requests ``user`` may decide (the lifecycle's DECIDE_* rules):
    supervisors decide returns, redos and extensions except a petition's; the lead of
    the lead department decides a petition's extension."""
    mine: list[sa.ColumnElement[bool]] = []
    if Role.SUPERVISOR in user.roles:
        mine.append(
            sa.or_(
                CaseRequest.kind.in_((RequestKind.RETURN, RequestKind.REDO)),
                sa.and_(CaseRequest.kind == RequestKind.EXTENSION, Case.kind != CaseKind.PETITION),
            )
        )
    if Role.LEAD in user.roles and user.department_id is not None:
        mine.append(
            sa.and_(
                CaseRequest.kind == RequestKind.EXTENSION,
                Case.kind == CaseKind.PETITION,
                Case.lead_department_id == user.department_id,
            )
        )
    return sa.or_(*mine) if mine else None


# The deadline counts of the navigation read every late case of the user's queue (a
# supervisor's: all of a city's), on every staff page: each process keeps them a short
# while per user and queue (NAVIGATION_COUNTS_MAX_AGE_SECONDS). Approvals are counted
# fresh: one decides and the badge goes at once.
_KEPT_DEADLINE_COUNTS: Keeper[tuple[int, int]] = Keeper(size=1024)


def navigation_counts(
    user: User, now: datetime | None = None, max_age_seconds: float = 0
) -> NavigationCounts:
    """Due later today and overdue in the user's default queue (what the "Case queue"
    link opens), kept ``max_age_seconds``, and the approvals waiting for the user: two
    COUNT queries."""
    now = now or datetime.now(UTC)
    view = default_view(user)
    end_of_today = end_of_local_day(now)
    due = Case.next_deadline_at

    def deadline_counts() -> tuple[int, int]:
        soon, late = db.session.execute(
            visible_cases(user)
            .with_only_columns(
                # Counting 1s, not ids: the (status, next deadline) index alone answers.
                sa.func.count(sa.case((due >= now, 1))),
                sa.func.count(sa.case((states.overdue(now), 1))),
            )
            .where(_view_condition(user, view), due < end_of_today)
        ).one()
        return int(soon), int(late)

    key = (db.engine.url.render_as_string(hide_password=True), user.id, view)
    due_today, overdue = _KEPT_DEADLINE_COUNTS.get(key, max_age_seconds, deadline_counts)
    approvals = 0
    decides = _approvals_condition(user)
    if decides is not None:
        approvals = db.session.scalar(
            visible_cases(user)
            .with_only_columns(sa.func.count(CaseRequest.id))
            .join_from(Case, CaseRequest, CaseRequest.case_id == Case.id)
            .where(CaseRequest.status == RequestStatus.PENDING, decides)
        )
    return NavigationCounts(view, due_today, overdue, approvals or 0)


# --- the filter form's choices -----------------------------------------------------------


def filter_options(user: User) -> FilterOptions:
    """Categories, departments and the handlers ``user`` may filter by: department staff
    choose among the handlers of their own department and those below it, everyone else
    among all handlers."""
    categories = db.session.scalars(
        sa.select(Category).order_by(Category.sort_order, Category.id)
    ).all()
    departments = db.session.scalars(
        sa.select(Department).where(Department.retired_at.is_(None)).order_by(Department.id)
    ).all()
    handlers_stmt = (
        sa.select(User)
        .where(
            User.active.is_(True),
            User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == Role.HANDLER)),
        )
        .options(lazyload(User.role_rows))
        .order_by(User.display_name, User.id)
    )
    if _in_department(user) and not user.roles & SEES_ALL_CASES:
        assert user.department_id is not None
        handlers_stmt = handlers_stmt.where(
            User.department_id.in_(department_subtree(user.department_id))
        )
    return FilterOptions(categories, departments, db.session.scalars(handlers_stmt).all())
