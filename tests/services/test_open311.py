"""The Open311 use cases' own rules: the query window, the attribute answers, reading
the parameters of a filing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Category, CategoryQuestion
from caseapp.models.enums import CaseStatus, QuestionType
from caseapp.services import open311
from caseapp.services.errors import ValidationFailed
from tests.factories import case_in

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_without_dates_the_window_is_the_last_90_days() -> None:
    query = open311.request_query({}, NOW)
    assert (query.start, query.end) == (NOW - timedelta(days=90), NOW)


@pytest.mark.parametrize(
    ("params", "start", "end"),
    [
        ({"start_date": "2026-10-01T00:00:00+08:00"}, "2026-09-30T16:00:00+00:00", "2026-12-29T16:00:00+00:00"),
        ({"end_date": "2026-10-01T00:00:00Z"}, "2026-07-03T00:00:00+00:00", "2026-10-01T00:00:00+00:00"),
        (
            {"start_date": "2026-09-01T00:00:00Z", "end_date": "2026-11-30T00:00:00Z"},
            "2026-09-01T00:00:00+00:00",
            "2026-11-30T00:00:00+00:00",
        ),
    ],
)  # fmt: skip
def test_one_date_gives_the_other_90_days_away(
    params: dict[str, str], start: str, end: str
) -> None:
    query = open311.request_query(params, NOW)
    assert query.start == datetime.fromisoformat(start)
    assert query.end == datetime.fromisoformat(end)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2026-11-01T00:00:00"}, "start_date"),  # no offset
        ({"end_date": "2026-13-01T00:00:00Z"}, "end_date"),
        ({"end_date": "0001-01-01T00:00:00Z"}, "end_date"),  # 90 days before would overflow
        ({"start_date": "9999-12-31T00:00:00+08:00"}, "start_date"),
        ({"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}, "end_date"),
        ({"status": "open,pending"}, "status"),
        ({"service_request_id": ",".join(f"YC2026-{n:06d}" for n in range(1001))}, "service_request_id"),
    ],
)  # fmt: skip
def test_a_query_out_of_bounds_is_refused_by_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        open311.request_query(params, NOW)
    assert list(refused.value.field_errors) == [field]


def test_ids_make_the_other_filters_ignored() -> None:
    query = open311.request_query(
        {"service_request_id": " YC2026-000001,YC2026-000002,,YC2026-000001", "status": "bad"},
        NOW,
    )
    assert query.ids == ("YC2026-000001", "YC2026-000002")
    assert query.start is None and not query.statuses


def test_status_and_codes_are_comma_lists() -> None:
    query = open311.request_query({"status": "Open, closed", "service_code": "water,bus-stop"}, NOW)
    assert query.statuses == {"open", "closed"}
    assert query.service_codes == ("water", "bus-stop")


def _category() -> Category:
    """A category with one question of every datatype, built in memory."""
    choices = [
        {"key": "lt100", "name_zh": "DN100以下", "name_en": "Below DN100"},
        {"key": "ge100", "name_zh": "DN100及以上", "name_en": "DN100 or larger"},
    ]
    kinds = [
        ("pipe", QuestionType.SINGLEVALUELIST, True, choices),
        ("rooms", QuestionType.MULTIVALUELIST, False, choices),
        ("count", QuestionType.NUMBER, False, []),
        ("seen", QuestionType.DATETIME, False, []),
        ("route", QuestionType.STRING, False, []),
        ("story", QuestionType.TEXT, False, []),
        ("old", QuestionType.STRING, True, []),
    ]
    category = Category(service_code="water", name_zh="供水", name_en="Water")
    category.questions = [
        CategoryQuestion(
            code=code,
            label_zh=code,
            label_en=code,
            datatype=kind,
            required=required,
            sort_order=n,
            choices=values,
            retired_at=NOW if code == "old" else None,
        )
        for n, (code, kind, required, values) in enumerate(kinds)
    ]
    return category


def test_answers_of_every_datatype_are_kept() -> None:
    answers = open311.check_answers(
        _category(),
        {
            "pipe": ["lt100"],
            "rooms": ["lt100", "ge100", "lt100"],
            "count": ["2.5"],
            "seen": ["2026-11-27T09:00:00+08:00"],
            "route": [" 11路 "],
            "story": ["第一行\n第二行"],
            "unasked": ["ignored"],
        },
    )
    assert answers == {
        "pipe": "lt100",
        "rooms": ["lt100", "ge100"],
        "count": "2.5",
        "seen": "2026-11-27T09:00:00+08:00",
        "route": "11路",
        "story": "第一行\n第二行",
    }


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({}, "attribute[pipe]"),  # required; the retired required question is not asked
        ({"pipe": ["dn200"]}, "attribute[pipe]"),
        ({"pipe": ["lt100", "ge100"]}, "attribute[pipe]"),
        ({"pipe": ["lt100"], "rooms": ["lt100", "attic"]}, "attribute[rooms]"),
        ({"pipe": ["lt100"], "count": ["two"]}, "attribute[count]"),
        ({"pipe": ["lt100"], "count": ["NaN"]}, "attribute[count]"),
        ({"pipe": ["lt100"], "seen": ["2026-11-27 09:00"]}, "attribute[seen]"),
        ({"pipe": ["lt100"], "route": ["x" * 201]}, "attribute[route]"),
        ({"pipe": ["lt100"], "story": ["x" * 1001]}, "attribute[story]"),
        ({"pipe": ["lt100"], "route": ["a\x07b"]}, "attribute[route]"),
    ],
)
def test_answers_are_checked_against_the_questions(given: dict[str, list[str]], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        open311.check_answers(_category(), given)
    assert list(refused.value.field_errors) == [field]


def test_a_filing_reads_known_fields_and_attributes_only() -> None:
    filing = open311.ApiRequest.from_params(
        [
            ("service_code", "water"),
            ("description", "水表漏水"),
            ("attribute[pipe]", "lt100"),
            ("attribute[rooms][]", "lt100"),
            ("attribute[rooms][]", "ge100"),
            ("attribute[]", "no code"),
            ("jurisdiction_id", "yuncheng"),
            ("FILINGS", "not a field"),
            (None, "a part without a name"),  # type: ignore[list-item]
        ]
    )
    assert filing.service_code == "water" and filing.description == "水表漏水"
    assert filing.attributes == {"pipe": ["lt100"], "rooms": ["lt100", "ge100"]}
    assert not hasattr(filing, "jurisdiction_id")


@pytest.mark.parametrize(
    ("description", "title"),
    [
        ("水表漏水", "水表漏水"),
        ("第一行\n第二行", "第一行"),
        ("很" * 60, "很" * 39 + "…"),
    ],
)
def test_the_title_is_the_first_line_shortened(description: str, title: str) -> None:
    assert open311.filing_title(description) == title


def _selects_for_listing() -> int:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        listed = open311.find_requests(open311.request_query({}, datetime.now(UTC)))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert listed
    return sum(s.lstrip().upper().startswith("SELECT") for s in statements)


def test_listing_requests_costs_the_same_queries_for_few_cases_as_for_many(
    app_ctx: Flask, demo_base: None
) -> None:
    """Nothing is loaded case by case: department, category, clocks and filing come
    with the list."""
    case_in(CaseStatus.NEW)
    case_in(CaseStatus.IN_PROGRESS)
    few = _selects_for_listing()
    for status in [CaseStatus.NEW, CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED] * 3:
        case_in(status)
    db.session.expunge_all()
    assert _selects_for_listing() == few


@pytest.mark.parametrize("text", ["", "\x00", "YC2026-000001\x00", "x" * 65, "a\nb"])
def test_what_cannot_be_an_identifier_names_nothing(text: str) -> None:
    assert not open311.usable_identifier(text)
