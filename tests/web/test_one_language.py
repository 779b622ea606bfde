"""One language at a time (issue 18): every page a crawl of the demo city reaches, as
each staff role and as the public, is read in each language of the interface.

In Chinese its visible text may hold Latin-script words only where they are data
(usernames, codes, case numbers, file names) or a fixed set of technical names (CSV,
PDF, the "English" switch). In English it may hold Chinese only where that is what
people typed or what the city configured in one language only (titles, descriptions,
citizen names, a department with no English name); a name the city gave in both
languages is shown in English.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.extensions import db
from caseapp.models import (
    ApiKey,
    Attachment,
    CalendarOverride,
    CalendarYear,
    Case,
    CaseEvent,
    CaseFollower,
    CaseMilestone,
    CaseRequest,
    Category,
    CategoryQuestion,
    DeadlinePolicy,
    Department,
    InboxMessage,
    Ledger,
    LedgerCategory,
    LedgerItem,
    LedgerItemEvent,
    LedgerMilestone,
    ReplyTemplate,
    User,
)
from caseapp.services.filing.validation import mask_name
from tests.conftest import _client_as

pytestmark = pytest.mark.long

# Names that stay as they are in any language.
TECHNICAL = {
    "English", "YYYY-MM-DD", "Ctrl", "Mac", "localhost", "XLSX", "Excel", "CSV", "PNG",
    "PDF", "JPEG", "API", "App", "Open311", "SMS", "txt", "xlsx", "csv",
}  # fmt: skip
WORD = re.compile(r"(?<![\w.@/-])[A-Za-z][A-Za-z_-]{2,}(?![\w@/.-])")
PAGES_PER_USER = 45
READERS = ["supervisor", "intake", "handler", "lead", "admin", None]

# CJK ideographs, CJK punctuation and full-width forms.
HAN = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]+")
# The languages named in their own (the switch in the header, an account's language).
ENDONYMS = ["简体中文", "中文"]


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style|code|textarea|pre)\b[\s\S]*?</\1>", " ", page)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def _data_words() -> set[str]:
    """Codes and names the city's data holds: shown as they are, in any language."""
    words: set[str] = set()
    for column in (
        User.username,
        Department.code,
        Category.service_code,
        DeadlinePolicy.code,
        Ledger.code,
        LedgerItem.code,
    ):
        for value in db.session.scalars(sa.select(column)):
            words |= set(re.split(r"[^A-Za-z_-]+", value or ""))
    return words


def _crawl(client: FlaskClient, start: list[str]) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    todo = list(start)
    while todo and len(seen) < PAGES_PER_USER:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        yield url, page
        for link in re.findall(
            r'href="(/(?:staff|supervisor|admin|requests|track|stats)[^"#]*)"', page
        ):
            link = html.unescape(link)
            if "lang=" not in link and "logout" not in link and link not in seen:
                todo.append(link)


def _pages_read(app: Flask, who: str | None, lang: str) -> Iterator[tuple[str, str]]:
    """The pages a crawl reaches as ``who`` (the public for None), read in ``lang``."""
    client = _client_as(app, who) if who else app.test_client()
    client.get(f"/?lang={lang}")
    start = ["/staff/queue", "/staff/inbox", "/supervisor/escalations", "/admin/"]
    if who is None:
        start = ["/", "/requests/new", "/track", "/stats"]
    yield from _crawl(client, start)


@pytest.mark.parametrize("who", READERS)
def test_the_chinese_interface_shows_no_english_words(
    app: Flask, demo_city: None, who: str | None
) -> None:
    with app.app_context():
        allowed = TECHNICAL | _data_words()
        db.session.remove()
    pages = 0
    for url, page in _pages_read(app, who, "zh_CN"):
        pages += 1
        english = set(WORD.findall(visible_text(page))) - allowed
        assert not english, f"{url}: {sorted(english)}"
    assert pages >= 3


def _strings_in(value: object) -> Iterator[str]:
    """The strings of a JSON value (event details, notice parameters), however nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)


def _one_language_data() -> set[str]:
    """The Chinese that people typed, or that the city configured in one language only:
    shown as it is in either interface. A name given in both languages is not among it,
    as in English it is shown in English."""
    # The audit log is left out: its values hold both names of a renamed department, and
    # taking those out of every page would hide the Chinese one where the English belongs.
    typed = (
        Case.title, Case.description, Case.address, Case.public_location,
        Case.case_plan, Case.public_answer, Case.answers,
        CaseEvent.public_text, CaseEvent.internal_text, CaseEvent.data,
        CaseMilestone.text, CaseRequest.reason, CaseRequest.decision_note,
        Attachment.filename, User.username, User.display_name,
        Ledger.description, LedgerItem.code, LedgerItem.title, LedgerItem.plan_text,
        LedgerItem.written_off_note, LedgerMilestone.title, LedgerItemEvent.note,
        ReplyTemplate.title, ReplyTemplate.body_zh, CalendarOverride.note,
        CalendarYear.source, ApiKey.name, InboxMessage.params,
    )  # fmt: skip
    strings: set[str] = set()
    for column in typed:
        for value in db.session.scalars(sa.select(column)):
            strings |= set(_strings_in(value))
    for column in (Case.citizen_name, CaseFollower.name):
        for name in db.session.scalars(sa.select(column)):
            strings |= {name, mask_name(name)}
    bilingual = (
        (Department.name_zh, Department.name_en),
        (Category.name_zh, Category.name_en),
        (Category.group_zh, Category.group_en),
        (Category.description_zh, Category.description_en),
        (CategoryQuestion.label_zh, CategoryQuestion.label_en),
        (DeadlinePolicy.name_zh, DeadlinePolicy.name_en),
        (Ledger.name_zh, Ledger.name_en),
        (LedgerCategory.name_zh, LedgerCategory.name_en),
    )
    for zh, en in bilingual:
        strings |= set(db.session.scalars(sa.select(zh).where(sa.func.coalesce(en, "") == "")))
    for choices in db.session.scalars(sa.select(CategoryQuestion.choices)):
        strings |= {c["name_zh"] for c in choices if not c.get("name_en")}
    return {s for s in strings if HAN.search(s)}


def _chinese_left(text: str, data: list[str]) -> list[str]:
    """Each piece of Chinese in ``text`` that is neither data nor an endonym, with 30
    characters either side."""
    text = " ".join(text.split())
    for value in [*data, *ENDONYMS]:
        text = text.replace(value, " ")
    return [text[max(0, m.start() - 30) : m.end() + 30] for m in HAN.finditer(text)]


@pytest.mark.parametrize("who", READERS)
def test_the_english_interface_shows_no_chinese(
    app: Flask, demo_city: None, who: str | None
) -> None:
    with app.app_context():
        # Longest first, so that a title goes whole before a shorter name inside it; with
        # its whitespace as the page text has it.
        data = sorted({" ".join(s.split()) for s in _one_language_data()}, key=len, reverse=True)
        db.session.remove()
    pages = 0
    for url, page in _pages_read(app, who, "en"):
        pages += 1
        chinese = _chinese_left(visible_text(page), data)
        assert not chinese, f"Chinese on {url} read in English: " + " | ".join(
            repr(snippet) for snippet in chinese
        )
    assert pages >= 3
