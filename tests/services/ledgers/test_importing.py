"""Importing a ledger from XLSX (DESIGN §5): every problem named by row and column, and
nothing imported while any row is wrong."""

from __future__ import annotations

import io
import os
import time as clock
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from openpyxl import Workbook, load_workbook

from caseapp.extensions import db
from caseapp.models import Ledger, LedgerItem, LedgerItemEvent
from caseapp.models.enums import LedgerItemStatus, LedgerKind
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.ledgers import importing
from tests import factories
from tests.factories import user

HEADINGS_ZH = [column.zh for column in importing.COLUMNS]
HEADINGS_EN = [column.en for column in importing.COLUMNS]
KEYS = [column.key for column in importing.COLUMNS]
NOW = datetime(2024, 6, 1, 4, 0, tzinfo=UTC)

GOOD: dict[str, Any] = {
    "code": "LJZ-001",
    "title": "圣惠路村口公交站台缺失",
    "category": "市政设施",
    "department": "市住房和城乡建设局",
    "leader": "leader",
    "target_date": date(2024, 12, 31),
    "status": "推进中",
    "written_off_on": None,
    "note": "一案一策：与公交公司会商选址。",
}


def row(**changes: Any) -> list[Any]:
    """A good row with some cells changed (by column key)."""
    values = {**GOOD, **changes}
    return [values[key] for key in KEYS]


def xlsx(rows: list[list[Any]], headings: list[Any] | None = None, above: int = 0) -> bytes:
    """A workbook whose first sheet has ``above`` title rows, the headings, then rows."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for _ in range(above):
        sheet.append(["我为群众办实事台账"])
    sheet.append(HEADINGS_ZH if headings is None else headings)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def ledger(app_ctx: Flask, demo_base: None) -> Ledger:
    return factories.ledger(
        "old",
        LedgerKind.LEGACY,
        "理旧账",
        "Old accounts",
        categories=(
            ("land", "征地拆迁", "Land and demolition"),
            ("works", "市政设施", "Public works"),
        ),
    )


def errors_of(preview: importing.ImportPreview) -> list[tuple[int | None, str]]:
    return [(error.row, error.column) for error in preview.errors]


def items_of(ledger: Ledger) -> list[LedgerItem]:
    return list(
        db.session.scalars(
            sa.select(LedgerItem).where(LedgerItem.ledger_id == ledger.id).order_by(LedgerItem.id)
        )
    )


def actions(item: LedgerItem) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(LedgerItemEvent.action)
            .where(LedgerItemEvent.item_id == item.id)
            .order_by(LedgerItemEvent.id)
        )
    )


# --- one bad row among good ones --------------------------------------------------------

BAD_ROWS = [
    pytest.param({"title": None}, "事项", "no title", id="title missing"),
    pytest.param({"title": "   "}, "事项", "no title", id="title blank"),
    pytest.param({"title": "长" * 301}, "事项", "longer than 300", id="title too long"),
    pytest.param({"title": "路灯\x7f不亮"}, "事项", "control characters", id="control character"),
    pytest.param(
        {"title": importing.EXAMPLE_TITLES["zh"]}, "事项", "example row", id="template example"
    ),
    pytest.param({"category": None}, "类别", "no category", id="category missing"),
    pytest.param({"category": "教育"}, "类别", "no category 教育", id="category unknown"),
    pytest.param({"department": "市教育局"}, "责任单位", "市教育局", id="department unknown"),
    pytest.param({"leader": "handler"}, "包联领导", "handler", id="not a leader"),
    pytest.param({"leader": "周海"}, "包联领导", "周海", id="leader unknown"),
    pytest.param({"target_date": "2024-13-01"}, "目标日期", "YYYY-MM-DD", id="month 13"),
    pytest.param({"target_date": "年底前"}, "目标日期", "年底前", id="date as words"),
    pytest.param({"target_date": 45000}, "目标日期", "45000", id="date as a number"),
    pytest.param({"target_date": "0001-01-01"}, "目标日期", "1900-01-01", id="year 1"),
    pytest.param({"target_date": date(2500, 1, 1)}, "目标日期", "2199-12-31", id="year 2500"),
    pytest.param({"status": "已完成"}, "状态", "已完成", id="status unknown"),
    pytest.param({"status": "已销号"}, "销号日期", "needs the date", id="written off, no date"),
    pytest.param(
        {"written_off_on": date(2024, 5, 1)}, "销号日期", "Only a written-off", id="date, not off"
    ),
    pytest.param(
        {"status": "已销号", "written_off_on": date(2024, 6, 2)},
        "销号日期",
        "in the future",
        id="written off tomorrow",
    ),
    pytest.param({"code": "C" * 41}, "编号", "longer than 40", id="code too long"),
    pytest.param({"note": "备" * 4001}, "备注", "longer than 4000", id="note too long"),
]


@pytest.mark.parametrize(("changes", "column", "reason"), BAD_ROWS)
def test_a_bad_row_is_named_by_row_and_column_and_nothing_is_imported(
    ledger: Ledger, changes: dict[str, Any], column: str, reason: str
) -> None:
    data = xlsx([row(code="A1"), row(**{"code": "A2", **changes}), row(code="A3")])
    preview = importing.parse_workbook(data, ledger, NOW)
    assert errors_of(preview) == [(3, column)]
    assert reason in str(preview.errors[0].message)
    assert [r.row for r in preview.rows] == [2, 4]
    with pytest.raises(importing.ImportHasErrors):
        importing.import_items(ledger, preview, user("supervisor").id, NOW)
    assert items_of(ledger) == []


def test_every_problem_of_a_row_is_reported(ledger: Ledger) -> None:
    data = xlsx([row(title=None, category="教育", status="完成", leader="nobody")])
    preview = importing.parse_workbook(data, ledger, NOW)
    assert sorted(errors_of(preview)) == [(2, "事项"), (2, "包联领导"), (2, "状态"), (2, "类别")]


# --- the whole file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"not a spreadsheet", "not an Excel workbook", id="text"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, ".xlsx", id="old .xls"),
        pytest.param(b"PK\x03\x04broken", "not an Excel workbook", id="damaged zip"),
        pytest.param(b"\0" * (importing.MAX_FILE_BYTES + 1), "larger than 10 MB", id="too big"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_one_clear_error(
    ledger: Ledger, data: bytes, reason: str
) -> None:
    preview = importing.parse_workbook(data, ledger, NOW)
    assert errors_of(preview) == [(None, "")]
    assert reason in str(preview.errors[0].message)
    assert not preview.ok


def test_a_zip_that_inflates_beyond_the_limit_is_refused(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "MAX_UNPACKED_BYTES", 1000)
    preview = importing.parse_workbook(xlsx([row()]), ledger, NOW)
    assert "too large" in str(preview.errors[0].message)


def test_a_missing_required_column_is_an_error_of_the_file(ledger: Ledger) -> None:
    headings = [h for h in HEADINGS_ZH if h != "类别"]
    values = [v for key, v in zip(KEYS, row(), strict=True) if key != "category"]
    preview = importing.parse_workbook(xlsx([values], headings), ledger, NOW)
    assert errors_of(preview) == [(None, "类别")]
    assert "类别 is missing" in str(preview.errors[0].message)
    assert preview.rows == []


def test_a_missing_column_is_named_in_the_file_s_language(ledger: Ledger) -> None:
    preview = importing.parse_workbook(xlsx([["A title"]], ["Code", "Title"]), ledger, NOW)
    assert errors_of(preview) == [(None, "Category")]


def test_a_column_given_twice_is_an_error(ledger: Ledger) -> None:
    preview = importing.parse_workbook(xlsx([row() + ["x"]], [*HEADINGS_ZH, "Title"]), ledger, NOW)
    assert errors_of(preview) == [(None, "Title")]


def test_no_heading_row_is_an_error(ledger: Ledger) -> None:
    preview = importing.parse_workbook(xlsx([row()], ["序号", "名称"]), ledger, NOW)
    assert errors_of(preview) == [(None, "")]
    assert "No row of headings" in str(preview.errors[0].message)


def test_headings_without_rows_are_an_error(ledger: Ledger) -> None:
    preview = importing.parse_workbook(xlsx([[None], ["  "]]), ledger, NOW)
    assert errors_of(preview) == [(None, "")]
    assert not preview.ok


def test_more_than_5000_rows_is_refused(ledger: Ledger) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADINGS_ZH)
    for n in range(importing.MAX_ROWS + 1):
        sheet.append(row(code=f"N{n}"))
    out = io.BytesIO()
    workbook.save(out)
    preview = importing.parse_workbook(out.getvalue(), ledger, NOW)
    assert errors_of(preview) == [(None, "")]
    assert "more than 5000 rows" in str(preview.errors[0].message)
    assert preview.rows == []


# --- codes ------------------------------------------------------------------------------


def test_a_code_twice_in_the_file_names_both_rows(ledger: Ledger) -> None:
    data = xlsx([row(code="A1"), row(code="A2"), row(code="A1"), row(code=""), row(code=None)])
    preview = importing.parse_workbook(data, ledger, NOW)
    assert errors_of(preview) == [(4, "编号")]
    assert "A1 is also on row 2" in str(preview.errors[0].message)


def test_a_code_the_ledger_has_already_is_an_error(ledger: Ledger) -> None:
    db.session.add(LedgerItem(ledger_id=ledger.id, code="A1", title="已有事项"))
    db.session.commit()
    preview = importing.parse_workbook(xlsx([row(code="A1"), row(code="A2")]), ledger, NOW)
    assert errors_of(preview) == [(2, "编号")]
    assert "already has an item with the code A1" in str(preview.errors[0].message)


def test_numeric_codes_read_as_written(ledger: Ledger) -> None:
    preview = importing.parse_workbook(xlsx([row(code=7), row(code=8.0)]), ledger, NOW)
    assert [r.code for r in preview.rows] == ["7", "8"]


# --- cells as people write them ---------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        date(2024, 12, 31),
        datetime(2024, 12, 31, 0, 0),
        datetime(2024, 12, 31, 17, 30),
        "2024-12-31",
        " 2024/12/31 ",
        "2024.12.31",
        "2024年12月31日",
    ],
)
def test_dates_as_excel_cells_or_text(ledger: Ledger, cell: Any) -> None:
    preview = importing.parse_workbook(xlsx([row(target_date=cell)]), ledger, NOW)
    assert preview.errors == []
    assert preview.rows[0].target_date == date(2024, 12, 31)


def test_english_headings_and_words(ledger: Ledger) -> None:
    values = row(
        category="public works",
        department="Housing and Urban-Rural Development Bureau",
        status="Written off",
        written_off_on="2024-05-20",
    )
    preview = importing.parse_workbook(xlsx([values], HEADINGS_EN), ledger, NOW)
    assert preview.errors == []
    (read,) = preview.rows
    assert read.category.name_zh == "市政设施"
    assert read.department is not None and read.department.code == "zjj"
    assert read.status is LedgerItemStatus.WRITTEN_OFF
    assert read.written_off_on == date(2024, 5, 20)


def test_headings_in_any_order_below_a_title_row_with_other_columns(ledger: Ledger) -> None:
    headings = ["序号", "  事项 ", "类别*", "联系人", "编号"]
    rows = [
        [1, "工农街人行道破损", "市政设施", "王", "B1"],
        [],
        [2, "红旗西街路灯", "市政设施", "", ""],
    ]
    preview = importing.parse_workbook(xlsx(rows, headings, above=1), ledger, NOW)
    assert preview.errors == []
    assert [(r.row, r.code, r.title) for r in preview.rows] == [
        (3, "B1", "工农街人行道破损"),
        (5, "", "红旗西街路灯"),  # the empty row 4 is skipped, and the numbering kept
    ]
    assert preview.rows[0].status is LedgerItemStatus.OPEN


def test_departments_and_leaders_by_any_of_their_names(ledger: Ledger) -> None:
    leader = user("leader")
    rows = [
        row(code="1", department="ZJJ", leader=leader.display_name),
        row(code="2", department="urban management bureau", leader="LEADER"),
    ]
    preview = importing.parse_workbook(xlsx(rows), ledger, NOW)
    assert preview.errors == []
    assert [r.leader for r in preview.rows] == [leader, leader]
    assert [r.department.code for r in preview.rows if r.department] == ["zjj", "cgj"]


def test_a_retired_department_is_not_offered(ledger: Ledger) -> None:
    from tests.factories import department

    department("cgj").retired_at = NOW
    db.session.commit()
    preview = importing.parse_workbook(xlsx([row(department="市城市管理局")]), ledger, NOW)
    assert errors_of(preview) == [(2, "责任单位")]


# --- importing --------------------------------------------------------------------------


def test_a_good_file_imports_every_row_with_its_events(ledger: Ledger) -> None:
    rows = [
        row(code="A1"),
        row(code="A2", status="未启动", leader=None, department=None, target_date=None),
        row(code="A3", status="已销号", written_off_on=date(2024, 5, 20), note="已建成，群众满意"),
    ]
    preview = importing.parse_workbook(xlsx(rows), ledger, NOW)
    assert preview.ok and preview.row_count == 3
    supervisor = user("supervisor").id
    importing.import_items(ledger, preview, supervisor, NOW)
    db.session.expire_all()
    going, fresh, done = items_of(ledger)
    assert (going.status, fresh.status, done.status) == (
        LedgerItemStatus.IN_PROGRESS,
        LedgerItemStatus.OPEN,
        LedgerItemStatus.WRITTEN_OFF,
    )
    assert going.plan_text == "一案一策：与公交公司会商选址。"
    assert going.owner_department is not None and going.owner_department.code == "zjj"
    assert going.responsible_leader is not None and going.responsible_leader.username == "leader"
    assert going.category is not None and going.category.code == "works"
    assert fresh.owner_department_id is None and fresh.target_date is None
    # 2024-05-20 in the city (UTC+8) begins at 16:00 UTC the day before.
    assert done.written_off_at == datetime(2024, 5, 19, 16, 0, tzinfo=UTC)
    assert done.written_off_note == "已建成，群众满意"
    assert [actions(item) for item in (going, fresh, done)] == [
        ["imported"],
        ["imported"],
        ["imported", "write_off"],
    ]
    event = db.session.scalars(
        sa.select(LedgerItemEvent)
        .where(LedgerItemEvent.item_id == done.id)
        .order_by(LedgerItemEvent.id)
    ).all()
    assert event[0].actor_id == supervisor and event[0].data == {"row": 4}
    assert (event[1].from_status, event[1].to_status) == (
        LedgerItemStatus.OPEN,
        LedgerItemStatus.WRITTEN_OFF,
    )
    assert event[1].note == "已建成，群众满意"


def test_an_empty_preview_or_one_of_another_ledger_imports_nothing(ledger: Ledger) -> None:
    with pytest.raises(importing.ImportHasErrors):
        importing.import_items(ledger, importing.ImportPreview(ledger.id), None, NOW)
    preview = importing.parse_workbook(xlsx([row()]), ledger, NOW)
    preview.ledger_id = ledger.id + 1
    with pytest.raises(ValidationFailed):
        importing.import_items(ledger, preview, None, NOW)
    assert items_of(ledger) == []


def test_1106_items_import_in_seconds(ledger: Ledger) -> None:
    rows = [
        row(
            code=f"SS2021-{n:04d}",
            status="已销号" if n % 10 else "推进中",
            written_off_on=date(2021, 12, 1) if n % 10 else None,
        )
        for n in range(1, 1107)
    ]
    data = xlsx(rows)
    started = clock.perf_counter()
    preview = importing.parse_workbook(data, ledger, NOW)
    importing.import_items(ledger, preview, user("supervisor").id, NOW)
    elapsed = clock.perf_counter() - started
    assert len(items_of(ledger)) == 1106
    events = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerItemEvent))
    assert events == 1106 + 996  # n % 10 == 0 for 110 of them
    assert elapsed < 15, f"{elapsed:.1f} s"


# --- keeping the upload between preview and confirmation --------------------------------


def test_a_staged_file_imports_once_for_its_supervisor_and_ledger(ledger: Ledger) -> None:
    supervisor = user("supervisor").id
    staged = importing.stage_import(ledger, xlsx([row()]), supervisor, NOW)
    assert staged.token is not None and staged.preview.ok
    with pytest.raises(NotFound):  # someone else's token
        importing.confirm_import(ledger, staged.token, user("admin").id, NOW)
    items = importing.confirm_import(ledger, staged.token, supervisor, NOW)
    assert len(items) == 1
    with pytest.raises(NotFound):  # done already
        importing.confirm_import(ledger, staged.token, supervisor, NOW)
    assert len(items_of(ledger)) == 1


def test_a_file_with_errors_is_not_kept(ledger: Ledger, app: Flask) -> None:
    staged = importing.stage_import(ledger, xlsx([row(title=None)]), 1, NOW)
    assert staged.token is None
    assert list((Path(app.config["UPLOAD_DIR"]) / "imports").iterdir()) == []


@pytest.mark.parametrize(
    "token", ["../../etc/passwd", "a" * 42, "a/" + "b" * 41, "a" * 42 + ".", "", "a" * 44]
)
def test_a_token_that_is_not_ours_is_refused(ledger: Ledger, token: str) -> None:
    with pytest.raises(ValidationFailed):
        importing.confirm_import(ledger, token, 1, NOW)


def test_a_kept_file_expires_after_a_day(ledger: Ledger, app: Flask) -> None:
    supervisor = user("supervisor").id
    now = datetime.now(UTC)
    folder = Path(app.config["UPLOAD_DIR"]) / "imports"
    day_old = (now - timedelta(days=1, minutes=1)).timestamp()
    expired = importing.stage_import(ledger, xlsx([row(code="A1")]), supervisor, now)
    stale = importing.stage_import(ledger, xlsx([row(code="A2")]), supervisor, now)
    assert expired.token is not None and stale.token is not None
    expired_path = folder / f"{ledger.id}-{supervisor}-{expired.token}.xlsx"
    stale_path = folder / f"{ledger.id}-{supervisor}-{stale.token}.xlsx"
    other = folder / "notes.txt"  # not one of ours: left alone
    other.write_text("x")
    for path in (expired_path, stale_path, other):
        os.utime(path, (day_old, day_old))
    with pytest.raises(NotFound):  # expired, though not cleared out yet
        importing.confirm_import(ledger, expired.token, supervisor, now)
    fresh = importing.stage_import(ledger, xlsx([row(code="A3")]), supervisor, now)
    assert not stale_path.exists() and other.exists()  # a new import clears out
    assert [p.name for p in folder.glob("*.xlsx")] == [
        f"{ledger.id}-{supervisor}-{fresh.token}.xlsx"
    ]
    assert items_of(ledger) == []


def test_a_row_gone_wrong_since_the_preview_stops_the_import(ledger: Ledger) -> None:
    supervisor = user("supervisor").id
    staged = importing.stage_import(ledger, xlsx([row(code="A1")]), supervisor, NOW)
    db.session.add(LedgerItem(ledger_id=ledger.id, code="A1", title="同时录入的事项"))
    db.session.commit()
    assert staged.token is not None
    with pytest.raises(importing.ImportHasErrors) as refused:
        importing.confirm_import(ledger, staged.token, supervisor, NOW)
    assert errors_of(refused.value.preview) == [(2, "编号")]
    assert len(items_of(ledger)) == 1


# --- the template -----------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "headings"), [("zh_CN", HEADINGS_ZH), ("en", HEADINGS_EN)])
def test_the_template_reads_back_with_only_its_example_refused(
    ledger: Ledger, lang: str, headings: list[str]
) -> None:
    data = importing.template_workbook(ledger, lang).read()
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [cell.value for cell in sheet[1]] == headings
    preview = importing.parse_workbook(data, ledger, NOW)
    assert errors_of(preview) == [(2, headings[1])]
    assert "example row" in str(preview.errors[0].message)
