"""No English words in the Chinese interface (issue 18): every page a crawl of the demo
city reaches, as each staff role and as the public, is read in Chinese, and its visible
text may hold Latin-script words only where they are data (usernames, codes, case
numbers, file names) or a fixed set of technical names (CSV, PDF, the "English" switch).
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
from caseapp.models import Category, DeadlinePolicy, Department, Ledger, LedgerItem, User
from tests.conftest import _client_as

# Names that stay as they are in any language.
TECHNICAL = {
    "English", "YYYY-MM-DD", "Ctrl", "Mac", "localhost", "XLSX", "Excel", "CSV", "PNG",
    "PDF", "JPEG", "API", "App", "Open311", "SMS", "txt", "xlsx", "csv",
}  # fmt: skip
WORD = re.compile(r"(?<![\w.@/-])[A-Za-z][A-Za-z_-]{2,}(?![\w@/.-])")
PAGES_PER_USER = 45


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


@pytest.mark.parametrize("who", ["supervisor", "intake", "handler", "lead", "admin", None])
def test_the_chinese_interface_shows_no_english_words(
    app: Flask, demo_city: None, who: str | None
) -> None:
    with app.app_context():
        allowed = TECHNICAL | _data_words()
        db.session.remove()
    client = _client_as(app, who) if who else app.test_client()
    client.get("/?lang=zh_CN")
    start = ["/staff/queue", "/staff/inbox", "/supervisor/escalations", "/admin/"]
    if who is None:
        start = ["/", "/requests/new", "/track", "/stats"]
    pages = 0
    for url, page in _crawl(client, start):
        pages += 1
        english = set(WORD.findall(visible_text(page))) - allowed
        assert not english, f"{url}: {sorted(english)}"
    assert pages >= 3
