"""The public catalogue: categories grouped and filtered as the public sees them, one
active category with its questions, and the districts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.demo.base import CATEGORIES
from caseapp.extensions import db
from caseapp.models import Category
from caseapp.services.filing.catalog import (
    active_category,
    districts,
    public_category_groups,
)
from tests.factories import department, new_department

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def category(code: str) -> Category:
    found = db.session.scalar(sa.select(Category).where(Category.service_code == code))
    assert found is not None, code
    return found


def shown(lang: str = "zh", query: str = "") -> list[tuple[str, list[str]]]:
    return [
        (group.name, [c.service_code for c in group.categories])
        for group in public_category_groups(lang, query)
    ]


def demo_groups(lang: str) -> list[tuple[str, list[str]]]:
    """The demo catalogue's groups in the order it lists its categories."""
    groups: dict[str, list[str]] = {}
    for spec in CATEGORIES:
        groups.setdefault(spec.group[1 if lang == "en" else 0], []).append(spec.code)
    return list(groups.items())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_active_category_once_grouped_in_catalogue_order(
    app_ctx: Flask, demo_base: None, lang: str
) -> None:
    groups = shown(lang)
    assert groups == demo_groups(lang)
    assert groups[0] == (
        ("交通出行" if lang == "zh" else "Transport"),
        ["bus-stop", "road-damage", "street-light", "pedestrian-bridge"],
    )


def test_a_retired_category_is_left_out_and_an_emptied_group_with_it(
    app_ctx: Flask, demo_base: None
) -> None:
    category("street-light").retired_at = NOW
    db.session.commit()
    assert shown()[0] == ("交通出行", ["bus-stop", "road-damage", "pedestrian-bridge"])
    for code in ("bus-stop", "road-damage", "pedestrian-bridge"):
        category(code).retired_at = NOW
    db.session.commit()
    assert "交通出行" not in dict(shown())


def test_sort_order_decides_within_a_group_and_the_id_breaks_ties(
    app_ctx: Flask, demo_base: None
) -> None:
    category("pedestrian-bridge").sort_order = -1
    category("road-damage").sort_order = -1
    db.session.commit()
    assert shown()[0] == (
        "交通出行",
        ["road-damage", "pedestrian-bridge", "bus-stop", "street-light"],
    )


@pytest.mark.parametrize(
    ("lang", "query", "expected"),
    [
        ("zh", "照明", [("交通出行", ["street-light"])]),  # a keyword
        ("zh", "路灯故障", [("交通出行", ["street-light"])]),  # the Chinese name
        ("zh", "  Street LIGHTS ", [("交通出行", ["street-light"])]),  # English, any case
        ("en", "井盖", [("Transport", ["road-damage"])]),
        ("zh", "no such thing", []),
    ],
)
def test_a_query_keeps_the_categories_whose_words_contain_it(
    app_ctx: Flask, demo_base: None, lang: str, query: str, expected: list
) -> None:
    assert shown(lang, query) == expected


@pytest.mark.parametrize("query", ["交通出行", "transport"])
def test_a_query_naming_a_group_keeps_the_whole_group(
    app_ctx: Flask, demo_base: None, query: str
) -> None:
    assert shown("zh", query) == [demo_groups("zh")[0]]


def test_a_blank_query_keeps_everything(app_ctx: Flask, demo_base: None) -> None:
    assert shown("zh", "   ") == demo_groups("zh")


def test_active_category_comes_with_its_questions(app_ctx: Flask, demo_base: None) -> None:
    found = active_category("bus-stop")
    assert found is not None and found.service_code == "bus-stop"
    db.session.expunge_all()  # a lazy load now would fail: the questions are already there
    assert [q.code for q in found.questions] == ["route"]


def test_active_category_is_none_when_retired_or_unknown(app_ctx: Flask, demo_base: None) -> None:
    assert active_category("street-light") is not None
    category("street-light").retired_at = NOW
    db.session.commit()
    assert active_category("street-light") is None
    assert active_category("no-such-code") is None


def test_districts_are_the_departments_with_departments_below(
    app_ctx: Flask, demo_base: None
) -> None:
    assert [d.code for d in districts()] == ["yhq"]
    new_department("ych-a", "街道", "Street office", parent=department("zjj"))
    db.session.commit()
    assert [d.code for d in districts()] == ["zjj", "yhq"]


def test_a_retired_district_is_not_offered(app_ctx: Flask, demo_base: None) -> None:
    department("yhq").retired_at = NOW
    db.session.commit()
    assert districts() == []
