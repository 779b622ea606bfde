"""Possible duplicates offered before a case is saved (DESIGN §7): pairs that must match
and pairs that must not, each an existing case and a new filing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import Case, Category, Department
from caseapp.models.enums import CaseKind, CaseStatus
from caseapp.services.filing.duplicates import Match, metres_apart, possible_duplicates, road_names
from tests.factories import case_in, department, new_department

# The demo base and a second district; the tests of plain functions need no database.
with_cases = pytest.mark.usefixtures("app_ctx", "demo_base", "yongji")

S = CaseStatus

# Requests used by both tables: a pair that must not match is a pair that matches with
# one thing changed (category, district, place, status or kind).
BUS_STOP_FILED = {
    "title": "村口公交站被撤了",
    "description": "圣惠路羊驮寺村村口的公交站上个月被撤了，村里老人进城要走两公里去坐车。",
    "public_location": "圣惠路",
}
BUS_STOP_FILING = {
    "title": "羊驮寺村公交站牌没了",
    "description": "圣惠路羊驮寺村的公交站牌不见了，老人坐公交很不方便，希望恢复站点。",
    "public_location": "圣惠路 ",
}
PAVEMENT_FILED = {
    "title": "红旗西街人行道砖块松动",
    "description": "红旗西街人行道砖块松动翘起，老人容易绊倒。",
    "public_location": "红旗西街",
}
PAVEMENT_FILING = {
    "title": "人行道地砖翘起来了",
    "description": "红旗西街人行道的地砖松动翘起，昨天一位老人差点绊倒。",
    "public_location": "红旗西街",
}
LIGHTS_FILED = {
    "title": "人民路路灯不亮",
    "description": "人民路北段一排路灯晚上都不亮，已经一周了，走夜路很危险。",
    "public_location": "人民路北段",
}
LIGHTS_FILING = {
    "title": "人民路好几盏路灯坏了",
    "description": "晚上人民路北段的路灯不亮，黑漆漆的，走夜路看不清。",
    "public_location": "盐湖区人民路",
}
RUBBISH_FILED = {
    "title": "涑水街垃圾没人清理",
    "description": "涑水街菜市场门口的垃圾堆了好几天没人清运，气味很大。",
    "public_location": "涑水街",
}
RUBBISH_FILING = {
    "title": "菜市场门口垃圾堆积",
    "description": "涑水街菜市场门口垃圾成堆，好几天没清运，苍蝇很多。",
    "public_location": "涑水街",
}
WATER_CUT_FILED = {
    "title": "电力小区停水",
    "description": "河东东街电力小区已经停水三天了，物业也没有通知。",
    "public_location": "河东东街",
}
WATER_CUT_FILING = {
    "title": "电力小区停水三天",
    "description": "我们电力小区从周一开始停水，到现在三天了，没有任何通知。",
    "public_location": "河东东街",
}
MANHOLE_NOISE_FILED = {
    "title": "井盖松动有响声",
    "description": "河东街银湖小区门口的井盖松动，车一压就哐哐响。",
    "public_location": "河东街",
}
MANHOLE_NOISE_FILING = {
    "title": "小区门口井盖响",
    "description": "银湖小区门口井盖松了，汽车压过去很响，晚上吵得睡不着。",
    "public_location": "河东街",
}
BUILDING_FILED = {
    "title": "涑水街私搭乱建",
    "description": "涑水街菜市场后面有人在人行道上私自搭建彩钢房，占用消防通道。",
    "public_location": "涑水街",
}
BUILDING_FILING = {
    "title": "菜市场后面违建彩钢房",
    "description": "涑水街菜市场后面有人私自搭建彩钢房，把消防通道占了。",
    "public_location": "涑水街",
}
COMPENSATION_FILED = {
    "title": "征地补偿款迟迟不发",
    "description": "羊驮寺村2023年修路征地，补偿款到现在还没有发放到村民手里。",
    "public_location": "圣惠路",
}
COMPENSATION_FILING = {
    "title": "修路征地补偿款没发",
    "description": "羊驮寺村修路征了我家的地，补偿款一直没有发放。",
    "public_location": "圣惠路",
}

# (category, status of the existing case, the existing case, the filing, the reason says)
MUST_MATCH = [
    pytest.param(
        "bus-stop", S.NEW, BUS_STOP_FILED, BUS_STOP_FILING, "same road 圣惠路", id="bus-stop-gone"
    ),
    pytest.param(
        "road-damage",
        S.DISPATCHED,
        PAVEMENT_FILED,
        PAVEMENT_FILING,
        "same road 红旗西街",
        id="loose-paving",
    ),
    pytest.param(
        "street-light",
        S.IN_PROGRESS,
        LIGHTS_FILED,
        LIGHTS_FILING,
        "same road 人民路",
        id="lights-out-road-written-differently",
    ),
    pytest.param(
        "water",
        S.AWAITING_CITIZEN,
        {
            "title": "水表井漏水",
            "description": "康杰小区3号楼前的水表井一直漏水，地面全是积水。",
            "public_location": "学苑路",
            "latitude": 35.0264,
            "longitude": 111.0068,
        },
        {
            "title": "小区水表往外冒水",
            "description": "康杰小区3号楼门口水表井漏水，积水结冰了，出门容易滑倒。",
            "public_location": "康杰小区",
            "latitude": 35.0271,
            "longitude": 111.0080,
        },
        "134 m apart",
        id="water-meter-leak-nearby",
    ),
    pytest.param(
        "sanitation",
        S.RETURNED,
        RUBBISH_FILED,
        RUBBISH_FILING,
        "shared place names: 菜市场",
        id="rubbish-at-market",
    ),
    pytest.param(
        "bus-stop",
        S.NEW,
        {
            "title": "工农街公交站台顶棚坏了",
            "description": "圣惠路与工农街交叉口的公交站台顶棚破了个大洞，下雨天等车的人全身淋湿。",
            "public_location": "圣惠路与工农街交叉口",
        },
        {
            "title": "公交站顶棚漏雨",
            "description": "工农街口公交站台的顶棚破了，下雨没地方躲，等车都淋湿了。",
            "public_location": "工农街",
        },
        "same road 工农街",
        id="bus-shelter-at-crossing",
    ),
    pytest.param(
        "road-damage",
        S.DISPATCHED,
        {
            "title": "井盖丢失",
            "description": "解放路与河东街交叉口东侧的井盖丢失，晚上很危险。",
            "public_location": "解放路",
        },
        {
            "title": "路口井盖没了",
            "description": "解放路河东街口东边的井盖丢失了，晚上路过很危险，请尽快补上。",
            "public_location": "",
        },
        "解放路 named in the text",
        id="manhole-road-only-in-text",
    ),
    pytest.param(
        "parks",
        S.IN_PROGRESS,
        {
            "title": "禹都公园健身器材损坏",
            "description": "禹都公园东门健身区的漫步机坏了，扶手松动，老人锻炼不安全。",
            "public_location": "",
        },
        {
            "title": "禹都公园健身器材坏了",
            "description": "禹都公园东门的健身器材漫步机坏了，扶手松动，很危险。",
            "public_location": "",
        },
        "text only",
        id="park-no-place-text-only",
    ),
    pytest.param(
        "water",
        S.NEW,
        WATER_CUT_FILED,
        WATER_CUT_FILING,
        "shared place names: 电力小区",
        id="water-cut-estate",
    ),
    pytest.param(
        "street-light",
        S.DISPATCHED,
        {
            "title": "A12号路灯不亮",
            "description": "学苑路A12号灯杆的路灯晚上不亮。",
            "public_location": "学苑路",
        },
        {
            "title": "学苑路路灯坏了",
            "description": "Ａ12号灯杆的路灯连续几天晚上不亮。",  # full-width Ａ
            "public_location": "学苑路",
        },
        "a12",
        id="lamp-pole-number",
    ),
    pytest.param(
        "road-damage",
        S.NEW,
        {**MANHOLE_NOISE_FILED, "district": "yhq"},
        {**MANHOLE_NOISE_FILING, "district": "yhq"},
        "shared place names: 银湖小区",
        id="rattling-manhole-same-district",
    ),
    pytest.param(
        "road-damage",
        S.RETURNED,
        MANHOLE_NOISE_FILED,
        {**MANHOLE_NOISE_FILING, "district": "yhq"},
        "same road 河东街",
        id="rattling-manhole-case-without-district",
    ),
    pytest.param(
        "road-damage",
        S.IN_PROGRESS,
        {
            "title": "中银大道路面塌陷",
            "description": "中银大道南段机动车道路面塌陷一个大坑，车辆经过很危险。",
            "public_location": "中银大道",
        },
        {
            "title": "路面塌了个大坑",
            "description": "中银路南段机动车道上路面塌陷，出现一个大坑，晚上骑电动车容易摔。",
            "public_location": "中银路",
        },
        "same road 中银路",
        id="pothole-road-and-avenue",
    ),
    pytest.param(
        "illegal-building",
        S.AWAITING_CITIZEN,
        BUILDING_FILED,
        BUILDING_FILING,
        "same road 涑水街",
        id="illegal-shed",
    ),
]

# (category and kind of the existing case, its status, the existing case, category of
# the filing, the filing)
MUST_NOT_MATCH = [
    pytest.param(
        ("street-light", CaseKind.HELP),
        S.NEW,
        LIGHTS_FILED,
        "power",
        LIGHTS_FILING,
        id="same-words-other-category",
    ),
    pytest.param(
        ("sanitation", CaseKind.COMPLAINT),
        S.DISPATCHED,
        RUBBISH_FILED,
        "parks",
        RUBBISH_FILING,
        id="same-words-other-category-2",
    ),
    pytest.param(
        ("road-damage", CaseKind.HELP),
        S.NEW,
        {**PAVEMENT_FILED, "district": "yjs"},
        "road-damage",
        {**PAVEMENT_FILING, "district": "yhq"},
        id="same-category-other-district",
    ),
    pytest.param(
        ("road-damage", CaseKind.HELP),
        S.IN_PROGRESS,
        {**MANHOLE_NOISE_FILED, "district": "yhq"},
        "road-damage",
        {**MANHOLE_NOISE_FILING, "district": "yjs"},
        id="same-category-other-district-2",
    ),
    pytest.param(
        ("street-light", CaseKind.HELP),
        S.DISPATCHED,
        {**LIGHTS_FILED, "public_location": "人民路", "latitude": 35.0330, "longitude": 111.0050},
        "street-light",
        {
            "title": "路灯不亮",
            "description": "解放南路一排路灯晚上都不亮，已经一周了，走夜路很危险。",
            "public_location": "解放南路",
            "latitude": 35.0050,
            "longitude": 111.0110,
        },
        id="same-text-other-road-far-apart",
    ),
    pytest.param(
        ("sanitation", CaseKind.HELP),
        S.NEW,
        RUBBISH_FILED,
        "sanitation",
        {
            "title": "菜市场门口垃圾没人清理",
            "description": "中银大道菜市场门口的垃圾堆了好几天没人清运，气味很大。",
            "public_location": "中银大道",
        },
        id="same-text-other-road",
    ),
    pytest.param(
        ("bus-stop", CaseKind.HELP),
        S.CLOSED,
        BUS_STOP_FILED,
        "bus-stop",
        BUS_STOP_FILING,
        id="closed",
    ),
    pytest.param(
        ("road-damage", CaseKind.HELP),
        S.RESOLVED,
        PAVEMENT_FILED,
        "road-damage",
        PAVEMENT_FILING,
        id="resolved",
    ),
    pytest.param(
        ("sanitation", CaseKind.HELP),
        S.WITHDRAWN,
        RUBBISH_FILED,
        "sanitation",
        RUBBISH_FILING,
        id="withdrawn",
    ),
    pytest.param(
        ("water", CaseKind.HELP),
        S.REJECTED,
        WATER_CUT_FILED,
        "water",
        WATER_CUT_FILING,
        id="rejected",
    ),
    pytest.param(
        ("petition", CaseKind.PETITION),
        S.IN_PROGRESS,
        COMPENSATION_FILED,
        "petition",
        COMPENSATION_FILING,
        id="petition",
    ),
    pytest.param(
        ("illegal-building", CaseKind.REPORT),
        S.NEW,
        BUILDING_FILED,
        "illegal-building",
        BUILDING_FILING,
        id="report",
    ),
    pytest.param(
        ("road-damage", CaseKind.HELP),
        S.NEW,
        PAVEMENT_FILED,
        "road-damage",
        {
            "title": "井盖丢失",
            "description": "红旗西街中段一个井盖不见了，晚上路过很危险。",
            "public_location": "红旗西街",
        },
        id="same-road-other-problem",
    ),
    pytest.param(
        ("bus-stop", CaseKind.HELP),
        S.NEW,
        BUS_STOP_FILED,
        "bus-stop",
        {
            "title": "公交车经常晚点",
            "description": "圣惠路上的12路公交车经常晚点，等车要四十分钟。",
            "public_location": "圣惠路",
        },
        id="same-road-other-bus-problem",
    ),
    pytest.param(
        ("street-light", CaseKind.HELP),
        S.NEW,
        LIGHTS_FILED,
        "street-light",
        {
            "title": "路灯白天不灭",
            "description": "人民路的路灯白天也一直亮着，浪费电。",
            "public_location": "人民路",
        },
        id="same-road-lights-on-by-day",
    ),
    pytest.param(
        ("street-light", CaseKind.HELP),
        S.NEW,
        LIGHTS_FILED,
        "street-light",
        {
            "title": "小区门口路灯不亮",
            "description": "我们小区门口的路灯晚上不亮，请派人修一下。",
            "public_location": "",
        },
        id="no-place-text-not-close-enough",
    ),
]


@pytest.fixture
def yongji(app_ctx: object, demo_base: None) -> Department:
    """A second district beside the demo base's 盐湖区."""
    district = new_department("yjs", "永济市政府", "Yongji City Government")
    db.session.commit()
    return district


def category_id(code: str) -> int:
    found = db.session.scalar(sa.select(Category.id).where(Category.service_code == code))
    assert found is not None, code
    return found


def existing_case(
    category: str, status: CaseStatus, fields: dict[str, Any], kind: CaseKind = CaseKind.HELP
) -> Case:
    """A case filed through the web form and brought to ``status`` by the services."""
    fields = dict(fields)
    district = fields.pop("district", None)
    case = case_in(status, kind=kind, category=category, **fields)
    if district:
        case.district_department_id = department(district).id
        db.session.commit()
    return case


def offered(category: str, filing: dict[str, Any], **options: Any) -> list[Match]:
    fields = dict(filing)
    district = fields.pop("district", None)
    return possible_duplicates(
        category_id(category),
        district_department_id=department(district).id if district else None,
        **fields,
        **options,
    )


@with_cases
@pytest.mark.parametrize(("category", "status", "filed", "filing", "reason"), MUST_MATCH)
def test_an_open_case_that_looks_the_same_is_offered(
    category: str,
    status: CaseStatus,
    filed: dict[str, Any],
    filing: dict[str, Any],
    reason: str,
) -> None:
    case = existing_case(category, status, filed)
    matches = offered(category, filing)
    assert [m.case.id for m in matches] == [case.id], matches
    assert reason in matches[0].reason
    assert 0 < matches[0].score <= 1


@with_cases
@pytest.mark.parametrize(("filed_as", "status", "filed", "category", "filing"), MUST_NOT_MATCH)
def test_a_case_that_differs_in_what_counts_is_not_offered(
    filed_as: tuple[str, CaseKind],
    status: CaseStatus,
    filed: dict[str, Any],
    category: str,
    filing: dict[str, Any],
) -> None:
    filed_category, kind = filed_as
    existing_case(filed_category, status, filed, kind)
    assert offered(category, filing) == []


def test_the_tables_hold_at_least_ten_pairs_each() -> None:
    """The acceptance criterion of duplicate detection."""
    assert len(MUST_MATCH) >= 10
    assert len(MUST_NOT_MATCH) >= 10


@with_cases
def test_best_match_first_within_the_limit() -> None:
    weak = existing_case(
        "road-damage",
        S.NEW,
        {
            "title": "人行道有点不平",
            "description": "红旗西街人行道个别地砖松动，走路要小心。",
            "public_location": "红旗西街",
        },
    )
    best = existing_case(
        "road-damage",
        S.NEW,
        {
            "title": "人行道地砖翘起",
            "description": "红旗西街人行道地砖松动翘起，昨天有老人差点绊倒。",
            "public_location": "红旗西街",
        },
    )
    middle = existing_case("road-damage", S.DISPATCHED, PAVEMENT_FILED)
    matches = offered("road-damage", PAVEMENT_FILING)
    assert [m.case.id for m in matches] == [best.id, middle.id, weak.id]
    assert matches[0].score > matches[1].score > matches[2].score
    limited = offered("road-damage", PAVEMENT_FILING, limit=2)
    assert [m.case.id for m in limited] == [best.id, middle.id]


@with_cases
def test_the_reason_names_the_place_and_the_shared_words() -> None:
    existing_case("bus-stop", S.NEW, BUS_STOP_FILED)
    [match] = offered("bus-stop", BUS_STOP_FILING)
    assert match.reason.startswith("same road 圣惠路; shared words: ")
    assert "公交站" in match.reason
    assert "shared place names: 羊驮寺村" in match.reason


@with_cases
def test_one_query_however_many_candidates() -> None:
    for _ in range(3):
        existing_case("road-damage", S.NEW, PAVEMENT_FILED)
    road_damage = category_id("road-damage")
    selects: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        matches = possible_duplicates(road_damage, **PAVEMENT_FILING)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(matches) == 3
    assert len(selects) == 1, selects


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        pytest.param("圣惠路", "圣惠路 ", True, id="trailing-space"),
        pytest.param("圣惠路", "盐湖区圣惠路", True, id="district-prefix"),
        pytest.param("圣惠路", "运城市盐湖区圣惠路北段", True, id="city-prefix-and-section"),
        pytest.param("圣惠路", "圣惠路口", True, id="road-mouth"),
        pytest.param("人民路", "人民路（北段）", True, id="section-in-brackets"),
        pytest.param("工农街", "圣惠路与工农街交叉口", True, id="crossing"),
        pytest.param("工农街", "工农街十字路口", True, id="crossroads"),
        pytest.param("中银路", "中银大道", True, id="road-and-avenue"),
        pytest.param("学苑路", "学苑路88号", True, id="house-number"),
        pytest.param("康杰小区", "康杰小区3号楼", True, id="estate-building"),
        pytest.param("和平路", "盐湖区和平路", True, id="road-named-with-and"),
        pytest.param("圣惠路", "工农街和圣惠路", True, id="two-roads-joined-by-and"),
        pytest.param("圣惠路", "工农街", False, id="other-road"),
        pytest.param("红旗西街", "红旗东街", False, id="west-and-east"),
        pytest.param("红旗西街", "红旗街", False, id="west-and-plain"),
        pytest.param("圣惠路", "", False, id="none-given"),
    ],
)
def test_road_names(first: str, second: str, same: bool) -> None:
    assert bool(road_names(first).keys() & road_names(second).keys()) is same


def test_metres_apart() -> None:
    # 0.001° of latitude is about 111 m everywhere.
    assert metres_apart(35.0, 111.0, 35.001, 111.0) == pytest.approx(111.2, abs=0.5)
    assert metres_apart(35.0264, 111.0068, 35.0264, 111.0068) == 0
