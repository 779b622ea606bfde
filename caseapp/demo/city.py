"""The demo city's cases and ledgers, laid relative to the day they are loaded.

Every case is made by the service functions, acting at past moments, so the timelines,
clocks and ledger write-offs are the ones the app itself produces. Names of people and
housing projects are fictional; roads and public places are the city report's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from caseapp.demo.base import DEMO_PASSWORD
from caseapp.extensions import db
from caseapp.models import (
    Case,
    Department,
    Ledger,
    LedgerCategory,
    LedgerItem,
    LedgerItemEvent,
    LedgerMilestone,
    User,
)
from caseapp.models.enums import (
    CaseKind,
    Channel,
    LedgerItemStatus,
    LedgerKind,
    NotifyBy,
    PetitionDecision,
    Priority,
    Role,
    Satisfaction,
)
from caseapp.models.types import utcnow
from caseapp.services.access import accounts
from caseapp.services.casework import closing, intake, supervision
from caseapp.services.casework import handling as casework
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.filing.cases import NewCase, submit_case
from caseapp.services.ledgers.items import LegacyEntry

CAMPAIGN_LEDGER_CODE = "campaign-2021"
LEGACY_LEDGER_CODE = "legacy"

# The campaign's six ledgers (DESIGN, from the city report): code, 中文, English, items.
CAMPAIGN_CATEGORIES: list[tuple[str, str, str, int]] = [
    ("livelihood", "解民忧暖民心", "Easing hardship", 473),
    ("old-areas", "关爱老区关心英烈后代", "Old revolutionary areas and martyrs' families", 41),
    ("volunteers", "党员志愿活动", "Party-member volunteering", 239),
    ("policy", "政策惠民", "Policies for the people", 108),
    ("projects", "项目建设服务", "Services for building projects", 209),
    ("legacy", "历史遗留问题及信访积案化解", "Legacy issues and long-standing petitions", 36),
]

CAMPAIGN_TEMPLATES: dict[str, list[str]] = {
    "livelihood": [
        "{place}人行道破损修复",
        "{place}路灯更换",
        "{place}老旧小区供水管网改造",
        "{place}公厕改造提升",
        "{place}农贸市场周边环境整治",
        "{place}背街小巷硬化",
    ],
    "old-areas": [
        "走访慰问{place}老党员、老战士",
        "{place}英烈后代就业帮扶",
        "{place}红色遗址修缮",
    ],
    "volunteers": ["{place}社区志愿服务日", "{place}文明交通劝导", "{place}敬老院结对帮扶"],
    "policy": ["{place}惠民政策宣讲", "{place}养老保险政策解读", "{place}公积金提取便民服务"],
    "projects": ["{place}重点项目审批帮办", "{place}企业用水用电报装服务", "{place}项目用地协调"],
    "legacy": ["{place}历史遗留产权办证", "{place}信访积案化解", "{place}征地补偿遗留问题"],
}
PLACES = ["圣惠路", "工农街", "机场大道", "河东西街", "红旗西街", "中银路", "涑水街", "条山街", "人民路",
          "人民公园", "体育公园", "禹都公园"]  # fmt: skip
CAMPAIGN_OWNERS = [
    "zjj",
    "cgj",
    "swj",
    "tyj",
    "tyjrj",
    "xzsp",
    "gdgs",
    "jtj",
    "rsj",
    "yhq",
    "gaj",
    "gjj",
]

# Fictional citizens.
CITIZENS = [
    ("张秀英", "13900000001"), ("李建华", "13900000002"), ("王桂兰", "13900000003"),
    ("刘志明", "13900000004"), ("陈玉梅", "13900000005"), ("杨国强", "13900000006"),
    ("赵淑芬", "13900000007"), ("黄德胜", "13900000008"), ("周丽娟", "13900000009"),
    ("吴永平", "13900000010"), ("徐春花", "13900000011"), ("孙宝山", "13900000012"),
    ("马晓燕", "13900000013"), ("朱建军", "13900000014"), ("胡美玲", "13900000015"),
    ("郭长青", "13900000016"),
]  # fmt: skip


@dataclass(frozen=True)
class LegacyMatter:
    title: str
    description: str
    category: str  # service code
    department: str
    place: str


# The legacy-issue ledger (理旧账): 32 matters; the first 19 are settled, 13 in progress.
LEGACY_MATTERS: list[LegacyMatter] = [
    LegacyMatter("河东西街拆迁商铺补偿款未结清", "2008年河东西街改造拆迁，商铺补偿款尚余部分未结清。", "land-compensation", "zrzyj", "河东西街"),
    LegacyMatter("条山街老住宅楼房产证办理", "条山街原单位集资楼建成二十年，住户至今未办理房产证。", "property-registration", "zrzyj", "条山街"),
    LegacyMatter("涑水街改造后排水不畅", "涑水街改造后雨季积水，排水管网标高不合理。", "road-damage", "zjj", "涑水街"),
    LegacyMatter("中银路安置小区不动产登记", "中银路安置小区交付多年，不动产登记未办理。", "property-registration", "zrzyj", "中银路"),
    LegacyMatter("机场大道征地青苗补偿未到位", "机场大道建设征地时青苗补偿未发放到户。", "land-compensation", "zrzyj", "机场大道"),
    LegacyMatter("退役军人养老保险缴费年限认定", "部分退役军人军龄未计入养老保险缴费年限。", "veterans", "tyjrj", "人民路"),
    LegacyMatter("人民公园周边违建拆除遗留", "人民公园东侧违建拆除后场地长期未恢复。", "illegal-building", "cgj", "人民公园"),
    LegacyMatter("红旗西街老旧小区供水改造", "红旗西街老旧小区供水管道老化，长期水压不足。", "water", "swj", "红旗西街"),
    LegacyMatter("体育公园周边道路断头路", "体育公园南侧道路多年未打通，群众出行绕远。", "road-damage", "zjj", "体育公园"),
    LegacyMatter("禹都公园周边供电线路改造", "禹都公园周边居民区供电线路老化，夏季频繁停电。", "power", "gdgs", "禹都公园"),
    LegacyMatter("盐湖区某棚改项目过渡费拖欠", "棚户区改造项目居民过渡安置费拖欠两年。", "resettlement", "zjj", "中银路"),
    LegacyMatter("人民路企业职工社保欠缴", "改制企业职工社会保险欠缴，影响退休待遇。", "social-insurance", "rsj", "人民路"),
    LegacyMatter("工农街沿街住户燃气未通", "工农街沿街老住户至今未通天然气。", "gas", "zjj", "工农街"),
    LegacyMatter("涑水街公积金贷款遗留", "已破产企业职工公积金账户封存，无法提取。", "provident-fund", "gjj", "涑水街"),
    LegacyMatter("机场大道两侧路灯缺失", "机场大道东段改造后路灯未安装。", "street-light", "cgj", "机场大道"),
    LegacyMatter("河东西街背街小巷硬化", "河东西街背街小巷多年为土路，雨天泥泞。", "road-damage", "zjj", "河东西街"),
    LegacyMatter("条山街集资建房产权纠纷", "条山街集资建房产权份额多年未明确。", "property-registration", "zrzyj", "条山街"),
    LegacyMatter("中银路学校周边人行天桥", "中银路学校门口车流量大，群众多年反映需建人行天桥。", "pedestrian-bridge", "zjj", "中银路"),
    LegacyMatter("红旗西街市场占道经营整治", "红旗西街市场长期占道经营，交通拥堵。", "sanitation", "cgj", "红旗西街"),
    # --- in progress (the first is a headline case) ---
    LegacyMatter(
        "工农街1999年道路拓宽占地343.4平方米至今未补偿",
        "1999年工农街道路拓宽，占用我家宅基地343.4平方米，当时承诺补偿，至今未兑现。二十多年来多次反映，希望政府依法给予补偿。",
        "land-compensation", "zrzyj", "工农街",
    ),
    LegacyMatter("某安置小区烂尾，居民无法回迁", "安置小区2016年停工至今，300余户居民无法回迁，租房过渡多年。", "resettlement", "zjj", "机场大道"),
    LegacyMatter("圣惠路沿线村庄排水沟淤堵", "圣惠路改造后沿线村庄排水沟淤堵，雨天倒灌。", "road-damage", "zjj", "圣惠路"),
    LegacyMatter("人民路老旧小区加装电梯", "人民路老旧小区老年住户多，加装电梯多年未落实。", "resettlement", "zjj", "人民路"),
    LegacyMatter("河东西街供暖管网未接入", "河东西街部分小区至今未接入集中供暖。", "gas", "zjj", "河东西街"),
    LegacyMatter("退役军人优抚金补发", "部分退役军人优抚金标准调整后未补发。", "veterans", "tyjrj", "涑水街"),
    LegacyMatter("条山街农贸市场改造", "条山街农贸市场设施陈旧，改造方案多年未实施。", "sanitation", "cgj", "条山街"),
    LegacyMatter("中银路小区水表改造遗留", "中银路小区一户一表改造未完成，水费分摊纠纷多。", "water", "swj", "中银路"),
    LegacyMatter("机场大道征地社保安置", "被征地农民社会保障安置未落实。", "social-insurance", "rsj", "机场大道"),
    LegacyMatter("体育公园配套停车场", "体育公园配套停车场规划多年未建设。", "parks", "tyj", "体育公园"),
    LegacyMatter("禹都公园周边违建", "禹都公园西侧违法建设多年未处置。", "illegal-building", "cgj", "禹都公园"),
    LegacyMatter("红旗西街企业改制职工安置", "企业改制时职工安置问题遗留。", "social-insurance", "rsj", "红旗西街"),
    LegacyMatter("工农街临街房屋确权", "工农街临街房屋历史原因未确权。", "property-registration", "zrzyj", "工农街"),
]  # fmt: skip
LEGACY_SETTLED = 19


class Story:
    """Acts at moments counted back from the load time, always moving forward."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.citizens = itertools.cycle(CITIZENS)

    def at(self, days_ago: float, hours: float = 0) -> datetime:
        moment = self.now - timedelta(days=days_ago) + timedelta(hours=hours)
        return min(moment, self.now)

    def staff(self, username: str) -> Actor:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None, username
        return Actor.staff(user)

    def department(self, code: str) -> int:
        department_id = db.session.scalar(sa.select(Department.id).where(Department.code == code))
        assert department_id is not None, code
        return department_id

    def file(
        self,
        days_ago: float,
        title: str,
        description: str,
        category: str,
        *,
        kind: CaseKind = CaseKind.HELP,
        place: str = "",
        priority: Priority = Priority.NORMAL,
        channel: Channel = Channel.WEB,
        consent_public: bool = True,
    ) -> Case:
        name, phone = next(self.citizens)
        actor = Actor.citizen() if channel is Channel.WEB else self.staff("intake")
        case, _key = submit_case(
            NewCase(
                kind=kind,
                category_code=category,
                title=title,
                description=description,
                channel=channel,
                priority=priority,
                address=f"运城市盐湖区{place}" if place else "",
                public_location=place,
                citizen_name=name,
                citizen_phone=phone,
                notify_by=NotifyBy.SMS if channel is Channel.WEB else NotifyBy.NONE,
                consent_privacy=True,
                consent_public=consent_public,
                received_at=self.at(days_ago) if channel is not Channel.WEB else None,
            ),
            actor,
            self.at(days_ago),
        )
        return case

    # The usual path through a department, each step at a moment of its own.
    def dispatch(self, case: Case, days_ago: float, department: str, **kwargs: object) -> None:
        intake.dispatch_case(
            case,
            self.staff("intake"),
            self.department(department),
            version=None,
            now=self.at(days_ago),
            **kwargs,  # type: ignore[arg-type]
        )

    def sign(self, case: Case, days_ago: float, handler: str) -> None:
        casework.sign_for_case(case, self.staff(handler), version=None, now=self.at(days_ago))

    def contact(self, case: Case, days_ago: float, handler: str) -> None:
        casework.record_contact(
            case,
            self.staff(handler),
            "call",
            "已电话联系群众，了解具体情况。",
            version=None,
            now=self.at(days_ago),
        )

    def resolve(
        self, case: Case, days_ago: float, handler: str, answer: str, **kwargs: object
    ) -> None:
        casework.resolve_case(
            case,
            self.staff(handler),
            answer,
            version=None,
            now=self.at(days_ago),
            **kwargs,  # type: ignore[arg-type]
        )

    def rate(
        self,
        case: Case,
        days_ago: float,
        satisfaction: Satisfaction = Satisfaction.SATISFIED,
        solved: bool | None = None,
    ) -> None:
        closing.rate_case(
            case,
            Actor.citizen(),
            satisfaction is not Satisfaction.UNSATISFIED if solved is None else solved,
            satisfaction,
            "感谢政府部门的帮助。"
            if satisfaction is not Satisfaction.UNSATISFIED
            else "问题没有解决。",
            version=None,
            now=self.at(days_ago),
        )

    def work(self, case: Case, days_ago: float, department: str, handler: str) -> None:
        """Dispatch, sign for and contact, starting ``days_ago``."""
        self.dispatch(case, days_ago - 0.05, department)
        self.sign(case, days_ago - 0.3, handler)
        self.contact(case, days_ago - 0.35, handler)


# Handlers exist only for the two demo departments; others are signed for by a
# handler created for the demo city (one per department that needs one).
DEPARTMENT_HANDLERS = {"zjj": "handler", "cgj": "handler2"}


def _handler_for(story: Story, department: str) -> str:
    username = DEPARTMENT_HANDLERS.get(department, f"handler-{department}")
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is None:
        dept = db.session.scalar(sa.select(Department).where(Department.code == department))
        assert dept is not None
        accounts.create_user(
            username, DEMO_PASSWORD, f"承办人（{dept.name_zh}）", [Role.HANDLER], department
        )
    return username


def load_city(
    progress: Callable[[str], None] = lambda message: None, now: datetime | None = None
) -> bool:
    """Load the demo cases and ledgers once; False when they are there already."""
    if db.session.scalar(sa.select(Ledger.id).where(Ledger.code == CAMPAIGN_LEDGER_CODE)):
        return False
    story = Story(now or utcnow())
    _department_leads()
    progress(f"a lead in each of the {len(LEAD_DEPARTMENTS) + 1} departments the cases go to")
    _campaign_ledger(story)
    progress("campaign ledger: 1,106 items in 6 categories")
    legacy = _legacy_ledger()
    _legacy_cases(story, legacy)
    progress("legacy ledger: 32 items, 19 written off through their cases, 13 in progress")
    _everyday_cases(story)
    progress("everyday cases in every status")
    _answered_history(story)
    progress("12 weeks of answered and rated cases for the scorecards")
    return True


# The departments the demo's cases go to (xfj: reviews), besides zjj (its lead is in the base):
# each gets a lead, who decides its petitions' extensions (DESIGN §3).
LEAD_DEPARTMENTS = (
    "cgj", "zrzyj", "tyj", "swj", "rsj", "tyjrj", "jtj", "gjj", "gdgs", "yhq", "xzsp", "gaj", "xfj",
)  # fmt: skip


def _department_leads() -> None:
    for code in LEAD_DEPARTMENTS:
        department = db.session.scalar(sa.select(Department).where(Department.code == code))
        assert department is not None, code
        accounts.create_user(
            f"lead-{code}", DEMO_PASSWORD, f"{department.name_zh}负责人", (Role.LEAD,), code
        )


def _campaign_ledger(story: Story) -> None:
    ledger = Ledger(
        code=CAMPAIGN_LEDGER_CODE,
        name_zh="我为群众办实事 2021",
        name_en="Doing practical things for the people, 2021",
        kind=LedgerKind.CAMPAIGN,
        year=2021,
        description="55家单位建立6本台账，共1106项。",
        categories=[
            LedgerCategory(code=code, name_zh=zh, name_en=en, sort_order=i)
            for i, (code, zh, en, _n) in enumerate(CAMPAIGN_CATEGORIES)
        ],
    )
    db.session.add(ledger)
    db.session.flush()
    owners = {code: story.department(code) for code in CAMPAIGN_OWNERS}
    today = story.now.date()
    items: list[LedgerItem] = []
    serial = itertools.count(1)
    for category, (code, _zh, _en, count) in zip(
        ledger.categories, CAMPAIGN_CATEGORIES, strict=True
    ):
        templates = CAMPAIGN_TEMPLATES[code]
        for i in range(count):
            place = PLACES[i % len(PLACES)]
            owner = CAMPAIGN_OWNERS[(i + category.sort_order) % len(CAMPAIGN_OWNERS)]
            # Nine in ten are done; the rest are still in progress, a few past their date.
            done = i % 10 != 9
            target = date(2021, 12, 31) if done else today + timedelta(days=(i % 7) * 10 - 20)
            n = next(serial)
            items.append(
                LedgerItem(
                    ledger_id=ledger.id,
                    category_id=category.id,
                    code=f"SS2021-{n:04d}",
                    title=templates[i % len(templates)].format(place=place),
                    owner_department_id=owners[owner],
                    target_date=target,
                    status=LedgerItemStatus.WRITTEN_OFF if done else LedgerItemStatus.IN_PROGRESS,
                    written_off_at=story.at(300 - i % 200) if done else None,
                    written_off_note="按期完成，群众满意" if done else "",
                    created_at=story.at(400),
                    updated_at=story.at(300 - i % 200) if done else story.at(30),
                )
            )
    db.session.add_all(items)
    db.session.flush()
    db.session.add_all(
        LedgerItemEvent(
            item_id=item.id,
            at=item.created_at,
            action="imported",
            to_status=item.status,
            note="由2021年“我为群众办实事”台账导入",
        )
        for item in items
    )
    db.session.commit()


def _legacy_ledger() -> Ledger:
    ledger = Ledger(
        code=LEGACY_LEDGER_CODE,
        name_zh="理旧账（历史遗留问题及信访积案化解）",
        name_en="Settling old accounts (legacy issues and long-standing petitions)",
        kind=LedgerKind.LEGACY,
        description="“旧账”逐项建立台账，一案一策，化解一件、销号一件。",
        categories=[
            LedgerCategory(
                code="land", name_zh="征地拆迁", name_en="Land and demolition", sort_order=0
            ),
            LedgerCategory(
                code="housing", name_zh="住房安置", name_en="Housing and resettlement", sort_order=1
            ),
            LedgerCategory(
                code="social", name_zh="社会保障", name_en="Social security", sort_order=2
            ),
            LedgerCategory(
                code="public-works", name_zh="市政设施", name_en="Public works", sort_order=3
            ),
        ],
    )
    db.session.add(ledger)
    db.session.commit()
    return ledger


LEGACY_CATEGORY_OF = {
    "land-compensation": "land", "property-registration": "land", "resettlement": "housing",
    "provident-fund": "housing", "gas": "housing", "water": "public-works", "power": "public-works",
    "veterans": "social", "social-insurance": "social",
}  # fmt: skip


def _legacy_cases(story: Story, ledger: Ledger) -> None:
    categories = {c.code: c.id for c in ledger.categories}
    leader = db.session.scalar(sa.select(User).where(User.username == "leader"))
    for index, matter in enumerate(LEGACY_MATTERS):
        settled = index < LEGACY_SETTLED
        start = 150 - index * 3 if settled else 60 - (index - LEGACY_SETTLED) * 3
        case = story.file(
            start,
            matter.title,
            matter.description,
            matter.category,
            kind=CaseKind.PETITION if matter.category == "land-compensation" else CaseKind.HELP,
            place=matter.place,
            channel=Channel.VISIT if index % 3 == 0 else Channel.WEB,
            consent_public=False,
        )
        item = supervision.mark_legacy(
            case,
            story.staff("intake"),
            version=None,
            entry=LegacyEntry(
                category_id=categories[LEGACY_CATEGORY_OF.get(matter.category, "public-works")],
                target_date=(story.at(start) + timedelta(days=120)).date(),
            ),
            now=story.at(start - 0.02),
        )
        handler = _handler_for(story, matter.department)
        story.work(case, start - 0.02, matter.department, handler)
        item.owner_department_id = story.department(matter.department)
        if leader is not None:
            supervision.set_responsible_leader(
                case, story.staff("supervisor"), leader.id, version=None, now=story.at(start - 1)
            )
            item.responsible_leader_id = leader.id
        planned = story.at(start - 1.1)
        supervision.set_case_plan(
            case,
            story.staff("supervisor"),
            "一案一策：摸清底数，明确责任单位和时限，每月调度一次，化解后销号。",
            [
                # Settled matters had their steps done; open ones show the late step.
                supervision.Milestone(planned.date() + timedelta(days=14), "摸清底数", settled),
                supervision.Milestone(
                    planned.date() + timedelta(days=45), "明确责任单位和时限", settled
                ),
                supervision.Milestone(item.target_date, "化解后销号", settled),
            ],
            version=None,
            now=planned,
        )
        # The item carries the same plan (一案一策) as its case.
        item.plan_text = case.case_plan
        item.milestones = [
            LedgerMilestone(
                title=row.text,
                due_date=row.due_on,
                done_at=story.at(start - 30) if row.done_on else None,
            )
            for row in case.milestones
        ]
        db.session.commit()
        if settled:
            decision = PetitionDecision.SUPPORTED if case.kind is CaseKind.PETITION else None
            story.resolve(
                case,
                start - 30,
                handler,
                "经核实，问题已协调解决，相关补偿/手续已落实到位。",
                decision=decision,
            )
            if index % 4 == 3:
                closing.feedback_window_passes(case, now=story.at(start - 38))
            else:
                story.rate(case, start - 32)
    db.session.commit()


def _everyday_cases(story: Story) -> None:
    s = story
    # Headline: a bus stop the renovated 圣惠路 forgot (in progress at the transport bureau).
    bus = s.file(
        12,
        "圣惠路改造后羊驮寺村公交站点被取消",
        "圣惠路改造完成后，原羊驮寺村村口的公交站点没有恢复，村里老人和学生要步行两公里到下一站坐车，请求恢复站点。",
        "bus-stop",
        place="圣惠路",
    )
    bus_handler = _handler_for(s, "jtj")
    s.work(bus, 11.8, "jtj", bus_handler)
    casework.add_note(
        bus,
        s.staff(bus_handler),
        "已会同公交公司现场勘查，拟在村口恢复站点，正在办理站牌设置手续。",
        public=True,
        version=None,
        now=s.at(8),
    )

    # New, just in; one urgent; one overdue at intake.
    s.file(
        0.2,
        "公积金提取需要哪些材料",
        "想提取住房公积金用于租房，请问需要带哪些材料，能否网上办理？",
        "provident-fund",
        kind=CaseKind.CONSULTATION,
    )
    s.file(
        0.1,
        "人民路路灯大面积不亮",
        "人民路中段连续十几盏路灯不亮，夜间行人很不安全。",
        "street-light",
        place="人民路",
        priority=Priority.URGENT,
    )
    s.file(
        4,
        "涑水街垃圾清运不及时",
        "涑水街小区门口垃圾桶满溢，三天没人清运。",
        "sanitation",
        kind=CaseKind.COMPLAINT,
        place="涑水街",
    )
    s.file(
        1,
        "外出务工身份证丢失如何补办",
        "人在外地打工，身份证丢失，能否异地补办？",
        "identity-card",
        kind=CaseKind.CONSULTATION,
    )

    # Dispatched, not yet signed for: one due soon, one overdue.
    road = s.file(
        1.2,
        "红旗西街人行道砖块松动",
        "红旗西街人行道砖块松动翘起，老人容易绊倒。",
        "road-damage",
        place="红旗西街",
    )
    s.dispatch(road, 1.1, "zjj")
    lamp = s.file(
        5,
        "条山街路灯杆倾斜",
        "条山街一根路灯杆被车撞后倾斜，有倒塌危险。",
        "street-light",
        place="条山街",
    )
    s.dispatch(lamp, 4.9, "cgj")

    # Returned: misrouted to the housing bureau, sent back.
    misrouted = s.file(
        2, "中银路小区停电", "中银路小区昨晚起停电，至今未恢复。", "power", place="中银路"
    )
    s.dispatch(misrouted, 1.9, "zjj")
    casework.return_case(
        misrouted,
        s.staff("handler"),
        "供电故障属供电公司职责，请改派。",
        version=None,
        now=s.at(1.8),
    )

    # In progress: on time, overdue, with an extension waiting.
    pothole = s.file(
        3,
        "机场大道辅路坑洼",
        "机场大道辅路有多处坑洼，下雨后积水。",
        "road-damage",
        place="机场大道",
    )
    s.work(pothole, 2.9, "zjj", "handler")
    overdue = s.file(
        20,
        "河东西街井盖缺失",
        "河东西街有一处井盖缺失，已用树枝临时围挡。",
        "road-damage",
        kind=CaseKind.COMPLAINT,
        place="河东西街",
    )
    s.work(overdue, 19.9, "zjj", "handler")
    bridge = s.file(
        9,
        "中银路学校门口需要过街天桥",
        "学校门口车多，学生过马路危险，建议修建过街天桥。",
        "pedestrian-bridge",
        kind=CaseKind.SUGGESTION,
        place="中银路",
    )
    s.work(bridge, 8.9, "zjj", "handler")
    casework.request_extension(
        bridge,
        s.staff("handler"),
        5,
        "需规划、交通部门联合论证选址，申请延期5个工作日。",
        version=None,
        now=s.at(2),
    )
    station = s.file(
        6,
        "人民公园附近设置户外劳动者驿站",
        "建议在人民公园附近为环卫工人、快递员设置歇脚喝水的驿站。",
        "worker-station",
        kind=CaseKind.SUGGESTION,
        place="人民公园",
    )
    s.work(station, 5.9, "cgj", "handler2")

    # Awaiting the citizen.
    water = s.file(
        4,
        "新建门面房供水报装",
        "在工农街新建门面房，申请供水报装，管径DN50。",
        "water",
        place="工农街",
    )
    water_handler = _handler_for(s, "swj")
    s.work(water, 3.9, "swj", water_handler)
    casework.ask_citizen(
        water,
        s.staff(water_handler),
        "请补充上传房屋产权证明或租赁合同照片。",
        version=None,
        now=s.at(3),
    )

    # Resolved, waiting for the rating.
    gas = s.file(
        10,
        "工农街燃气报装进度",
        "上月申请燃气报装，想了解现在的进度。",
        "gas",
        kind=CaseKind.CONSULTATION,
        place="工农街",
    )
    s.work(gas, 9.9, "zjj", "handler")
    s.resolve(gas, 2, "handler", "经查，您的报装已完成勘查，预计本周内完成通气。")

    # Closed: rated, and closed unrated after the feedback window.
    bench = s.file(
        25, "体育公园健身器材损坏", "体育公园东门健身器材有两件损坏。", "parks", place="体育公园"
    )
    s.work(bench, 24.9, "tyj", _handler_for(s, "tyj"))
    s.resolve(bench, 20, _handler_for(s, "tyj"), "已更换损坏器材。")
    s.rate(bench, 19)
    trash = s.file(
        30,
        "禹都公园垃圾桶不足",
        "禹都公园节假日游客多，垃圾桶不够用。",
        "sanitation",
        kind=CaseKind.SUGGESTION,
        place="禹都公园",
    )
    s.work(trash, 29.9, "cgj", "handler2")
    s.resolve(trash, 26, "handler2", "已在主要出入口增设12组分类垃圾桶。")
    closing.feedback_window_passes(trash, now=s.at(18))

    # Praise, answered directly at intake; a veterans' pension question the same way.
    praise = s.file(
        7,
        "表扬市水务局报装服务",
        "水务局1个工作日就上门勘查，3天办完报装，还免了表务费，点赞！",
        "water",
        kind=CaseKind.PRAISE,
    )
    intake.answer_directly(
        praise,
        s.staff("intake"),
        "感谢您的肯定，我们已将表扬转达市水务局。",
        version=None,
        now=s.at(6.9),
    )
    closing.rate_case(
        praise, Actor.citizen(), True, Satisfaction.SATISFIED, version=None, now=s.at(6)
    )
    pension = s.file(
        8,
        "退役军人养老保险如何接续",
        "本人2000年退役，想了解军龄如何计入养老保险缴费年限。",
        "veterans",
        kind=CaseKind.CONSULTATION,
    )
    intake.answer_directly(
        pension,
        s.staff("intake"),
        "军龄视同缴费年限，请携带退役证到市退役军人事务局窗口办理。",
        version=None,
        now=s.at(7.8),
    )

    # Rejected: a private contract dispute (a petition for the courts).
    dispute = s.file(
        6,
        "与开发商购房合同纠纷",
        "开发商延期交房，要求政府责令赔偿违约金。",
        "petition",
        kind=CaseKind.PETITION,
    )
    intake.reject_case(
        dispute,
        s.staff("intake"),
        "本事项属于民事合同纠纷，请依法向人民法院提起诉讼。",
        version=None,
        belongs_to="court",
        now=s.at(5.5),
    )

    # Withdrawn, and a duplicate merged into an open case.
    fixed = s.file(3, "小区门口路灯不亮", "小区门口路灯不亮。", "street-light", place="红旗西街")
    closing.withdraw_case(fixed, Actor.citizen(), "路灯已经修好了，撤回诉求。", now=s.at(2.5))
    dup = s.file(
        2.5, "河东西街井盖丢了", "河东西街井盖丢失，很危险。", "road-damage", place="河东西街"
    )
    intake.merge_case(dup, s.staff("intake"), overdue, version=None, now=s.at(2.4))

    # A petition decided, and its review (复查) asked for by the citizen.
    petition = s.file(
        70,
        "安置房面积核算不公",
        "棚改安置时面积核算少算了12平方米，要求重新核算。",
        "petition",
        kind=CaseKind.PETITION,
        place="中银路",
    )
    s.work(petition, 69.9, "zjj", "handler")
    s.resolve(
        petition,
        20,
        "handler",
        "经复核原始测绘资料，安置面积核算符合当时政策，不予支持。",
        decision=PetitionDecision.NOT_SUPPORTED,
    )
    closing.request_review(petition, Actor.citizen(), "对处理意见不服，申请复查。", now=s.at(10))
    db.session.commit()


# (title, description, category, place, department) of answered cases in the last weeks.
HISTORY = [
    ("红旗西街路灯不亮", "红旗西街中段三盏路灯不亮。", "street-light", "红旗西街", "cgj"),
    ("涑水街人行道砖松动", "涑水街人行道砖松动，雨天溅水。", "road-damage", "涑水街", "zjj"),
    ("人民路井盖异响", "人民路公交站旁井盖车辆经过时异响。", "road-damage", "人民路", "zjj"),
    ("条山街垃圾清运不及时", "条山街早市结束后垃圾堆到中午。", "sanitation", "条山街", "cgj"),
    ("禹都公园路灯损坏", "禹都公园北门步道路灯损坏。", "street-light", "禹都公园", "cgj"),
    ("中银路供水压力小", "中银路小区高层供水压力小。", "water", "中银路", "swj"),
    ("机场大道路面塌陷", "机场大道辅路出现小面积塌陷。", "road-damage", "机场大道", "zjj"),
    ("体育公园篮球架损坏", "体育公园篮球架篮筐脱落。", "parks", "体育公园", "tyj"),
    ("河东西街占道经营", "河东西街商户占用人行道经营。", "sanitation", "河东西街", "cgj"),
    ("工农街新装水表咨询", "工农街门面房新装水表的流程。", "water", "工农街", "swj"),
    (
        "红旗西街人行道破损",
        "红旗西街人行道砖块松动，老人容易绊倒。",
        "road-damage",
        "红旗西街",
        "zjj",
    ),
    ("人民公园健身步道积水", "人民公园健身步道低洼处积水。", "parks", "人民公园", "tyj"),
]


def _answered_history(story: Story) -> None:
    """Cases answered over the last twelve weeks with a realistic mix: most first
    responses and answers on time, some late; most citizens satisfied, some not (one
    redo, one rating excluded on review) — so the scorecards and their weekly trend
    have something to show on any day."""
    s = story
    satisfaction = [
        Satisfaction.SATISFIED,
        Satisfaction.SATISFIED,
        Satisfaction.BASICALLY_SATISFIED,
        Satisfaction.SATISFIED,
        Satisfaction.UNSATISFIED,
        Satisfaction.SATISFIED,
    ]
    for index in range(24):
        title, text, category, place, department = HISTORY[index % len(HISTORY)]
        start = 84 - index * 3.2  # days ago, one case every few days
        handler = _handler_for(s, department)
        case = s.file(start, title, text, category, place=place)
        s.dispatch(case, start - 0.05, department)
        s.sign(case, start - 0.2, handler)
        late_response = index % 5 == 2
        s.contact(case, start - (2.5 if late_response else 0.3), handler)
        late_answer = index % 6 == 1
        s.resolve(
            case, start - (9 if late_answer else 1.5), handler, "已现场核实并处理完毕，请您查看。"
        )
        answered = start - (9 if late_answer else 1.5)
        if index % 7 == 6:
            closing.feedback_window_passes(case, now=s.at(answered - 7.5))
            continue
        rating = satisfaction[index % len(satisfaction)]
        # Some citizens are content with the explanation though the matter is not solved.
        s.rate(case, answered - 1, rating, solved=None if index % 4 != 2 else False)
        if rating is not Satisfaction.UNSATISFIED:
            continue
        if index == 16:
            # Found unjustified on review (甄别); the redo it asked for is still going.
            closing.exclude_rating(
                case,
                s.staff("supervisor"),
                "经核实，群众诉求超出政策规定范围，不满意评价不予计入。",
                version=None,
                now=s.at(answered - 1.2),
            )
            continue
        s.resolve(case, answered - 2, handler, "已再次处理并电话回访。")
        s.rate(case, answered - 3, Satisfaction.BASICALLY_SATISFIED, solved=index % 3 != 1)
