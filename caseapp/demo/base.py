"""The demo city's base: departments, deadline policies, categories, demo accounts.

Departments and places follow the city report of DESIGN §10; people are fictional.
Loading is idempotent: rows are found by their code and left as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from caseapp.extensions import db
from caseapp.models import (
    Category,
    CategoryQuestion,
    DeadlinePolicy,
    DeadlineTerm,
    Department,
    User,
)
from caseapp.models.enums import CaseKind, PolicyTerm, QuestionType, Role, TimeUnit
from caseapp.services.access import accounts
from caseapp.services.casework import closing

DEMO_PASSWORD = "demo-password"

WD, CD, H = TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS, TimeUnit.HOURS

# (code, 中文, English, parent code)
DEPARTMENTS: list[tuple[str, str, str, str | None]] = [
    ("swbgs", "市委办公室", "Municipal Party Committee Office", None),
    ("zfbgs", "市政府办公室", "Municipal Government Office", None),
    ("zfw", "市委政法委", "Political and Legal Affairs Commission", None),
    ("gxj", "市工信局", "Bureau of Industry and Information Technology", None),
    ("gaj", "市公安局", "Public Security Bureau", None),
    ("zjj", "市住房和城乡建设局", "Housing and Urban-Rural Development Bureau", None),
    ("cgj", "市城市管理局", "Urban Management Bureau", None),
    ("swj", "市水务局", "Water Affairs Bureau", None),
    ("tyj", "市体育局", "Sports Bureau", None),
    ("tyjrj", "市退役军人事务局", "Veterans Affairs Bureau", None),
    ("xzsp", "市行政审批服务管理局", "Administrative Approval Services Bureau", None),
    ("xfj", "市信访局", "Petition Bureau", None),
    ("gdgs", "市供电公司", "City Power Supply Company", None),
    ("jtj", "市交通运输局", "Transport Bureau", None),
    ("zrzyj", "市自然资源和规划局", "Natural Resources and Planning Bureau", None),
    ("rsj", "市人力资源和社会保障局", "Human Resources and Social Security Bureau", None),
    ("gjj", "市住房公积金管理中心", "Housing Provident Fund Centre", None),
    ("yhq", "盐湖区政府", "Yanhu District Government", None),
    ("yhq-bc", "北城街道办事处", "Beicheng Street Office", "yhq"),
    ("yhq-nc", "南城街道办事处", "Nancheng Street Office", "yhq"),
    ("yhq-dc", "东城街道办事处", "Dongcheng Street Office", "yhq"),
    ("yhq-xc", "西城街道办事处", "Xicheng Street Office", "yhq"),
    ("yhq-ay", "安邑街道办事处", "Anyi Street Office", "yhq"),
]


@dataclass(frozen=True)
class Term:
    term: PolicyTerm
    unit: TimeUnit
    value: int
    urgent: tuple[TimeUnit, int] | None = None
    kind: CaseKind | None = None


# Shared by every policy unless a policy says otherwise (DESIGN §4 typical values).
COMMON_TERMS: list[Term] = [
    Term(PolicyTerm.ACCEPT, WD, 1, urgent=(H, 2)),
    Term(PolicyTerm.ACCEPT, CD, 15, kind=CaseKind.PETITION),
    Term(PolicyTerm.SIGN, WD, 1, urgent=(H, 2)),
    Term(PolicyTerm.FIRST_RESPONSE, WD, 1, urgent=(H, 2)),
    Term(PolicyTerm.RESOLVE, CD, 60, kind=CaseKind.PETITION),
    Term(PolicyTerm.REPLY_WINDOW, WD, 10),
    Term(PolicyTerm.FEEDBACK, CD, 7),
    Term(PolicyTerm.EXTENSION_CAP, WD, 10),
    Term(PolicyTerm.EXTENSION_CAP, CD, 30, kind=CaseKind.PETITION),
    Term(PolicyTerm.RETURN_WINDOW, WD, 2),
    Term(PolicyTerm.REVIEW_WINDOW, CD, 30),
]

STANDARD_RESOLVE = [
    Term(PolicyTerm.RESOLVE, WD, 5, urgent=(WD, 2)),
    Term(PolicyTerm.RESOLVE, WD, 2, urgent=(WD, 1), kind=CaseKind.CONSULTATION),
    Term(PolicyTerm.RESOLVE, WD, 13, urgent=(WD, 5), kind=CaseKind.COMPLAINT),
    Term(PolicyTerm.RESOLVE, WD, 13, urgent=(WD, 5), kind=CaseKind.REPORT),
    Term(PolicyTerm.RESOLVE, WD, 10, kind=CaseKind.SUGGESTION),
]

# (code, 中文, English, resolve terms)
POLICIES: list[tuple[str, str, str, list[Term]]] = [
    ("standard", "标准时限", "Standard deadlines", STANDARD_RESOLVE),
    (
        "utility-connection",
        "水电气报装（1个工作日内勘查，3个工作日内完成报装）",
        "Utility connections (survey within 1 working day, done within 3)",
        [Term(PolicyTerm.RESOLVE, WD, 3, urgent=(WD, 1))],
    ),
    (
        "quick-repair",
        "市政设施快修",
        "Quick repairs of public works",
        [Term(PolicyTerm.RESOLVE, WD, 3, urgent=(H, 24))],
    ),
    (
        "legacy",
        "历史遗留问题",
        "Legacy issues",
        [Term(PolicyTerm.RESOLVE, WD, 40), Term(PolicyTerm.EXTENSION_CAP, WD, 20)],
    ),
]


@dataclass(frozen=True)
class Question:
    code: str
    label_zh: str
    label_en: str
    datatype: QuestionType
    required: bool = False
    choices: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name_zh: str
    name_en: str
    group: tuple[str, str]
    department: str | None
    policy: str = "standard"
    anonymous: bool = False
    public: bool = True
    keywords: str = ""
    questions: tuple[Question, ...] = ()


TRANSPORT = ("交通出行", "Transport")
CITY = ("城市管理", "City management")
UTILITIES = ("水电气暖", "Water, power and gas")
HOUSING = ("住房与土地", "Housing and land")
SOCIAL = ("社会保障", "Social security")
SERVICES = ("政务服务", "Government services")
SAFETY = ("公共安全", "Public safety")
OTHER = ("其他", "Other")

CATEGORIES: list[CategorySpec] = [
    CategorySpec(
        "bus-stop",
        "公交站点设置",
        "Bus stops and routes",
        TRANSPORT,
        "jtj",
        keywords="公交 站牌 站点 线路",
        questions=(Question("route", "涉及线路", "Bus route", QuestionType.STRING),),
    ),
    CategorySpec(
        "road-damage",
        "道路破损与井盖",
        "Broken roads and manholes",
        TRANSPORT,
        "zjj",
        policy="quick-repair",
        keywords="道路 路面 坑洼 井盖 人行道",
    ),
    CategorySpec(
        "street-light",
        "路灯故障",
        "Street lights",
        TRANSPORT,
        "cgj",
        policy="quick-repair",
        keywords="路灯 照明",
        questions=(Question("pole", "灯杆编号", "Pole number", QuestionType.STRING),),
    ),
    CategorySpec(
        "pedestrian-bridge",
        "人行天桥与过街设施",
        "Pedestrian bridges and crossings",
        TRANSPORT,
        "zjj",
        keywords="天桥 过街 斑马线",
    ),
    CategorySpec(
        "sanitation",
        "环境卫生",
        "Street cleaning and rubbish",
        CITY,
        "cgj",
        keywords="垃圾 卫生 清扫",
    ),
    CategorySpec(
        "illegal-building",
        "违法建设",
        "Illegal construction",
        CITY,
        "cgj",
        keywords="违建 私搭乱建",
    ),
    CategorySpec(
        "worker-station",
        "户外劳动者驿站",
        "Rest stations for outdoor workers",
        CITY,
        "cgj",
        keywords="驿站 环卫工人 快递员",
    ),
    CategorySpec(
        "parks",
        "公园与体育设施",
        "Parks and sports grounds",
        CITY,
        "tyj",
        keywords="公园 体育公园 禹都公园 人民公园 健身",
    ),
    CategorySpec(
        "water",
        "供水报装与维修",
        "Water connections and repairs",
        UTILITIES,
        "swj",
        policy="utility-connection",
        keywords="供水 自来水 水表 报装",
        questions=(
            Question(
                "pipe",
                "管径",
                "Pipe diameter",
                QuestionType.SINGLEVALUELIST,
                choices=[
                    {
                        "key": "lt100",
                        "name_zh": "DN100以下（免收表务费）",
                        "name_en": "Below DN100 (no meter fee)",
                    },
                    {"key": "ge100", "name_zh": "DN100及以上", "name_en": "DN100 or larger"},
                ],
            ),
        ),
    ),
    CategorySpec(
        "gas",
        "燃气报装",
        "Gas connections",
        UTILITIES,
        "zjj",
        policy="utility-connection",
        keywords="燃气 天然气 报装",
    ),
    CategorySpec(
        "power",
        "供电故障与报装",
        "Power cuts and connections",
        UTILITIES,
        "gdgs",
        policy="utility-connection",
        keywords="停电 供电 电表",
    ),
    CategorySpec(
        "resettlement",
        "回迁安置与烂尾项目",
        "Resettlement and unfinished housing",
        HOUSING,
        "zjj",
        policy="legacy",
        keywords="回迁 安置 烂尾 棚改",
    ),
    CategorySpec(
        "land-compensation",
        "征地拆迁补偿",
        "Land taken and compensation",
        HOUSING,
        "zrzyj",
        policy="legacy",
        public=False,
        keywords="征地 补偿 拆迁 占地",
    ),
    CategorySpec(
        "provident-fund",
        "住房公积金",
        "Housing provident fund",
        HOUSING,
        "gjj",
        keywords="公积金 提取 贷款",
    ),
    CategorySpec(
        "veterans",
        "退役军人事务",
        "Veterans' affairs and pensions",
        SOCIAL,
        "tyjrj",
        public=False,
        keywords="退役军人 养老保险 优抚",
    ),
    CategorySpec(
        "social-insurance",
        "社会保险",
        "Social insurance",
        SOCIAL,
        "rsj",
        public=False,
        keywords="社保 养老 医保",
    ),
    CategorySpec(
        "approvals",
        "行政审批与办事",
        "Permits and government services",
        SERVICES,
        "xzsp",
        keywords="审批 办事 窗口",
    ),
    CategorySpec(
        "property-registration",
        "不动产登记（含上门服务）",
        "Property registration (home visits included)",
        SERVICES,
        "zrzyj",
        public=False,
        keywords="不动产 继承 过户 房产证",
    ),
    CategorySpec(
        "identity-card",
        "身份证件办理",
        "Identity cards",
        SERVICES,
        "gaj",
        public=False,
        keywords="身份证 补办 异地",
    ),
    CategorySpec(
        "fraud",
        "防诈骗与治安",
        "Fraud and public order",
        SAFETY,
        "gaj",
        anonymous=True,
        public=False,
        keywords="诈骗 治安 举报",
    ),
    CategorySpec(
        "petition",
        "信访事项",
        "Petitions",
        OTHER,
        "xfj",
        public=False,
        keywords="信访 上访",
    ),
    CategorySpec("other", "其他诉求", "Other matters", OTHER, None, keywords="其他"),
]

# (username, display name, roles, department code)
DEMO_ACCOUNTS: list[tuple[str, str, tuple[Role, ...], str | None]] = [
    ("intake", "受理员 李静", (Role.INTAKE,), "zfbgs"),
    ("handler", "承办人 王建国", (Role.HANDLER,), "zjj"),
    ("handler2", "承办人 赵敏", (Role.HANDLER,), "cgj"),
    ("lead", "住建局负责人 陈志强", (Role.LEAD,), "zjj"),
    ("supervisor", "督办 孙立", (Role.SUPERVISOR,), "zfbgs"),
    ("leader", "包联领导 周海", (Role.LEADER,), "zfbgs"),
    ("admin", "系统管理员", (Role.ADMIN,), None),
]


def load_base(progress: Callable[[str], None] = lambda message: None) -> dict[str, int]:
    """Create what is missing of the demo base; return how many rows of each were made."""
    made = {
        "departments": _load_departments(),
        "policies": _load_policies(),
        "categories": _load_categories(),
    }
    progress(
        f"departments +{made['departments']}, policies +{made['policies']}, "
        f"categories +{made['categories']}"
    )
    made["accounts"] = _load_accounts()
    progress(f"demo accounts +{made['accounts']}")
    return made


def _by_code(model: type, code: str):  # type: ignore[no-untyped-def]
    return db.session.scalar(sa.select(model).where(model.code == code))


def _load_departments() -> int:
    made = 0
    for code, name_zh, name_en, parent_code in DEPARTMENTS:
        if _by_code(Department, code) is not None:
            continue
        parent = _by_code(Department, parent_code) if parent_code else None
        db.session.add(Department(code=code, name_zh=name_zh, name_en=name_en, parent=parent))
        db.session.flush()
        made += 1
    db.session.commit()
    return made


def _load_policies() -> int:
    made = 0
    for code, name_zh, name_en, own_terms in POLICIES:
        if _by_code(DeadlinePolicy, code) is not None:
            continue
        own_keys = {(t.term, t.kind) for t in own_terms}
        terms = own_terms + [t for t in COMMON_TERMS if (t.term, t.kind) not in own_keys]
        db.session.add(
            DeadlinePolicy(
                code=code,
                name_zh=name_zh,
                name_en=name_en,
                terms=[
                    DeadlineTerm(
                        term=t.term,
                        kind=t.kind,
                        unit=t.unit,
                        value=t.value,
                        urgent_unit=t.urgent[0] if t.urgent else None,
                        urgent_value=t.urgent[1] if t.urgent else None,
                    )
                    for t in terms
                ],
            )
        )
        made += 1
    # Review (复查) and re-review (复核) cases have their own policy (DESIGN §4), made
    # with its statutory values by the service that files them.
    if _by_code(DeadlinePolicy, current_app.config["REVIEW_POLICY_CODE"]) is None:
        closing.review_policy()
        made += 1
    db.session.commit()
    return made


def _load_categories() -> int:
    made = 0
    for order, spec in enumerate(CATEGORIES):
        if db.session.scalar(sa.select(Category).where(Category.service_code == spec.code)):
            continue
        department = _by_code(Department, spec.department) if spec.department else None
        db.session.add(
            Category(
                service_code=spec.code,
                name_zh=spec.name_zh,
                name_en=spec.name_en,
                group_zh=spec.group[0],
                group_en=spec.group[1],
                keywords=spec.keywords,
                default_department=department,
                policy=_by_code(DeadlinePolicy, spec.policy),
                anonymous_allowed=spec.anonymous,
                public_by_default=spec.public,
                sort_order=order,
                questions=[
                    CategoryQuestion(
                        code=q.code,
                        label_zh=q.label_zh,
                        label_en=q.label_en,
                        datatype=q.datatype,
                        required=q.required,
                        sort_order=i,
                        choices=q.choices,
                    )
                    for i, q in enumerate(spec.questions)
                ],
            )
        )
        made += 1
    db.session.commit()
    return made


def _load_accounts() -> int:
    made = 0
    for username, display_name, roles, department in DEMO_ACCOUNTS:
        if db.session.scalar(sa.select(User.id).where(User.username == username)):
            continue
        accounts.create_user(username, DEMO_PASSWORD, display_name, roles, department)
        made += 1
    return made
