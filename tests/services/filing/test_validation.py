"""The checks every way of filing and every action share (issue 15): titles and names
that show something and read as they are, action texts without control characters,
filing dates in a plausible range, and ids read from text within the columns' range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from caseapp.extensions import db
from caseapp.models import Category
from caseapp.models.enums import CaseKind, CaseStatus, Channel, NotifyBy, RequestKind
from caseapp.services.casework import decisions
from caseapp.services.casework import handling as casework
from caseapp.services.casework.intake import optional_text, required_text
from caseapp.services.errors import ValidationFailed
from caseapp.services.filing.cases import NewCase, check_filing
from caseapp.services.filing.validation import has_bidi_controls, has_visible_characters
from caseapp.services.ledgers import items as ledgers
from caseapp.services.pages.queue import Cursor
from tests.factories import case_in, staff

CITY = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("圣惠路公交站", True),
        ("a", True),
        ("e\u0301", True),
        ("\u200b\u200d", False),  # zero-width space and joiner
        ("\ufeff\u2060", False),  # BOM, word joiner
        ("\u00ad\u034f", False),  # soft hyphen, combining grapheme joiner
        ("\u0301\u0302", False),  # combining marks with nothing to combine with
        ("\u3164\u3164", False),  # Hangul filler
        ("\u2800", False),  # Braille blank
        ("\u3000 \u00a0", False),  # spaces
        ("", False),
    ],
)
def test_visible_characters(text: str, visible: bool) -> None:
    assert has_visible_characters(text) is visible


@pytest.mark.parametrize(
    ("text", "bidi"),
    [
        ("标题", False),
        ("مرحبا", False),
        ("\u200f标题", False),  # a right-to-left mark is ordinary mixed text
        ("\u202e反转", True),  # right-to-left override
        ("\u202a", True),
        ("\u2066隔离\u2069", True),  # isolates
        ("\u2068", True),
    ],
)
def test_bidirectional_controls(text: str, bidi: bool) -> None:
    assert has_bidi_controls(text) is bidi


def _filing(**changes: object) -> NewCase:
    values: dict[str, object] = {
        "kind": CaseKind.HELP,
        "category_code": "road-damage",
        "title": "红旗西街人行道破损",
        "description": "红旗西街人行道砖块松动。",
        "citizen_name": "张秀英",
        "citizen_phone": "13812345678",
        "notify_by": NotifyBy.SMS,
        "consent_privacy": True,
        **changes,
    }
    return NewCase(**values)  # type: ignore[arg-type]


def _category() -> Category:
    import sqlalchemy as sa

    found = db.session.scalar(sa.select(Category).where(Category.service_code == "road-damage"))
    assert found is not None
    return found


def _local(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=CITY)


@pytest.mark.parametrize(
    ("changes", "staff_filing", "field", "reason"),
    [
        ({"title": "\u200b\u200b\u200b"}, False, "title", "no letters or digits"),
        ({"title": "\u3164"}, False, "title", "no letters or digits"),
        ({"title": "\u202egpj.exe 公交站"}, False, "title", "not allowed"),
        ({"title": "公交站\u2066x\u2069"}, True, "title", "not allowed"),
        ({"citizen_name": "\u202e英秀张"}, False, "citizen_name", "not allowed"),
        ({"citizen_name": "\u200b\u200b"}, True, "citizen_name", "no letters"),
        ({"received_at": _local(1, 1, 1)}, True, "received_at", "before 2000-01-01"),
        ({"received_at": _local(1999, 12, 31)}, True, "received_at", "before 2000-01-01"),
        ({"received_at": NOW + timedelta(days=1)}, True, "received_at", "in the future"),
    ],
)
def test_a_filing_is_refused_on_its_field(
    app_ctx: Flask,
    demo_base: None,
    changes: dict[str, object],
    staff_filing: bool,
    field: str,
    reason: str,
) -> None:
    """One check serves the web form, staff intake and the API (``check_filing``)."""
    with pytest.raises(ValidationFailed) as refused:
        check_filing(_filing(**changes), _category(), staff_filing, NOW)
    assert reason in str(refused.value.field_errors[field])


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "e\u0301 路灯"},
        {"title": "\u200f路灯"},
        {"received_at": _local(2000, 1, 1)},
    ],
)
def test_a_plausible_filing_passes(app_ctx: Flask, demo_base: None, changes: dict) -> None:
    check_filing(_filing(channel=Channel.WINDOW, **changes), _category(), True, NOW)


def test_the_earliest_filing_date_is_a_setting(app_ctx: Flask, demo_base: None) -> None:
    app_ctx.config["FILING_EARLIEST_DATE"] = "2020-01-01"
    try:
        with pytest.raises(ValidationFailed) as refused:
            check_filing(_filing(received_at=_local(2019, 12, 31)), _category(), True, NOW)
        assert "before 2020-01-01" in str(refused.value.field_errors["received_at"])
    finally:
        app_ctx.config["FILING_EARLIEST_DATE"] = "2000-01-01"


@pytest.mark.parametrize(
    "text", ["已联系\x00市民", "\x01", "红\x1b[31m", "a\x7fb", "a\x85b", "\x9f"]
)
def test_an_action_text_with_control_characters_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        required_text(text, "note")
    assert "not allowed" in str(refused.value.field_errors["note"])
    with pytest.raises(ValidationFailed):
        optional_text(text, "note")


def test_an_action_text_keeps_tabs_and_lines() -> None:
    assert required_text(" 第一行\r\n\t第二行 ", "note") == "第一行\n\t第二行"
    assert optional_text("  ", "note") == ""


def test_a_decision_note_with_a_control_character_changes_nothing(
    app_ctx: Flask, demo_base: None
) -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    casework.request_extension(case, staff("handler"), 3, "需要协调。", version=None)
    version = case.version
    with pytest.raises(ValidationFailed):
        decisions.decide_request(
            RequestKind.EXTENSION, case, staff("supervisor"), True, "同意\x07", version=None
        )
    db.session.rollback()
    assert case.version == version


@pytest.mark.parametrize(
    "text",
    [
        "1.9999999999999999999",
        f"1.{2**31}",
        f"n.{2**70}",
        f"{2**70}.1",
        "-5.1",
        "1_0.1",
        "x.1",
        "1.",
        "",
    ],
)
def test_a_queue_position_out_of_range_names_none(text: str) -> None:
    with pytest.raises(ValidationFailed):
        Cursor.decode(text)


def test_a_queue_position_reads_back() -> None:
    cursor = Cursor(datetime(2026, 6, 1, 4, 0, tzinfo=UTC), 12)
    assert Cursor.decode(cursor.encode()) == cursor
    assert Cursor.decode("n.7") == Cursor(None, 7)


@pytest.mark.parametrize("reference", [f"#{2**70}", "99999999999999999999", "#²", "#-1"])
def test_a_ledger_item_number_out_of_range_names_none(
    app_ctx: Flask, demo_base: None, reference: str
) -> None:
    with pytest.raises(ValidationFailed):
        ledgers.find_item(reference)
