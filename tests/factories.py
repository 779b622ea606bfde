"""Small factories for test data that the services do not make yet."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, CaseAssist, Category, Department, User
from caseapp.models.enums import CaseKind, CaseStatus, Channel

_numbers = itertools.count(1)


def department(code: str) -> Department:
    found = db.session.scalar(sa.select(Department).where(Department.code == code))
    assert found is not None, code
    return found


def user(username: str) -> User:
    found = db.session.scalar(sa.select(User).where(User.username == username))
    assert found is not None, username
    return found


def case_row(
    *,
    status: CaseStatus = CaseStatus.DISPATCHED,
    lead: str | None = "zjj",
    assists: tuple[str, ...] = (),
    category: str = "road-damage",
    title: str = "路面破损",
    due_in: timedelta | None = timedelta(days=1),
) -> Case:
    """A case row as the lifecycle would leave it, written directly."""
    seq = next(_numbers)
    now = datetime.now(UTC)
    case = Case(
        number=f"YC{now.year}-{seq:06d}",
        number_year=now.year,
        number_seq=seq,
        kind=CaseKind.HELP,
        category=db.session.scalar(sa.select(Category).where(Category.service_code == category)),
        channel=Channel.WEB,
        status=status,
        title=title,
        description="测试用诉求",
        received_at=now,
        lead_department=department(lead) if lead else None,
        next_deadline_at=now + due_in if due_in is not None else None,
        assists=[CaseAssist(department=department(code)) for code in assists],
    )
    db.session.add(case)
    db.session.commit()
    return case


# --- cases made by the services, as the lifecycle makes them --------------------------------

from caseapp.models.enums import NotifyBy, PetitionDecision, Satisfaction  # noqa: E402
from caseapp.services.casework import closing, intake, supervision  # noqa: E402
from caseapp.services.casework import handling as casework  # noqa: E402
from caseapp.services.casework.lifecycle import Actor  # noqa: E402
from caseapp.services.filing.cases import NewCase, submit_case  # noqa: E402


def staff(username: str) -> Actor:
    return Actor.staff(user(username))


def new_case(
    *,
    kind: CaseKind = CaseKind.HELP,
    category: str = "road-damage",
    title: str = "红旗西街人行道破损",
    description: str = "红旗西街人行道砖块松动，老人容易绊倒。",
    now: datetime | None = None,
    **fields: object,
) -> Case:
    """A case as the web form files it."""
    return filed(kind=kind, category=category, title=title, description=description, now=now,
                 **fields)[0]  # fmt: skip


def filed(
    *,
    kind: CaseKind = CaseKind.HELP,
    category: str = "road-damage",
    title: str = "红旗西街人行道破损",
    description: str = "红旗西街人行道砖块松动，老人容易绊倒。",
    now: datetime | None = None,
    **fields: object,
) -> tuple[Case, str]:
    """A case as the web form files it, and the key of its private link (/p/<key>)."""
    values: dict[str, object] = {
        "citizen_name": "张秀英",
        "citizen_phone": "13812345678",
        "notify_by": NotifyBy.SMS,
        "consent_privacy": True,
        "public_location": "红旗西街",
    }
    values.update(fields)
    return submit_case(
        NewCase(kind=kind, category_code=category, title=title, description=description, **values),  # type: ignore[arg-type]
        Actor.citizen(),
        now,
    )


def case_in(
    status: CaseStatus,
    *,
    kind: CaseKind = CaseKind.HELP,
    lead: str = "zjj",
    now: datetime | None = None,
    leader: bool = False,
    **fields: object,
) -> Case:
    """A case brought to ``status`` through the real actions, worked by the demo handler
    of ``lead`` (``handler`` for zjj, ``handler2`` for cgj)."""
    now = now or datetime.now(UTC)
    worker = {"cgj": "handler2"}.get(lead, "handler")
    tick = itertools.count()

    def t() -> datetime:
        return now + timedelta(minutes=next(tick))

    case = new_case(kind=kind, now=t(), **fields)
    if leader:
        supervision.set_responsible_leader(
            case, staff("supervisor"), user("leader").id, version=None, now=t()
        )
    if status is CaseStatus.NEW:
        return case
    if status is CaseStatus.REJECTED:
        belongs = "court" if kind is CaseKind.PETITION else None
        return intake.reject_case(
            case, staff("intake"), "不属于受理范围", version=None, belongs_to=belongs, now=t()
        )
    if status is CaseStatus.WITHDRAWN:
        return closing.withdraw_case(case, Actor.citizen(), "已自行解决", now=t())
    intake.dispatch_case(case, staff("intake"), department(lead).id, version=None, now=t())
    if status is CaseStatus.DISPATCHED:
        return case
    if status is CaseStatus.RETURNED:
        return casework.return_case(case, staff(worker), "不属于本单位职责", version=None, now=t())
    casework.sign_for_case(case, staff(worker), version=None, now=t())
    if status is CaseStatus.IN_PROGRESS:
        return case
    if status is CaseStatus.AWAITING_CITIZEN:
        return casework.ask_citizen(
            case, staff(worker), "请提供具体位置的照片。", version=None, now=t()
        )
    decision = PetitionDecision.SUPPORTED if kind is CaseKind.PETITION else None
    casework.resolve_case(case, staff(worker), "已修复。", version=None, decision=decision, now=t())
    if status is CaseStatus.RESOLVED:
        return case
    assert status is CaseStatus.CLOSED
    return closing.rate_case(
        case, Actor.citizen(), True, Satisfaction.SATISFIED, version=None, now=t()
    )


# --- ledgers and departments, as an admin or a migration would make them -------------------

from caseapp.models import Ledger, LedgerCategory  # noqa: E402
from caseapp.models.enums import LedgerKind  # noqa: E402

Names = tuple[str, str, str]  # code, Chinese name, English name


def ledger(
    code: str = "ss2021",
    kind: LedgerKind = LedgerKind.CAMPAIGN,
    name_zh: str = "我为群众办实事",
    name_en: str = "Practical things",
    categories: tuple[Names, ...] = (("projects", "项目建设服务", "Projects"),),
) -> Ledger:
    """A ledger with its categories (in the order given), committed."""
    made = Ledger(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        kind=kind,
        categories=[
            LedgerCategory(code=c, name_zh=zh, name_en=en, sort_order=order)
            for order, (c, zh, en) in enumerate(categories)
        ],
    )
    db.session.add(made)
    db.session.commit()
    return made


def legacy_ledger() -> Ledger:
    """The legacy-issue ledger (理旧账) that marking a case legacy files it in."""
    return ledger("legacy", LedgerKind.LEGACY, "理旧账", "Legacy issues", categories=())


def new_department(
    code: str, name_zh: str, name_en: str, *, parent: Department | None = None, **fields: object
) -> Department:
    """A department added to the session (the caller commits with the rest)."""
    made = Department(code=code, name_zh=name_zh, name_en=name_en, parent=parent, **fields)
    db.session.add(made)
    return made
