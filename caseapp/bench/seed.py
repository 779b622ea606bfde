"""Synthetic cases in bulk for the benchmarks at scale (DESIGN §11).

``seed_cases`` writes realistic cases straight into the tables with Core bulk inserts
(one executemany per table and batch), not through the filing service: a million
filings one by one would take hours. Every row is one the services could have
written: numbers taken from the per-year sequence (advanced, so later filings go on
from there), the category's deadline terms copied, one running clock per open case
with ``next_deadline_at`` its due time, and the events the scorecards count.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from caseapp.db_setup import refresh_planner_statistics
from caseapp.extensions import db
from caseapp.models import (
    Case,
    CaseClock,
    CaseEvent,
    CaseParticipant,
    Category,
    DeadlinePolicy,
    Department,
    User,
    UserRole,
)
from caseapp.models.enums import (
    CONFIDENTIAL_KINDS,
    CaseKind,
    CaseStatus,
    Channel,
    Clock,
    CloseReason,
    EventAction,
    NotifyBy,
    PetitionDecision,
    PolicyTerm,
    Priority,
    Role,
    Satisfaction,
    TimeUnit,
)
from caseapp.models.types import utcnow
from caseapp.services.filing.numbers import format_case_number, reserve_case_numbers
from caseapp.workflow.deadlines import (
    ESCALATING_CLOCKS,
    DeadlineMath,
    Period,
    period_for,
    snapshot_terms,
)

S = CaseStatus
K = CaseKind

# --- what the synthetic city files ---------------------------------------------------------

STATUS_SHARES: dict[CaseStatus, int] = {
    S.NEW: 8,
    S.DISPATCHED: 7,
    S.RETURNED: 1,
    S.IN_PROGRESS: 20,
    S.AWAITING_CITIZEN: 3,
    S.RESOLVED: 6,
    S.CLOSED: 48,
    S.REJECTED: 4,
    S.WITHDRAWN: 3,
}
KIND_SHARES: dict[CaseKind, int] = {
    K.HELP: 34,
    K.COMPLAINT: 25,
    K.CONSULTATION: 20,
    K.SUGGESTION: 14,
    K.PETITION: 3,
    K.REPORT: 2,
    K.PRAISE: 2,
}
# Citizens file on the web, staff take the rest at the hotline, the window, by letter or
# at a visit. (No API filings: those need an ApiFiling row and a key.)
CHANNEL_SHARES: dict[Channel, int] = {
    Channel.WEB: 40,
    Channel.PHONE: 38,
    Channel.WINDOW: 10,
    Channel.LETTER: 7,
    Channel.VISIT: 5,
}
PETITION_CHANNELS = (Channel.LETTER, Channel.VISIT, Channel.WEB)
STAFF_CHANNELS = frozenset({Channel.PHONE, Channel.WINDOW, Channel.LETTER, Channel.VISIT})
# The categories a kind is filed in when it has its own (code: weight).
KIND_CATEGORIES: dict[CaseKind, dict[str, int]] = {
    K.PETITION: {"petition": 1},
    K.REPORT: {"fraud": 5, "illegal-building": 3, "sanitation": 1},
    K.CONSULTATION: {
        "provident-fund": 4,
        "social-insurance": 4,
        "identity-card": 3,
        "approvals": 3,
        "property-registration": 2,
        "veterans": 1,
        "bus-stop": 1,
        "water": 1,
        "gas": 1,
    },
}
# Everything else: the everyday matters (codes not listed weigh 1).
EVERYDAY_WEIGHTS: dict[str, int] = {
    "road-damage": 8,
    "street-light": 6,
    "sanitation": 7,
    "bus-stop": 3,
    "water": 4,
    "power": 3,
    "illegal-building": 3,
    "parks": 2,
    "resettlement": 2,
    "other": 3,
}
NOT_EVERYDAY = frozenset({"petition", "fraud"})

ROADS = ("圣惠路", "工农街", "机场大道", "河东西街", "红旗西街", "中银路", "涑水街", "条山街", "人民路")  # fmt: skip
SPOTS = ("", "中段", "东口", "西口", "南段", "北段", "小区门口", "学校门口", "农贸市场旁", "公交站附近")  # fmt: skip
# (title, description) per category code; {road}, {spot}, {num} are filled in.
TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "road-damage": (
        (
            "{road}{spot}路面坑洼",
            "{road}{spot}路面出现多处坑洼，雨后积水，车辆和行人通行困难，请尽快修补。",
        ),
        (
            "{road}{spot}井盖破损",
            "{road}{spot}一处井盖破损下沉，已有{num}辆电动车在此摔倒，存在安全隐患。",
        ),
        (
            "{road}人行道砖块松动",
            "{road}{spot}人行道砖块松动翘起，老人和孩子容易绊倒，希望尽快修复。",
        ),
    ),
    "street-light": (
        ("{road}{spot}路灯不亮", "{road}{spot}连续{num}盏路灯不亮，夜间行人很不安全。"),
        ("{road}路灯杆倾斜", "{road}{spot}一根路灯杆被车撞后倾斜，有倒塌危险，请派人处理。"),
    ),
    "bus-stop": (
        (
            "{road}公交站点被取消",
            "{road}改造完成后，{spot}原有的公交站点没有恢复，居民要步行很远坐车，请求恢复站点。",
        ),
        (
            "{road}公交站牌信息不准确",
            "{road}{spot}公交站牌上的线路和首末班时间与实际不符，请更新。",
        ),
    ),
    "pedestrian-bridge": (
        ("{road}{spot}缺少斑马线", "{road}{spot}车流量大，没有斑马线和信号灯，行人过马路很危险。"),
        ("{road}人行天桥电梯停用", "{road}人行天桥的电梯停用{num}天了，老人上下桥困难。"),
    ),
    "sanitation": (
        ("{road}垃圾清运不及时", "{road}{spot}垃圾桶满溢，已经{num}天没人清运，气味很大。"),
        ("{road}{spot}道路清扫不到位", "{road}{spot}路面落叶和垃圾堆积，希望加强清扫。"),
    ),
    "illegal-building": (
        ("{road}{spot}私搭乱建", "{road}{spot}有商户在人行道上私搭彩钢棚，占道经营，影响通行。"),
        ("{road}小区楼顶违建", "{road}某小区{num}号楼楼顶有人加盖房屋，存在安全隐患。"),
    ),
    "worker-station": (
        (
            "{road}户外劳动者驿站未开放",
            "{road}{spot}的户外劳动者驿站白天经常锁门，环卫工人无处休息。",
        ),
    ),
    "parks": (
        ("{road}附近健身器材损坏", "{road}{spot}街心公园的健身器材有{num}件损坏，存在安全隐患。"),
        ("{road}公园夜间照明不足", "{road}旁公园晚上照明不足，散步的居民很多，请增设路灯。"),
    ),
    "water": (
        ("{road}{spot}停水", "{road}{spot}小区从昨天起停水，没有提前通知，何时恢复供水？"),
        (
            "{road}新建商铺供水报装",
            "在{road}{spot}新开商铺，申请供水报装，请问需要哪些材料和多长时间？",
        ),
    ),
    "gas": (
        ("{road}小区燃气报装进度", "{road}{spot}小区{num}月份申请燃气报装，至今没有安装，请督促。"),
    ),
    "power": (
        (
            "{road}{spot}频繁停电",
            "{road}{spot}最近一周停电{num}次，冰箱里的东西都坏了，请查明原因。",
        ),
        ("{road}小区电表报装", "{road}{spot}新房申请电表报装，已提交材料{num}天未有答复。"),
    ),
    "resettlement": (
        (
            "{road}回迁安置房迟迟未交付",
            "{road}棚改项目的回迁安置房原定去年交付，至今未能入住，请给个说法。",
        ),
    ),
    "land-compensation": (
        ("{road}拓宽工程征地补偿未到位", "{road}拓宽工程占用我家承包地，补偿款至今没有发放到位。"),
    ),
    "provident-fund": (
        (
            "公积金提取需要哪些材料",
            "家住{road}，想提取住房公积金用于租房，请问需要带哪些材料，能否网上办理？",
        ),
        ("公积金贷款审批太慢", "在{road}买了房，公积金贷款申请已经{num}周还没审批下来。"),
    ),
    "veterans": (
        ("退役军人养老保险接续", "本人退役后在{road}居住，原部队的养老保险如何接续到地方？"),
    ),
    "social-insurance": (
        ("医保异地报销咨询", "户籍在{road}，在外地住院花费较多，请问医保如何异地报销？"),
        ("养老保险缴费年限查询", "住{road}，想查询养老保险缴费年限，网上查不到近{num}年的记录。"),
    ),
    "approvals": (
        ("{road}营业执照办理时间过长", "在{road}{spot}开店，营业执照申请提交{num}天仍未办结。"),
    ),
    "property-registration": (
        ("{road}小区房产证办不下来", "{road}{spot}小区入住{num}年了，房产证一直办不下来，请协调。"),
    ),
    "identity-card": (
        ("身份证异地补办咨询", "户籍在{road}，人在外地打工，身份证丢失，能否异地补办？"),
    ),
    "fraud": (
        ("{road}{spot}疑似诈骗窝点", "{road}{spot}一处门面房常有陌生人出入，疑似电信诈骗窝点。"),
        ("{road}{spot}夜间聚众赌博", "{road}{spot}一家棋牌室夜间聚众赌博，影响周边居民休息。"),
    ),
    "petition": (
        (
            "{road}房屋拆迁补偿信访",
            "{road}{spot}房屋拆迁，补偿标准与同片区不一致，多次反映未解决。",
        ),
        ("{road}历史遗留产权问题", "{road}{spot}单位房改房产权问题遗留{num}年，请求依法解决。"),
    ),
    "other": (
        ("{road}{spot}噪音扰民", "{road}{spot}夜间施工噪音很大，影响居民休息，请依法处理。"),
        ("{road}{spot}流浪犬伤人", "{road}{spot}有流浪犬聚集，已有{num}人被咬伤。"),
    ),
}
REJECT_REASON = "该事项不属于热线受理范围，请通过司法途径解决。"
WITHDRAW_REASON = "问题已自行解决，撤回诉求。"
GENERIC_TEMPLATE = ("{road}{spot}{name}问题", "{road}{spot}的{name}问题，请有关部门尽快处理。")
ANSWERS = (
    "经现场核实，已安排维修，现已处理完毕。",
    "已联系相关单位，问题已解决，感谢您的监督。",
    "经核实情况属实，已整改到位。",
    "已向您电话解释相关政策，办理所需材料已告知。",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟段"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂建国志海燕玉红梅文华庆民安宁晓"
# Mobile numbers filing accepts (154 is not allocated: ``normalise_phone`` refuses it).
MOBILE_PREFIXES = tuple(f"1{a}{b}" for a in "358" for b in "0123456789" if f"{a}{b}" != "54")

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
HISTORY_DAYS = 3 * 365  # closed matters go back about three years

T = TypeVar("T")


def _weighted(rng: random.Random, shares: dict[T, int]) -> T:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


# --- what the seeder reads once ------------------------------------------------------------


@dataclass(frozen=True)
class _Category:
    id: int
    code: str
    name_zh: str
    department_id: int | None
    public_by_default: bool
    anonymous_allowed: bool
    terms: dict[str, Any]


@dataclass
class City:
    """The demo base as the seeder needs it, and the deadline arithmetic, cached."""

    now: datetime
    math: DeadlineMath
    categories: list[_Category]
    by_code: dict[str, _Category]
    department_ids: list[int]
    handlers: dict[int, list[int]]  # department id → its handlers' user ids
    intake_id: int | None
    leader_id: int | None
    _due: dict[tuple[Any, ...], datetime] = field(default_factory=dict)
    _periods: dict[tuple[Any, ...], Period] = field(default_factory=dict)

    @classmethod
    def load(cls, now: datetime) -> City:
        from caseapp.services.casework import clocks as deadlines

        rows = db.session.scalars(
            sa.select(Category)
            .where(Category.retired_at.is_(None))
            .options(selectinload(Category.policy).selectinload(DeadlinePolicy.terms))
            .order_by(Category.id)
        ).all()
        categories = [
            _Category(
                c.id,
                c.service_code,
                c.name_zh,
                c.default_department_id,
                c.public_by_default,
                c.anonymous_allowed,
                snapshot_terms(c.policy.terms),
            )
            for c in rows
        ]
        if not categories:
            raise LookupError("no category to file cases in")
        math = deadlines.deadline_math()
        department_ids = list(
            db.session.scalars(
                sa.select(Department.id)
                .where(Department.retired_at.is_(None))
                .order_by(Department.id)
            )
        )
        handlers: dict[int, list[int]] = defaultdict(list)
        for user_id, department_id in db.session.execute(
            sa.select(User.id, User.department_id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserRole.role == Role.HANDLER,
                User.active.is_(True),
                User.department_id.is_not(None),
            )
            .order_by(User.id)
        ):
            handlers[department_id].append(user_id)

        def first_with(role: Role) -> int | None:
            return db.session.scalar(
                sa.select(User.id)
                .join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role == role, User.active.is_(True))
                .order_by(User.id)
                .limit(1)
            )

        return cls(
            now=now,
            math=math,
            categories=categories,
            by_code={c.code: c for c in categories},
            department_ids=department_ids,
            handlers=dict(handlers),
            intake_id=first_with(Role.INTAKE),
            leader_id=first_with(Role.LEADER),
        )

    def period(self, category: _Category, term: PolicyTerm, kind: CaseKind, urgent: bool) -> Period:
        key = (category.id, term, kind, urgent)
        found = self._periods.get(key)
        if found is None:
            priority = Priority.URGENT if urgent else Priority.NORMAL
            found = self._periods[key] = period_for(category.terms, term, kind, priority)
        return found

    def due(self, start: datetime, period: Period) -> datetime:
        """``DeadlineMath.due_at``; a day clock's due time depends only on the start's
        local day, so those are cached."""
        if period.unit is TimeUnit.HOURS:
            return self.math.due_at(start, period)
        key = (self.math.local_date(start), period)
        found = self._due.get(key)
        if found is None:
            found = self._due[key] = self.math.due_at(start, period)
        return found

    def pick_category(self, rng: random.Random, kind: CaseKind) -> _Category:
        own = {
            code: weight
            for code, weight in KIND_CATEGORIES.get(kind, {}).items()
            if code in self.by_code
        }
        if own:
            return self.by_code[_weighted(rng, own)]
        everyday = {
            c.code: EVERYDAY_WEIGHTS.get(c.code, 1)
            for c in self.categories
            if c.code not in NOT_EVERYDAY
        } or {c.code: 1 for c in self.categories}
        return self.by_code[_weighted(rng, everyday)]


# --- one synthetic case --------------------------------------------------------------------


@dataclass
class _Times:
    received: datetime
    accepted: datetime | None = None
    asked: datetime | None = None  # the question to the citizen (awaiting_citizen)
    resolved: datetime | None = None
    closed: datetime | None = None
    ended: datetime | None = None  # rejected or withdrawn
    rated: bool = False


@dataclass
class _Draft:
    """A case's row and the rows hanging off it, before the case has a number or id."""

    case: dict[str, Any]
    clocks: list[dict[str, Any]]
    events: list[dict[str, Any]]
    participants: list[int]
    key_bits: int


def _ago(rng: random.Random, now: datetime, low_days: float, high_days: float) -> datetime:
    return now - timedelta(days=rng.uniform(low_days, high_days))


def _timeline(rng: random.Random, status: CaseStatus, city: City) -> _Times:
    """Plausible moments for a case now in ``status``, in order, none after now."""
    now = city.now
    if status is S.NEW:
        # Most arrived today; a quarter waits longer than the accept deadline.
        received = _ago(rng, now, 0.01, 1) if rng.random() < 0.75 else _ago(rng, now, 1, 7)
        return _Times(received)
    if status in (S.DISPATCHED, S.RETURNED, S.IN_PROGRESS, S.AWAITING_CITIZEN):
        if status is S.IN_PROGRESS:
            roll = rng.random()
            received = (
                _ago(rng, now, 1, 20)
                if roll < 0.8
                else _ago(rng, now, 20, 90)
                if roll < 0.95
                else _ago(rng, now, 90, 730)
            )
        elif status is S.AWAITING_CITIZEN:
            received = _ago(rng, now, 3, 40)
        else:
            received = _ago(rng, now, 0.1, 10)
        accepted = received + min(rng.uniform(0.2, 30) * HOUR, (now - received) * 0.4)
        times = _Times(received, accepted)
        if status is S.AWAITING_CITIZEN:
            times.asked = accepted + (now - accepted) * rng.uniform(0.2, 0.95)
        return times
    if status is S.RESOLVED:
        resolved = _ago(rng, now, 0.05, 9)
        accepted = resolved - timedelta(days=rng.uniform(0.3, 15))
        return _Times(accepted - rng.uniform(0.2, 30) * HOUR, accepted, resolved=resolved)
    if status is S.CLOSED:
        to_accept = rng.uniform(0.2, 30) * HOUR
        to_resolve = timedelta(days=rng.uniform(0.2, 20 if rng.random() < 0.9 else 60))
        rated = rng.random() < 0.85
        # Unrated cases close when the 7-day feedback window passes (at most 8 days on).
        to_close = timedelta(days=rng.uniform(0.05, 6.5)) if rated else timedelta(days=8)
        span = to_accept + to_resolve + to_close
        received = now - span - timedelta(days=rng.uniform(0, HISTORY_DAYS))
        accepted = received + to_accept
        resolved = accepted + to_resolve
        if rated:
            closed = resolved + to_close
        else:
            closed = city.due(resolved, Period(TimeUnit.CALENDAR_DAYS, 7))
        return _Times(received, accepted, resolved=resolved, closed=closed, rated=rated)
    received = _ago(rng, now, 0.2, HISTORY_DAYS)
    if status is S.REJECTED:
        return _Times(received, ended=received + (now - received) * rng.uniform(0.001, 0.01))
    # Withdrawn: half of them after acceptance.
    accepted = received + (now - received) * 0.005 if rng.random() < 0.5 else None
    return _Times(received, accepted, ended=received + (now - received) * rng.uniform(0.01, 0.03))


def _clock(
    clock: Clock,
    start: datetime,
    due: datetime,
    period: Period,
    department_id: int | None,
    *,
    stopped: datetime | None = None,
    paused: datetime | None = None,
    level: int = 0,
    next_escalation: datetime | None = None,
) -> dict[str, Any]:
    late = stopped is not None and stopped > due
    return {
        "clock": clock,
        "started_at": start,
        "due_at": due,
        "unit": period.unit.value,
        "length": period.value,
        "extended_by": 0,
        "department_id": department_id,
        "paused_at": paused,
        "stopped_at": stopped,
        "overdue_at": due if late else None,
        "overdue_department_id": department_id if late else None,
        "escalation_level": level,
        "next_escalation_at": next_escalation,
    }


def _event(
    action: EventAction,
    at: datetime,
    case: dict[str, Any],
    *,
    actor_kind: str,
    actor_id: int | None = None,
    from_status: CaseStatus | None = None,
    to_status: CaseStatus | None = None,
    public_text: str = "",
    data: dict[str, Any] | None = None,
    department_id: int | None = None,
    handler_id: int | None = None,
    deadline_at: datetime | None = None,
    case_version: int = 1,
) -> dict[str, Any]:
    """An event row with the snapshot ``record_event`` takes."""
    return {
        "at": at,
        "action": action,
        "actor_id": actor_id,
        "actor_kind": actor_kind,
        "from_status": from_status,
        "to_status": to_status,
        "public": bool(public_text),
        "public_text": public_text,
        "internal_text": "",
        "data": data or {},
        "department_id": department_id,
        "handler_id": handler_id,
        "category_id": case["category_id"],
        "deadline_at": deadline_at,
        "case_version": case_version,
    }


# The version a case reaches in each status (one per change: dispatch, sign, answer, …).
FINAL_VERSION: dict[CaseStatus, int] = {
    S.NEW: 1,
    S.DISPATCHED: 2,
    S.REJECTED: 2,
    S.WITHDRAWN: 2,
    S.RETURNED: 3,
    S.IN_PROGRESS: 3,
    S.AWAITING_CITIZEN: 4,
    S.RESOLVED: 4,
    S.CLOSED: 5,
}


def _texts(rng: random.Random, category: _Category) -> tuple[str, str, str]:
    templates = TEMPLATES.get(category.code, (GENERIC_TEMPLATE,))
    title, description = rng.choice(templates)
    road, spot, num = rng.choice(ROADS), rng.choice(SPOTS), rng.randint(2, 12)
    values = {"road": road, "spot": spot, "num": num, "name": category.name_zh}
    return title.format(**values), description.format(**values), road


def _citizen(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
    phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    return name, phone


@dataclass(frozen=True)
class _Filing:
    """What the citizen, or a clerk for them, files: the input ``NewCase`` carries."""

    kind: CaseKind
    category: _Category
    urgent: bool
    channel: Channel
    title: str
    description: str
    road: str
    anonymous: bool
    name: str
    phone: str
    has_place: bool

    @property
    def staff_filed(self) -> bool:
        return self.channel in STAFF_CHANNELS

    @property
    def priority(self) -> Priority:
        return Priority.URGENT if self.urgent else Priority.NORMAL


@dataclass(frozen=True)
class _People:
    """Who files, accepts, handles and oversees the case."""

    intake: int | None
    lead: int | None
    handler: int | None
    leader: int | None
    first_responsible: int | None


@dataclass(frozen=True)
class _Outcome:
    """The answer, the petition decision and the citizen's rating, where there are."""

    answer: str
    decision: PetitionDecision | None
    satisfaction: Satisfaction | None
    solved: bool | None


@dataclass(frozen=True)
class _Story:
    """Everything drawn for one case, from which its rows are written."""

    city: City
    status: CaseStatus
    filing: _Filing
    times: _Times
    created: datetime
    people: _People
    outcome: _Outcome

    @property
    def accepted(self) -> bool:
        return self.times.accepted is not None

    def period(self, term: PolicyTerm) -> Period:
        filing = self.filing
        return self.city.period(filing.category, term, filing.kind, filing.urgent)

    @property
    def accept_due(self) -> datetime:
        return self.city.due(self.times.received, self.period(PolicyTerm.ACCEPT))

    @property
    def resolve_due(self) -> datetime | None:
        accepted = self.times.accepted
        if accepted is None:
            return None
        return self.city.due(accepted, self.period(PolicyTerm.RESOLVE))


def _filing(rng: random.Random, city: City) -> _Filing:
    """The kind, category, channel, texts and citizen of a filing."""
    kind = _weighted(rng, KIND_SHARES)
    category = city.pick_category(rng, kind)
    urgent = kind is not K.PETITION and rng.random() < 0.05
    channel = (
        rng.choice(PETITION_CHANNELS) if kind is K.PETITION else _weighted(rng, CHANNEL_SHARES)
    )
    title, description, road = _texts(rng, category)
    anonymous = category.anonymous_allowed and rng.random() < 0.3
    name, phone = _citizen(rng)
    if anonymous:
        name = phone = ""
    has_place = rng.random() < 0.7
    return _Filing(
        kind, category, urgent, channel, title, description, road, anonymous, name, phone, has_place
    )


def _created_at(rng: random.Random, t: _Times, staff_filed: bool) -> datetime:
    """A clerk types a letter or call in up to two hours after it came; never after
    the acceptance."""
    created = t.received + (rng.uniform(0, 2) * HOUR if staff_filed else timedelta(0))
    if t.accepted is not None:
        created = min(created, t.accepted)
    return created


def _people(
    rng: random.Random, city: City, status: CaseStatus, filing: _Filing, t: _Times
) -> _People:
    """Who files, leads, handles and oversees the case, as far as it has got."""
    category, staff_filed = filing.category, filing.staff_filed
    accepted = t.accepted is not None
    lead = (category.department_id or rng.choice(city.department_ids)) if accepted else None
    handled = status in (S.IN_PROGRESS, S.AWAITING_CITIZEN, S.RESOLVED, S.CLOSED) or (
        status is S.DISPATCHED and rng.random() < 0.3
    )
    handler: int | None = None
    if lead is not None and handled and city.handlers.get(lead):
        handler = rng.choice(city.handlers[lead])
    leader = (
        city.leader_id
        if accepted and status in (S.IN_PROGRESS, S.AWAITING_CITIZEN) and rng.random() < 0.02
        else None
    )
    intake = city.intake_id
    # The clerk who files for a citizen is first responsible (as in ``file_case``);
    # otherwise intake becomes so on accepting or rejecting.
    first_responsible = intake if staff_filed or accepted or status is S.REJECTED else None
    return _People(intake, lead, handler, leader, first_responsible)


def _outcome(rng: random.Random, status: CaseStatus, kind: CaseKind, t: _Times) -> _Outcome:
    satisfaction = solved = None
    if status is S.CLOSED and t.rated:
        satisfaction = (
            Satisfaction.SATISFIED if rng.random() < 0.8 else Satisfaction.BASICALLY_SATISFIED
        )
        solved = rng.random() < 0.92
    answer = rng.choice(ANSWERS) if t.resolved is not None else ""
    decision = (
        rng.choice(list(PetitionDecision))
        if kind is K.PETITION and t.resolved is not None
        else None
    )
    return _Outcome(answer, decision, satisfaction, solved)


def _filed_columns(rng: random.Random, story: _Story) -> dict[str, Any]:
    """The columns ``file_case`` sets from what is filed (the place, language and
    consent to publish are drawn here, in this order)."""
    filing, category = story.filing, story.filing.category
    confidential = filing.kind in CONFIDENTIAL_KINDS
    place = filing.has_place
    latitude = round(35.02 + rng.uniform(-0.05, 0.05), 6) if place else None
    longitude = round(111.0 + rng.uniform(-0.06, 0.06), 6) if place else None
    return {
        "kind": filing.kind,
        "category_id": category.id,
        "priority": filing.priority,
        "channel": filing.channel,
        "language": "en" if rng.random() < 0.03 else "zh_CN",
        "title": filing.title,
        "description": filing.description,
        "address": f"{filing.road}{rng.randint(1, 300)}号" if place else "",
        "public_location": filing.road if place else "",
        "district_department_id": None,
        "latitude": latitude,
        "longitude": longitude,
        "answers": {},
        "anonymous": filing.anonymous,
        "citizen_name": filing.name,
        "citizen_phone": filing.phone,
        "citizen_email": "",
        "citizen_postal_address": "",
        "notify_by": NotifyBy.SMS if filing.phone else NotifyBy.NONE,
        "consent_privacy_at": None if filing.staff_filed else story.created,
        "consent_public": category.public_by_default and not confidential and rng.random() < 0.7,
        "identity_confidential": confidential,
        "created_by_id": story.people.intake if filing.staff_filed else None,
        "received_at": story.times.received,
        "created_at": story.created,
        "policy_terms": category.terms,
        "duplicate_of_id": None,
        "review_of_id": None,
        "review_level": 0,
        "repeat_of_final": False,
    }


def _lifecycle_columns(story: _Story) -> dict[str, Any]:
    """The status and the dates the case's changes have set by now."""
    status, t = story.status, story.times
    close_reason = None
    if status is S.CLOSED:
        close_reason = CloseReason.RATED if t.rated else CloseReason.NO_RATING
    return {
        "version": FINAL_VERSION[status] + (status is S.WITHDRAWN and story.accepted),
        "status": status,
        "close_reason": close_reason,
        "updated_at": t.closed or t.resolved or t.ended or t.asked or t.accepted or story.created,
        "accepted_at": t.accepted,
        "resolved_at": t.resolved,
        "closed_at": t.closed,
        "next_deadline_at": None,  # set with the running clock
        "escalation_level": 0,
        "paused_at": t.asked,
        "status_before_pause": S.IN_PROGRESS if t.asked is not None else None,
        "reopen_count": 0,
        "is_legacy": status is S.IN_PROGRESS and story.city.now - t.received > 90 * DAY,
    }


def _handling_columns(story: _Story) -> dict[str, Any]:
    """Who is responsible, and what they answered and the citizen rated."""
    people, outcome = story.people, story.outcome
    # A returned case is back with intake: no department, no handler.
    returned = story.status is S.RETURNED
    return {
        "first_responsible_id": people.first_responsible,
        "lead_department_id": None if returned else people.lead,
        "handler_id": None if returned else people.handler,
        "responsible_leader_id": people.leader,
        "case_plan": "",
        "decision": outcome.decision,
        "public_answer": outcome.answer,
        "rating_solved": outcome.solved,
        "rating_satisfaction": outcome.satisfaction,
        "rating_excluded": False,
    }


def _clock_rows(story: _Story, case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's clocks; the running one (if any) sets its next deadline and level."""
    city, status, t, lead = story.city, story.status, story.times, story.people.lead
    clocks: list[dict[str, Any]] = []

    def running(clock: Clock, start: datetime, term: PolicyTerm) -> None:
        p = story.period(term)
        due = city.due(start, p)
        level = city.math.escalation_level(start, due, city.now)
        escalates = clock in ESCALATING_CLOCKS
        next_at = city.math.next_escalation_at(start, due, level) if escalates else None
        department = None if clock is Clock.ACCEPT else lead
        clocks.append(
            _clock(clock, start, due, p, department, level=level, next_escalation=next_at)
        )
        case["next_deadline_at"] = due
        case["escalation_level"] = level

    resolve_due = story.resolve_due
    resolve_period = story.period(PolicyTerm.RESOLVE)
    if status is S.NEW:
        running(Clock.ACCEPT, t.received, PolicyTerm.ACCEPT)
    elif status in (S.DISPATCHED, S.RETURNED, S.IN_PROGRESS):
        assert t.accepted is not None
        running(Clock.RESOLVE, t.accepted, PolicyTerm.RESOLVE)
    elif status is S.AWAITING_CITIZEN:
        assert t.accepted is not None and resolve_due is not None and t.asked is not None
        # The resolve clock is paused while the citizen is asked; the reply window runs.
        clocks.append(
            _clock(Clock.RESOLVE, t.accepted, resolve_due, resolve_period, lead, paused=t.asked)
        )
        running(Clock.REPLY_WINDOW, t.asked, PolicyTerm.REPLY_WINDOW)
    elif t.resolved is not None:
        assert t.accepted is not None and resolve_due is not None
        clocks.append(
            _clock(Clock.RESOLVE, t.accepted, resolve_due, resolve_period, lead, stopped=t.resolved)
        )
        if status is S.RESOLVED:
            running(Clock.FEEDBACK, t.resolved, PolicyTerm.FEEDBACK)
    return clocks


def _submit_event(story: _Story, case: dict[str, Any]) -> dict[str, Any]:
    staff_filed = story.filing.staff_filed
    return _event(
        EventAction.SUBMIT,
        story.created,
        case,
        actor_kind="staff" if staff_filed else "citizen",
        actor_id=story.people.intake if staff_filed else None,
        to_status=S.NEW,
        data={"channel": str(story.filing.channel), "repeat_of_final": False},
        deadline_at=story.accept_due,
    )


def _resolve_event(story: _Story, case: dict[str, Any], resolved: datetime) -> dict[str, Any]:
    people, decision = story.people, story.outcome.decision
    return _event(
        EventAction.RESOLVE,
        resolved,
        case,
        actor_kind="staff",
        actor_id=people.handler,
        from_status=S.IN_PROGRESS,
        to_status=S.RESOLVED,
        public_text=story.outcome.answer,
        data={"decision": str(decision)} if decision else {},
        department_id=people.lead,
        handler_id=people.handler,
        deadline_at=story.resolve_due,
        case_version=3,
    )


def _rate_event(
    story: _Story, case: dict[str, Any], resolved: datetime, closed: datetime
) -> dict[str, Any]:
    outcome = story.outcome
    return _event(
        EventAction.RATE,
        closed,
        case,
        actor_kind="citizen",
        from_status=S.RESOLVED,
        to_status=S.CLOSED,
        data={
            "solved": outcome.solved,
            "satisfaction": str(outcome.satisfaction),
            "redo": False,
        },
        department_id=story.people.lead,
        handler_id=story.people.handler,
        deadline_at=story.city.due(resolved, story.period(PolicyTerm.FEEDBACK)),
        case_version=4,
    )


def _end_event(story: _Story, case: dict[str, Any], ended: datetime) -> dict[str, Any]:
    """The rejection by intake, or the citizen's withdrawal."""
    rejected = story.status is S.REJECTED
    accepted = story.accepted
    return _event(
        EventAction.REJECT if rejected else EventAction.WITHDRAW,
        ended,
        case,
        actor_kind="staff" if rejected else "citizen",
        actor_id=story.people.intake if rejected else None,
        from_status=S.DISPATCHED if accepted else S.NEW,
        to_status=story.status,
        public_text=REJECT_REASON if rejected else WITHDRAW_REASON,
        # A rejected petition names the channel it belongs to.
        data={"belongs_to": "court"} if rejected and story.filing.kind is K.PETITION else None,
        department_id=story.people.lead,
        deadline_at=story.resolve_due if accepted else story.accept_due,
        case_version=case["version"] - 1,
    )


def _event_rows(story: _Story, case: dict[str, Any]) -> list[dict[str, Any]]:
    """The events the scorecards count: filing, answer, rating, rejection or withdrawal."""
    t = story.times
    events = [_submit_event(story, case)]
    if t.resolved is not None:
        events.append(_resolve_event(story, case, t.resolved))
    if story.status is S.CLOSED and t.rated:
        assert t.closed is not None and t.resolved is not None
        events.append(_rate_event(story, case, t.resolved, t.closed))
    if t.ended is not None:
        events.append(_end_event(story, case, t.ended))
    return events


def draft_case(rng: random.Random, city: City, status: CaseStatus) -> _Draft:
    """One case now in ``status``, with its clocks, events and participants."""
    filing = _filing(rng, city)
    t = _timeline(rng, status, city)
    created = _created_at(rng, t, filing.staff_filed)
    people = _people(rng, city, status, filing, t)
    outcome = _outcome(rng, status, filing.kind, t)
    story = _Story(city, status, filing, t, created, people, outcome)
    case = {**_filed_columns(rng, story), **_lifecycle_columns(story), **_handling_columns(story)}
    clocks = _clock_rows(story, case)
    events = _event_rows(story, case)
    participants = [u for u in (people.first_responsible, case["handler_id"]) if u is not None]
    return _Draft(case, clocks, events, list(dict.fromkeys(participants)), rng.getrandbits(64))


def _draft(rng: random.Random, city: City) -> _Draft:
    """One case in a status drawn from STATUS_SHARES."""
    return draft_case(rng, city, _weighted(rng, STATUS_SHARES))


# --- writing a batch -----------------------------------------------------------------------


def _write_batch(drafts: Sequence[_Draft], city: City) -> None:
    """Number the drafts, insert the cases, read their ids back, insert the rest."""
    zone = city.math.tz
    by_year: dict[int, list[_Draft]] = defaultdict(list)
    for draft in sorted(drafts, key=lambda d: d.case["received_at"]):
        by_year[draft.case["received_at"].astimezone(zone).year].append(draft)
    ranges: dict[int, tuple[int, int]] = {}
    for year, group in sorted(by_year.items()):
        first = reserve_case_numbers(year, len(group))
        ranges[year] = (first, first + len(group) - 1)
        for seq, draft in enumerate(group, start=first):
            number = format_case_number(year, seq)
            draft.case.update(
                number=number,
                number_year=year,
                number_seq=seq,
                access_key_hash=hashlib.sha256(f"{number}:{draft.key_bits}".encode()).hexdigest(),
            )
    ordered = [draft for _year, group in sorted(by_year.items()) for draft in group]
    db.session.execute(sa.insert(Case.__table__), [d.case for d in ordered])
    ids: dict[str, int] = {}
    for year, (low, high) in ranges.items():
        found = db.session.execute(
            sa.select(Case.number, Case.id).where(
                Case.number_year == year, Case.number_seq.between(low, high)
            )
        )
        ids.update((number, case_id) for number, case_id in found)
    clocks: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    participants: list[dict[str, Any]] = []
    for draft in ordered:
        case_id = ids[draft.case["number"]]
        clocks.extend({**row, "case_id": case_id} for row in draft.clocks)
        events.extend({**row, "case_id": case_id} for row in draft.events)
        participants.extend(
            {"case_id": case_id, "user_id": user_id, "since": draft.case["created_at"]}
            for user_id in draft.participants
        )
    if clocks:
        db.session.execute(sa.insert(CaseClock.__table__), clocks)
    db.session.execute(sa.insert(CaseEvent.__table__), events)
    if participants:
        db.session.execute(sa.insert(CaseParticipant.__table__), participants)


def seed_cases(
    n: int,
    progress: Callable[[str], None],
    *,
    batch: int = 5000,
    seed: int = 1,
    now: datetime | None = None,
) -> int:
    """Add ``n`` synthetic cases in bulk, ``batch`` per transaction; return how many.

    The cases follow STATUS_SHARES and KIND_SHARES and are drawn from ``seed`` alone
    (the same seed on the same base gives the same cases). The demo base is loaded
    first when there is no category. Numbers are reserved from each year's sequence,
    so filings made later continue after them. ``progress`` hears after each batch.
    """
    if n < 1:
        raise ValueError("seed at least one case")
    if batch < 1:
        raise ValueError("a batch holds at least one case")
    if db.session.scalar(sa.select(Category.id).limit(1)) is None:
        from caseapp.demo.base import load_base

        load_base(progress)
    city = City.load(now or utcnow())
    db.session.commit()
    rng = random.Random(seed)
    done = 0
    while done < n:
        size = min(batch, n - done)
        drafts = [_draft(rng, city) for _ in range(size)]
        try:
            _write_batch(drafts, city)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        done += size
        progress(f"{done:,} / {n:,} cases")
    # After a bulk load the planner has no statistics until someone gathers them.
    refresh_planner_statistics()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum soon does after a bulk load: the planner's statistics, and
        # the visibility map that index-only scans need.
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE cases, case_events, case_clocks, case_participants"
            )
    return done
