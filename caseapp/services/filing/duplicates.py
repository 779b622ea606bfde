"""Possible duplicates of a filing (DESIGN §7): before a case is saved, open cases of the
same category that look the same, in text and place, are offered ("follow this case
instead").

Place first. A candidate in another district is never offered. It must be on the same
road (the public location, normalised) or, where both give coordinates, within 500 m.
Where the places cannot be compared (one gives none, or one a road and the other only
coordinates), the text of one may name the other's road; failing that, text alone may
match, at a higher threshold.

Then text. Chinese has no spaces, so words are character bigrams (and Latin or number
tokens), taken after punctuation, filler characters, stock phrases and the request's
own road are removed (the road is its place, not its words). The score is a weighted
overlap coefficient: the share of the shorter request's words that the other has too,
a title word counting twice. Each village, estate or park named by both adds a bonus.
A match's ``reason`` names the place, the shared words and the shared place names.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

import sqlalchemy as sa

from caseapp.db_setup import transaction_lock
from caseapp.extensions import db
from caseapp.models import Case
from caseapp.models.enums import CONFIDENTIAL_KINDS, WORKED_STATUSES

# The statuses a case is being worked in, so a citizen can still join it; the statuses
# ``intake.merge_case`` accepts as the case merged into. A resolved case is waiting for
# its rating: a new filing about it is a new matter (or a reason to reopen).

CANDIDATE_CAP = 200  # the newest open cases of the category that are scored
NEARBY_METRES = 500.0
PLACE_THRESHOLD = 0.4  # text score needed at the same place
TEXT_ONLY_THRESHOLD = 0.65  # text score needed when the place cannot be compared
TITLE_WEIGHT = 2
MIN_WEIGHT = 6  # a request of one or two words cannot make a full overlap on its own
PLACE_NAME_BONUS = 0.15  # per village, estate or park named by both
PLACE_NAME_BONUS_MAX = 0.3
EARTH_RADIUS_METRES = 6_371_008.8
SHOWN_WORDS = 5
# The gist of a request comes first; comparing no more keeps 200 candidates quick.
DESCRIPTION_COMPARED = 1000
SAME, ELSEWHERE, UNKNOWN = "same", "elsewhere", "unknown"

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")

# Stock phrases of citizens' requests that say nothing about the matter itself.
FILLER_PHRASES = (
    "安全隐患",
    "老百姓",
    "能不能",
    "问题",
    "反映",
    "反应",
    "希望",
    "要求",
    "请求",
    "现在",
    "目前",
    "已经",
    "一直",
    "附近",
    "这里",
    "那里",
    "这边",
    "这个",
    "那个",
    "情况",
    "麻烦",
    "尽快",
    "及时",
    "解决",
    "处理",
    "相关",
    "部门",
    "领导",
    "政府",
    "市民",
    "群众",
    "居民",
    "百姓",
    "严重",
    "影响",
    "非常",
    "特别",
    "很多",
    "不便",
    "存在",
    "导致",
    "造成",
    "能否",
    "是否",
    "谢谢",
    "感谢",
    "你好",
    "您好",
    "一下",
    "多次",
)
# Characters that glue a sentence together; each one ends a run of words. (Not 都: 禹都.)
FILLER_CHARACTERS = "了的是在请我们有被没一个也就很还又这那啊吧呢吗呀哦和与及把给对让您你他她它已"
_FILLER = re.compile(
    "|".join(sorted(FILLER_PHRASES, key=len, reverse=True)) + f"|[{FILLER_CHARACTERS}]"
)

# Place names: a village, estate, park, market, school ... and the name before it.
PLACE_SUFFIXES = (
    "小区",
    "社区",
    "公园",
    "广场",
    "花园",
    "家园",
    "市场",
    "小学",
    "中学",
    "学校",
    "医院",
    "大厦",
    "村",
    "苑",
)
_PLACE_SUFFIX = re.compile("|".join(PLACE_SUFFIXES))
# Characters that cannot be part of a place's name ("我家在…村", "本村", "该小区").
PLACE_NAME_BREAKS = (
    "了的是在请我们有被没个也就很还这那和与及把给对您你他她它已住家于到从向往离近本该全各每此咱邻"
)
_NOT_IN_PLACE_NAME = re.compile(rf"[^{_CJK}]|[{PLACE_NAME_BREAKS}]")
GENERIC_PLACES = frozenset({"农村", "乡村", "山村"})
PLACE_NAME_CHARS = 4

# Roads: "运城市盐湖区圣惠路北段" and "圣惠路口" are both 圣惠路; 圣惠路 and 圣惠大道 are
# taken as the same road, 红旗西街 and 红旗东街 are not.
ROAD_SUFFIXES = ("大道", "大街", "路", "街", "道", "巷")
# 与/和/及 join two roads only after a road's suffix: 和平路 is one road.
_ROAD_SEPARATOR = re.compile(r"[、/,，;；]|(?<=[路街道巷])[与和及]|交汇处")
_ADMIN_PREFIX = re.compile(
    rf"^(?:[{_CJK}]{{2,3}}省)?(?:[{_CJK}]{{2,3}}市)?(?:[{_CJK}]{{1,3}}[区县])?"
)
_POSITION_SUFFIX = re.compile(
    r"(?:十字路口|交叉口|(?<=[路街道巷])口|[东南西北中]?段|[东南西北]侧|附近|一带|沿线|旁边?|对面"
    r"|\d+号院?|\d+号楼|\d+)$"
)


@dataclass(frozen=True)
class Match:
    """An open case offered as the one a filing duplicates."""

    case: Case
    score: float
    reason: str


def take_turn_to_file(category_id: int, title: str, phone: str) -> None:
    """Hold a lock on this filing (its category, title and phone) until the transaction
    ends: the same filing sent again before the first was saved (a double submit, a
    second browser) waits, then is offered the first instead of filing it again. On
    PostgreSQL both had passed the check for look-alikes before either was saved; on
    SQLite a writing request's lock already made them take turns (``db_setup``).
    Different filings do not wait on each other."""
    transaction_lock(f"filing:{category_id}:{title.strip()}:{phone.strip()}")


def possible_duplicates(
    category_id: int,
    title: str,
    description: str,
    *,
    public_location: str = "",
    district_department_id: int | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    limit: int = 5,
) -> list[Match]:
    """The open cases of ``category_id`` that look like this filing, best first.

    Petitions, reports and cases whose identity is confidential are never offered
    (``workflow.citizen_access.may_be_followed``): their filers are confidential.
    """
    filing = _Request.of(
        title, description, public_location, district_department_id, latitude, longitude
    )
    query = (
        sa.select(Case)
        .where(
            Case.category_id == category_id,
            Case.status.in_(sorted(WORKED_STATUSES)),
            Case.kind.not_in(sorted(CONFIDENTIAL_KINDS)),
            Case.identity_confidential.is_(False),
        )
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(CANDIDATE_CAP)
    )
    if district_department_id is not None:
        query = query.where(
            sa.or_(
                Case.district_department_id == district_department_id,
                Case.district_department_id.is_(None),
            )
        )
    matches = []
    for case in db.session.scalars(query):
        match = _compare(filing, case)
        if match is not None:
            matches.append(match)
    # Stable: among equal scores the newest case stays first.
    matches.sort(key=lambda m: m.score, reverse=True)
    return matches[:limit]


def road_names(public_location: str) -> dict[str, str]:
    """The roads a public location names, as {key compared: name shown}.

    "盐湖区圣惠路北段" gives {"圣惠": "圣惠路"}; "圣惠路与工农街交叉口" gives both roads.
    """
    text = re.sub(r"\s+", "", _normalise(public_location))
    roads: dict[str, str] = {}
    for piece in _ROAD_SEPARATOR.split(text):
        name = re.sub(r"[^\w]", "", piece)
        local = _ADMIN_PREFIX.sub("", name)
        if local != name and any(suffix in local for suffix in ROAD_SUFFIXES):
            name = local  # "盐湖区圣惠路", but not "康杰小区"
        while (shorter := _POSITION_SUFFIX.sub("", name)) != name and shorter:
            name = shorter
        if len(name) < 2:
            continue
        key = name
        for suffix in ROAD_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                key = name[: -len(suffix)]
                break
        roads.setdefault(key, name)
    return roads


def metres_apart(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class _Request:
    """What is compared of a filing or a case."""

    text: str  # normalised title and description, for "the road is named in the text"
    runs: tuple[str, ...]  # word runs of the title, then of the description
    weights: dict[str, int]  # word -> 2 if in the title, else 1
    places: tuple[tuple[str, str], ...]  # (name before the suffix, suffix)
    roads: dict[str, str]
    district_id: int | None
    point: tuple[float, float] | None

    @classmethod
    def of(
        cls,
        title: str,
        description: str,
        public_location: str,
        district_id: int | None,
        latitude: float | None,
        longitude: float | None,
    ) -> _Request:
        roads = road_names(public_location)
        text = _normalise(title) + "\n" + _normalise(description[:DESCRIPTION_COMPARED])
        title_text, body_text = text.split("\n", 1)
        # The request's own road is its place, not its words: two requests on 红旗西街
        # should not look alike because both say "红旗西街".
        for name in sorted(roads.values(), key=len, reverse=True):
            if not name.endswith(ROAD_SUFFIXES):
                continue  # "康杰小区" is a place, and a word worth sharing
            title_text = title_text.replace(name, " ")
            body_text = body_text.replace(name, " ")
        title_runs = _runs(title_text)
        body_runs = _runs(body_text)
        weights = dict.fromkeys(_words(body_runs), 1)
        weights.update(dict.fromkeys(_words(title_runs), TITLE_WEIGHT))
        point = (latitude, longitude) if latitude is not None and longitude is not None else None
        return cls(
            text=text,
            runs=title_runs + body_runs,
            weights=weights,
            places=_place_names(title_text + "\n" + body_text),
            roads=roads,
            district_id=district_id,
            point=point,
        )


def _compare(filing: _Request, case: Case) -> Match | None:
    other = _Request.of(
        case.title,
        case.description,
        case.public_location,
        case.district_department_id,
        case.latitude,
        case.longitude,
    )
    if (
        filing.district_id is not None
        and other.district_id is not None
        and filing.district_id != other.district_id
    ):
        return None
    place, how = _same_place(filing, other)
    if place == ELSEWHERE:
        return None
    shared = filing.weights.keys() & other.weights.keys()
    weight = sum(min(filing.weights[w], other.weights[w]) for w in shared)
    smaller = min(sum(filing.weights.values()), sum(other.weights.values()))
    text_score = weight / max(smaller, MIN_WEIGHT)
    names = _shared_place_names(filing.places, other.places)
    bonus = min(PLACE_NAME_BONUS * len(names), PLACE_NAME_BONUS_MAX)
    score = min(text_score + bonus, 1.0)
    threshold = PLACE_THRESHOLD if place == SAME else TEXT_ONLY_THRESHOLD
    if score < threshold:
        return None
    reasons = [how or "place not known, text only"]
    if shared:
        reasons.append("shared words: " + ", ".join(_shared_phrases(filing.runs, shared)))
    if names:
        reasons.append("shared place names: " + ", ".join(names))
    return Match(case=case, score=round(score, 3), reason="; ".join(reasons))


def _same_place(filing: _Request, other: _Request) -> tuple[str, str]:
    """Whether the two are at the same place: ("same", how), ("elsewhere", "") or
    ("unknown", "") when it cannot be told."""
    if filing.roads and other.roads:
        common = filing.roads.keys() & other.roads.keys()
        if common:
            name = filing.roads[min(common)]
            return SAME, ("same road " if name.endswith(ROAD_SUFFIXES) else "same place ") + name
    both_points = filing.point is not None and other.point is not None
    if both_points:
        distance = metres_apart(*filing.point, *other.point)
        if distance <= NEARBY_METRES:
            return SAME, f"{distance:.0f} m apart"
    if (filing.roads and other.roads) or both_points:
        return ELSEWHERE, ""
    # Nothing to compare (no place given, or a road on one side and coordinates on the
    # other): the text of one may still name the other's road.
    for roads, text in ((other.roads, filing.text), (filing.roads, other.text)):
        for name in roads.values():
            if name in text:
                return SAME, f"{name} named in the text"
    return UNKNOWN, ""


def _normalise(text: str) -> str:
    """Full-width letters, digits and punctuation made plain (Ａ12 is a12), lines joined.

    Not NFKC: on a 4,000-character description it costs more than all the rest.
    """
    return (text or "").translate(_FULL_WIDTH).lower().replace("\n", " ")


def _runs(text: str) -> tuple[str, ...]:
    """Runs of Chinese characters and Latin or number tokens, fillers taken out."""
    return tuple(_WORD_RUN.findall(_FILLER.sub(" ", text)))


def _words(runs: tuple[str, ...]) -> set[str]:
    """Latin and number tokens whole, Chinese runs as their character bigrams."""
    words: set[str] = set()
    for run in runs:
        if run.isascii():
            words.add(run)
        else:
            words.update(map(operator.add, run, run[1:]))
    return words


def _shared_phrases(runs: tuple[str, ...], shared: set[str]) -> list[str]:
    """Shared words joined back into the filing's phrases: 公交 + 交站 -> 公交站."""
    phrases: list[str] = []
    for run in runs:
        if run.isascii():
            if run in shared:
                phrases.append(run)
            continue
        i = 0
        while i < len(run) - 1:
            if run[i : i + 2] not in shared:
                i += 1
                continue
            end = i + 1
            while end < len(run) - 1 and run[end : end + 2] in shared:
                end += 1
            phrases.append(run[i : end + 1])
            i = end
    unique: list[str] = []
    for phrase in sorted(dict.fromkeys(phrases), key=len, reverse=True):
        if not any(phrase in kept for kept in unique):
            unique.append(phrase)
    unique.sort(key=phrases.index)
    return unique[:SHOWN_WORDS]


def _place_names(text: str) -> tuple[tuple[str, str], ...]:
    """Every place suffix in the text with the (up to four) name characters before it."""
    found: list[tuple[str, str]] = []
    for match in _PLACE_SUFFIX.finditer(text):
        before = text[max(0, match.start() - PLACE_NAME_CHARS) : match.start()]
        name = _NOT_IN_PLACE_NAME.split(before)[-1]
        name = name.rsplit("村", 1)[-1]  # 本村村民: no name
        suffix = match.group()
        if name and name + suffix not in GENERIC_PLACES:
            found.append((name, suffix))
    return tuple(found)


def _shared_place_names(
    ours: tuple[tuple[str, str], ...], theirs: tuple[tuple[str, str], ...]
) -> list[str]:
    """Place names in both: same suffix, and the names end alike in at least two
    characters or in the whole of the shorter name (张家村 and 李家村 do not)."""
    shared: list[str] = []
    for name, suffix in ours:
        for other_name, other_suffix in theirs:
            if suffix != other_suffix:
                continue
            common = _common_ending(name, other_name)
            if len(common) >= 2 or (common and len(common) == min(len(name), len(other_name))):
                place = common + suffix
                if place not in shared:
                    shared.append(place)
    return shared


def _common_ending(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return a[len(a) - n :]
