"""Importing an existing ledger from XLSX (DESIGN §5): a preview with a row-by-row error
report, and nothing imported while any row is wrong.

The flow for the web layer: ``stage_import`` parses the upload and, when every row is
right, keeps the file under ``UPLOAD_DIR/imports/`` behind a random token; the
supervisor confirms with the token and ``confirm_import`` parses the kept file again
(the ledger, departments or leaders may have changed since) and imports it in one
transaction. Kept files live a day.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import zipfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from caseapp.extensions import db
from caseapp.models import Department, Ledger, LedgerCategory, LedgerItem, LedgerItemEvent, User
from caseapp.models.bilingual import in_language
from caseapp.models.enums import LedgerItemAction, LedgerItemStatus, Role
from caseapp.models.org import UserRole
from caseapp.reports.cells import append_row, put
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.filing.validation import EARLIEST_DATE, LATEST_DATE, has_control_characters
from caseapp.services.ledgers.items import set_item_status
from caseapp.services.messages import N_, Message
from caseapp.services.transactions import one_transaction

MAX_ROWS = 5_000
MAX_FILE_BYTES = 10 * 1024 * 1024
# What the workbook's parts may inflate to: a ledger of MAX_ROWS rows is a few MB of
# XML; far more is a zip bomb or not a ledger.
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
# Rows read at most, empty ones included (rows formatted but left empty count too).
MAX_SHEET_ROWS = 20 * MAX_ROWS
# Headings are looked for in the first rows (a title row may sit above them), and in
# the first columns.
HEADING_ROWS = 10
MAX_COLUMNS = 40
TITLE_MAX = 300
CODE_MAX = 40
NOTE_MAX = 4_000
STASH_LIFETIME = timedelta(days=1)
IMPORTS_FOLDER = "imports"
# secrets.token_urlsafe(32): 43 characters of the URL-safe alphabet, nothing else.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_STASHED = re.compile(r"\d+-\d+-[A-Za-z0-9_-]{43}\.xlsx")


@dataclass(frozen=True)
class Column:
    """One column the importer reads: its key and its two accepted headings."""

    key: str
    zh: str
    en: str
    required: bool = False

    def heading(self, lang: str) -> str:
        return in_language(lang, self.zh, self.en)


COLUMNS = (
    Column("code", "编号", "Code"),
    Column("title", "事项", "Title", required=True),
    Column("category", "类别", "Category", required=True),
    Column("department", "责任单位", "Owner department"),
    Column("leader", "包联领导", "Responsible leader"),
    Column("target_date", "目标日期", "Target date"),
    Column("status", "状态", "Status"),
    Column("written_off_on", "销号日期", "Written off on"),
    Column("note", "备注", "Note"),
)
_COLUMN_OF = {_key: column for column in COLUMNS for _key in (column.zh, column.en.casefold())}

STATUS_WORDS = {
    "未启动": LedgerItemStatus.OPEN,
    "推进中": LedgerItemStatus.IN_PROGRESS,
    "已销号": LedgerItemStatus.WRITTEN_OFF,
    "open": LedgerItemStatus.OPEN,
    "in_progress": LedgerItemStatus.IN_PROGRESS,
    "written_off": LedgerItemStatus.WRITTEN_OFF,
}

# The template's example row: refused, so that it is not imported by mistake.
EXAMPLE_TITLES = {
    "zh": "（示例，导入前请删除此行）圣惠路增设公交站台",
    "en": "(Example: delete this row before importing) A bus stop on Shenghui Road",
}

_DATE_TEXT = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
)


@dataclass(frozen=True)
class RowError:
    """One problem: the row as Excel numbers it (None for the whole file), the column's
    heading as the file writes it, and the reason."""

    row: int | None
    column: str
    message: Message


@dataclass
class ImportRow:
    """One row that passed its checks, in the form it will be imported."""

    row: int
    code: str
    title: str
    category: LedgerCategory
    department: Department | None
    leader: User | None
    target_date: date | None
    status: LedgerItemStatus
    written_off_on: date | None
    note: str


@dataclass
class ImportPreview:
    """What a file would import into a ledger, and everything wrong with it."""

    ledger_id: int
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Rows read, the wrong ones included (empty rows are not counted).
    row_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def file_errors(self) -> list[RowError]:
        return [error for error in self.errors if error.row is None]

    @property
    def rows_with_errors(self) -> int:
        return len({error.row for error in self.errors if error.row is not None})


@dataclass(frozen=True)
class StagedImport:
    """A parsed upload; ``token`` names the kept file when the preview has no error."""

    preview: ImportPreview
    token: str | None


class ImportHasErrors(ValidationFailed):
    """The file has errors (found again on confirming); nothing was imported."""

    def __init__(self, preview: ImportPreview) -> None:
        super().__init__(N_("The file has errors; nothing was imported."))
        self.preview = preview


# --- reading the workbook ---------------------------------------------------------------


class _FileRefused(Exception):
    def __init__(self, message: Message) -> None:
        self.message = message


def _file_error(message: Message, column: str = "") -> RowError:
    return RowError(None, column, message)


def parse_workbook(data: bytes, ledger: Ledger, now: datetime | None = None) -> ImportPreview:
    """Read the first sheet of an XLSX file as items for ``ledger``: every row checked,
    every problem a RowError. Never raises for a bad file."""
    preview = ImportPreview(ledger_id=ledger.id)
    try:
        with contextlib.closing(_sheet_rows(data)) as rows:
            heading_row, headings = _heading_row(rows)
            columns = _columns(headings, preview)
            if not preview.errors:
                checker = _Checker(ledger, columns, now or datetime.now(UTC))
                checker.check_rows(heading_row, rows, preview)
    except _FileRefused as refused:
        # The file as a whole is wrong: its rows' own problems would only hide that.
        preview.rows.clear()
        preview.errors[:] = [_file_error(refused.message)]
    return preview


def _sheet_rows(data: bytes) -> Generator[tuple[int, tuple[Any, ...]], None, None]:
    """The first sheet's rows, numbered as Excel numbers them."""
    if len(data) > MAX_FILE_BYTES:
        raise _FileRefused(
            Message(
                N_("The file is larger than %(size)s MB."), size=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
    not_xlsx = Message(N_("The file is not an Excel workbook (.xlsx); save it as .xlsx."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _FileRefused(not_xlsx) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise _FileRefused(Message(N_("The workbook is too large to read.")))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # Whatever openpyxl cannot open (not a spreadsheet, damaged, encrypted).
        raise _FileRefused(not_xlsx) from None
    return _rows_of(workbook, not_xlsx)


def _rows_of(
    workbook: Any, not_xlsx: Message
) -> Generator[tuple[int, tuple[Any, ...]], None, None]:
    try:
        if not workbook.worksheets:
            raise _FileRefused(not_xlsx)
        sheet = workbook.worksheets[0]
        # The stored dimensions may be wrong (some writers leave A1): read every row.
        sheet.reset_dimensions()
        for number, values in enumerate(
            sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
        ):
            if number > MAX_SHEET_ROWS:
                raise _FileRefused(
                    Message(
                        N_("The sheet has more than %(count)s rows, empty ones included."),
                        count=MAX_SHEET_ROWS,
                    )
                )
            yield number, tuple(values)
    except _FileRefused:
        raise
    except Exception:
        raise _FileRefused(not_xlsx) from None
    finally:
        workbook.close()


def _heading_row(rows: Iterator[tuple[int, tuple[Any, ...]]]) -> tuple[int, tuple[Any, ...]]:
    """The first row (of the first few) with a heading the importer knows."""
    for number, values in rows:
        if any(_column_of(value) for value in values):
            return number, values
        if number >= HEADING_ROWS:
            break
    raise _FileRefused(
        Message(
            N_(
                "No row of headings was found: put the template's headings "
                "(%(headings)s) above the items."
            ),
            headings="、".join(column.zh for column in COLUMNS),
        )
    )


def _column_of(value: Any) -> Column | None:
    if not isinstance(value, str):
        return None
    key = " ".join(value.split()).rstrip("*＊").strip().casefold()
    return _COLUMN_OF.get(key)


def _columns(headings: Sequence[Any], preview: ImportPreview) -> dict[str, tuple[int, str]]:
    """Each known column's index and heading as written; missing or repeated ones are
    errors of the file."""
    found: dict[str, tuple[int, str]] = {}
    english = 0
    for index, value in enumerate(headings):
        column = _column_of(value)
        if column is None:
            continue  # other columns (序号, 联系人 ...) are left alone
        shown = str(value).strip()
        english += shown.isascii()
        if column.key in found:
            preview.errors.append(
                _file_error(
                    Message(N_("The column %(column)s appears twice."), column=shown), shown
                )
            )
            continue
        found[column.key] = (index, shown)
    in_english = english * 2 > len(found)
    for column in COLUMNS:
        if column.required and column.key not in found:
            name = column.en if in_english else column.zh
            preview.errors.append(
                _file_error(Message(N_("The column %(column)s is missing."), column=name), name)
            )
    return found


class _Checker:
    """Checks rows against the ledger and the organisation, looked up once per file."""

    def __init__(self, ledger: Ledger, columns: dict[str, tuple[int, str]], now: datetime):
        self.columns = columns
        self.tz = ZoneInfo(current_app.config["CITY_TIMEZONE"])
        self.today = now.astimezone(self.tz).date()
        self.categories = _names_to(ledger.categories, lambda c: (c.name_zh, c.name_en.casefold()))
        departments = db.session.scalars(
            sa.select(Department).where(Department.retired_at.is_(None)).order_by(Department.id)
        ).all()
        self.departments = _names_to(
            departments, lambda d: (d.name_zh, d.name_en.casefold(), d.code.casefold())
        )
        leaders = db.session.scalars(
            sa.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.LEADER, User.active.is_(True))
            .order_by(User.id)
        ).all()
        self.leaders_by_username = {u.username.casefold(): u for u in leaders}
        self.leaders_by_name: dict[str, list[User]] = {}
        for leader in leaders:
            self.leaders_by_name.setdefault(leader.display_name.strip(), []).append(leader)
        self.codes_in_ledger = set(
            db.session.scalars(
                sa.select(LedgerItem.code).where(
                    LedgerItem.ledger_id == ledger.id, LedgerItem.code != ""
                )
            )
        )
        self.codes_in_file: dict[str, int] = {}

    def check_rows(
        self, heading_row: int, rows: Iterable[tuple[int, tuple[Any, ...]]], preview: ImportPreview
    ) -> None:
        for number, values in rows:
            if all(_blank(value) for value in values):
                continue
            preview.row_count += 1
            if preview.row_count > MAX_ROWS:
                raise _FileRefused(
                    Message(
                        N_("The file has more than %(count)s rows; split it into several files."),
                        count=MAX_ROWS,
                    )
                )
            errors: list[RowError] = []
            row = self._row(number, values, errors)
            if errors:
                preview.errors.extend(errors)
            elif row is not None:
                preview.rows.append(row)
        if preview.row_count == 0:
            preview.errors.append(
                _file_error(
                    Message(
                        N_("There is no row to import under the headings (row %(row)s)."),
                        row=heading_row,
                    )
                )
            )

    def _row(
        self, number: int, values: tuple[Any, ...], errors: list[RowError]
    ) -> ImportRow | None:
        def cell(key: str) -> Any:
            index = self.columns[key][0] if key in self.columns else None
            return values[index] if index is not None and index < len(values) else None

        def problem(key: str, msgid: str, **params: object) -> None:
            errors.append(RowError(number, self._heading(key), Message(msgid, **params)))

        code = _text(cell("code"))
        title = " ".join(_text(cell("title")).split())
        note = _text(cell("note"), keep_lines=True)
        category = self._category(cell("category"), problem)
        department = self._department(cell("department"), problem)
        leader = self._leader(cell("leader"), problem)
        target_date = self._date("target_date", cell("target_date"), problem)
        written_off_on = self._date("written_off_on", cell("written_off_on"), problem)
        status = self._status(cell("status"), problem)

        self._check_code(code, number, problem)
        if not title:
            problem("title", N_("The item has no title."))
        elif len(title) > TITLE_MAX:
            problem("title", N_("The title is longer than %(max)s characters."), max=TITLE_MAX)
        elif title in EXAMPLE_TITLES.values():
            problem("title", N_("This is the template's example row; delete it before importing."))
        for key, text in (("code", code), ("title", title), ("note", note)):
            if has_control_characters(text):
                problem(key, N_("The text holds control characters; type it again."))
        if len(note) > NOTE_MAX:
            problem("note", N_("The note is longer than %(max)s characters."), max=NOTE_MAX)
        if status is LedgerItemStatus.WRITTEN_OFF and _blank(cell("written_off_on")):
            problem("written_off_on", N_("A written-off item needs the date it was written off."))
        if status is not LedgerItemStatus.WRITTEN_OFF and not _blank(cell("written_off_on")):
            problem("written_off_on", N_("Only a written-off item has a write-off date; empty it."))
        if written_off_on is not None and written_off_on > self.today:
            problem("written_off_on", N_("The write-off date is in the future."))
        if errors or category is None or status is None:
            return None
        return ImportRow(
            row=number,
            code=code,
            title=title,
            category=category,
            department=department,
            leader=leader,
            target_date=target_date,
            status=status,
            written_off_on=written_off_on,
            note=note,
        )

    def _heading(self, key: str) -> str:
        if key in self.columns:
            return self.columns[key][1]
        column = next(c for c in COLUMNS if c.key == key)
        return column.zh

    def _check_code(self, code: str, number: int, problem: Any) -> None:
        if not code:
            return
        if len(code) > CODE_MAX:
            problem("code", N_("The code is longer than %(max)s characters."), max=CODE_MAX)
        elif code in self.codes_in_file:
            problem(
                "code",
                N_("The code %(code)s is also on row %(row)s."),
                code=code,
                row=self.codes_in_file[code],
            )
        elif code in self.codes_in_ledger:
            problem("code", N_("The ledger already has an item with the code %(code)s."), code=code)
        self.codes_in_file.setdefault(code, number)

    def _category(self, value: Any, problem: Any) -> LedgerCategory | None:
        name = _text(value)
        if not name:
            problem("category", N_("The item has no category."))
            return None
        found = self.categories.get(name) or self.categories.get(name.casefold())
        if found is None:
            problem("category", N_("The ledger has no category %(name)s."), name=name)
        return found

    def _department(self, value: Any, problem: Any) -> Department | None:
        name = _text(value)
        if not name:
            return None
        found = self.departments.get(name) or self.departments.get(name.casefold())
        if found is None:
            problem("department", N_("No active department is called %(name)s."), name=name)
        return found

    def _leader(self, value: Any, problem: Any) -> User | None:
        name = _text(value)
        if not name:
            return None
        by_username = self.leaders_by_username.get(name.casefold())
        if by_username is not None:
            return by_username
        named = self.leaders_by_name.get(name, [])
        if len(named) > 1:
            problem(
                "leader",
                N_("More than one responsible leader is called %(name)s; give the username."),
                name=name,
            )
            return None
        if not named:
            problem("leader", N_("No responsible leader is called %(name)s."), name=name)
            return None
        return named[0]

    def _date(self, key: str, value: Any, problem: Any) -> date | None:
        if _blank(value):
            return None
        found: date | None = None
        if isinstance(value, datetime):
            found = value.date()
        elif isinstance(value, date):
            found = value
        text = _text(value)
        for pattern in _DATE_TEXT:
            match = pattern.fullmatch(text) if found is None and isinstance(value, str) else None
            if match:
                with contextlib.suppress(ValueError):
                    found = date(*(int(part) for part in match.groups()))
        if found is None:
            problem(key, N_("%(value)s is not a date; write it as YYYY-MM-DD."), value=text)
        elif not EARLIEST_DATE <= found <= LATEST_DATE:
            problem(
                key,
                N_("%(value)s is not a date from %(earliest)s to %(latest)s."),
                value=text,
                earliest=EARLIEST_DATE.isoformat(),
                latest=LATEST_DATE.isoformat(),
            )
            found = None
        return found

    def _status(self, value: Any, problem: Any) -> LedgerItemStatus | None:
        word = _text(value)
        if not word:
            return LedgerItemStatus.OPEN
        key = "_".join(word.casefold().replace("-", " ").split())
        found = STATUS_WORDS.get(key) or STATUS_WORDS.get(word)
        if found is None:
            problem(
                "status",
                N_(
                    "%(value)s is not a status: write open, in_progress or written_off "
                    "(in Chinese 未启动, 推进中 or 已销号)."
                ),
                value=word,
            )
        return found


def _names_to(things: Iterable[Any], names: Any) -> dict[str, Any]:
    """Each thing under each of its names (the first thing wins a shared name)."""
    found: dict[str, Any] = {}
    for thing in things:
        for name in names(thing):
            found.setdefault(name.strip(), thing)
    return found


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any, *, keep_lines: bool = False) -> str:
    """A cell as trimmed text; whole numbers without their ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == time(0) else value
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = str(value).replace("\r\n", "\n").strip()
    return text if keep_lines else " ".join(text.split())


# --- importing --------------------------------------------------------------------------


@one_transaction
def import_items(
    ledger: Ledger, preview: ImportPreview, actor_id: int | None, now: datetime
) -> list[LedgerItem]:
    """Insert every row of an error-free preview into ``ledger``, all in one transaction.

    Each item gets an ``imported`` event; a written-off one also a ``write_off`` event
    with the note, which becomes its write-off note (other items keep the note as their
    plan text). Refuses with ImportHasErrors when the preview has any error.
    """
    if preview.ledger_id != ledger.id:
        raise ValidationFailed("the preview is of another ledger")
    if not preview.ok:
        raise ImportHasErrors(preview)
    tz = ZoneInfo(current_app.config["CITY_TIMEZONE"])
    try:
        items = [_new_item(ledger, row, now) for row in preview.rows]
        db.session.add_all(items)
        db.session.flush()  # one INSERT of many rows, ids back
        for item, row in zip(items, preview.rows, strict=True):
            db.session.add(
                LedgerItemEvent(
                    item_id=item.id,
                    at=now,
                    actor_id=actor_id,
                    action=LedgerItemAction.IMPORTED,
                    to_status=item.status,
                    data={"row": row.row},
                )
            )
            if row.status is LedgerItemStatus.WRITTEN_OFF:
                # A write-off by hand, as the spreadsheet records it.
                assert row.written_off_on is not None
                set_item_status(
                    item,
                    LedgerItemStatus.WRITTEN_OFF,
                    LedgerItemAction.WRITE_OFF,
                    now,
                    actor_id,
                    note=row.note,
                    written_off_at=datetime.combine(
                        row.written_off_on, time(0), tzinfo=tz
                    ).astimezone(UTC),
                )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return items


def _new_item(ledger: Ledger, row: ImportRow, now: datetime) -> LedgerItem:
    written_off = row.status is LedgerItemStatus.WRITTEN_OFF
    return LedgerItem(
        ledger_id=ledger.id,
        category_id=row.category.id,
        code=row.code,
        title=row.title,
        owner_department_id=row.department.id if row.department else None,
        responsible_leader_id=row.leader.id if row.leader else None,
        plan_text="" if written_off else row.note,
        target_date=row.target_date,
        # A written-off item is imported open, then written off by its own event.
        status=LedgerItemStatus.OPEN if written_off else row.status,
        created_at=now,
        updated_at=now,
    )


# --- the kept upload between preview and confirmation -----------------------------------


def _imports_dir() -> Path:
    folder = Path(current_app.config["UPLOAD_DIR"]) / IMPORTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _kept_file(ledger: Ledger, actor_id: int, token: str) -> Path:
    """Where the upload behind ``token`` is kept. The name carries the ledger and the
    supervisor, so a token is good for that ledger and that person only."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ValidationFailed("the import token is not one this site makes")
    return _imports_dir() / f"{ledger.id}-{int(actor_id)}-{token}.xlsx"


def discard_stale_imports(now: datetime) -> int:
    """Delete kept uploads older than a day; the number deleted."""
    cutoff = (now - STASH_LIFETIME).timestamp()
    deleted = 0
    for path in _imports_dir().iterdir():
        if not _STASHED.fullmatch(path.name):
            continue
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
    return deleted


def stage_import(ledger: Ledger, data: bytes, actor_id: int, now: datetime) -> StagedImport:
    """Parse an upload for the preview; keep the file behind a token when it has no
    error. Clears out kept uploads older than a day first."""
    discard_stale_imports(now)
    preview = parse_workbook(data, ledger, now)
    if not preview.ok:
        return StagedImport(preview, None)
    token = secrets.token_urlsafe(32)
    path = _kept_file(ledger, actor_id, token)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    return StagedImport(preview, token)


def confirm_import(ledger: Ledger, token: str, actor_id: int, now: datetime) -> list[LedgerItem]:
    """Import the upload kept behind ``token``, checked again against the ledger as it is
    now. ValidationFailed for a token of the wrong shape, NotFound for one that names no
    kept upload (never made, expired, or imported already), ImportHasErrors when a row
    has become wrong since the preview."""
    path = _kept_file(ledger, actor_id, token)
    gone = NotFound("no such import: it expired or was imported already")
    try:
        expired = path.stat().st_mtime < (now - STASH_LIFETIME).timestamp()
        data = b"" if expired else path.read_bytes()
        # Deleting the file claims it: a second confirmation (a double click, another
        # tab) finds nothing instead of importing the rows twice.
        path.unlink()
    except FileNotFoundError:
        raise gone from None
    if expired:
        raise gone
    preview = parse_workbook(data, ledger, now)
    if not preview.ok:
        raise ImportHasErrors(preview)
    return import_items(ledger, preview, actor_id, now)


# --- the template to fill in ------------------------------------------------------------

_TEMPLATE_WIDTHS = {"code": 14, "title": 48, "category": 22, "department": 24, "leader": 16}


def template_workbook(ledger: Ledger, lang: str) -> IO[bytes]:
    """An XLSX file to fill in: the headings (in ``lang``), one example row that the
    importer refuses until it is deleted, and a sheet of the values the columns take."""
    english = lang == "en"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Items" if english else "台账事项"
    headings = [column.heading(lang) for column in COLUMNS]
    for cell in append_row(sheet, headings):
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        width = _TEMPLATE_WIDTHS.get(column.key, 14)
        sheet.column_dimensions[get_column_letter(index)].width = width

    categories = [c.name(lang) for c in ledger.categories]
    departments = db.session.scalars(
        sa.select(Department).where(Department.retired_at.is_(None)).order_by(Department.code)
    ).all()
    leaders = db.session.scalars(
        sa.select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.LEADER, User.active.is_(True))
        .order_by(User.username)
    ).all()
    statuses = list(STATUS_WORDS)[3:] if english else list(STATUS_WORDS)[:3]
    example = {
        "code": "2024-001",
        "title": EXAMPLE_TITLES["en" if english else "zh"],
        "category": categories[0] if categories else "",
        "department": departments[0].name(lang) if departments else "",
        "leader": leaders[0].display_name if leaders else "",
        "target_date": date(date.today().year, 12, 31),
        "status": statuses[0],
        "written_off_on": None,
        "note": "Plan: survey, design, build by the end of the year."
        if english
        else "一案一策：摸排、设计，年底前建成。",
    }
    for index, column in enumerate(COLUMNS, start=1):
        cell = _put(sheet, 2, index, example[column.key])
        if isinstance(cell.value, date):
            cell.number_format = "yyyy-mm-dd"

    values = workbook.create_sheet("Values" if english else "可选值")
    _offer_lists(sheet, values.title, len(categories), statuses)
    lists = (
        (_heading_of("category", english), categories),
        (_heading_of("department", english), [d.name(lang) for d in departments]),
        (_heading_of("leader", english), [u.display_name for u in leaders]),
        (_heading_of("status", english), statuses),
    )
    for index, (heading, entries) in enumerate(lists, start=1):
        _put(values, 1, index, heading).font = Font(bold=True)
        values.column_dimensions[get_column_letter(index)].width = 30
        for row, entry in enumerate(entries, start=2):
            _put(values, row, index, entry)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def _offer_lists(sheet: Any, values_title: str, categories: int, statuses: list[str]) -> None:
    """Drop-down lists for the category and status columns (a warning, not a refusal,
    for other text: the importer is the judge)."""
    last = MAX_ROWS + 1
    keys = [column.key for column in COLUMNS]
    offered = [
        (f'"{",".join(statuses)}"', keys.index("status")),
    ]
    if categories:
        offered.append((f"'{values_title}'!$A$2:$A${categories + 1}", keys.index("category")))
    for formula, index in offered:
        letter = get_column_letter(index + 1)
        validation = DataValidation(
            type="list", formula1=formula, allow_blank=True, errorStyle="warning"
        )
        validation.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(validation)


def _heading_of(key: str, english: bool) -> str:
    column = next(c for c in COLUMNS if c.key == key)
    return column.en if english else column.zh


def _put(sheet: Any, row: int, column: int, value: Any) -> Any:
    """Set a cell; text (from the database) stays text, never a formula, whatever it
    starts with."""
    return put(sheet, row, column, value)
