"""No input gives a 500, on either database (issue 15).

For every rule of the URL map and each of its methods (generated from the map, so a new
route is covered the day it is added), Hypothesis builds requests with hostile path
values (huge and negative numbers, NUL, long strings, bidirectional controls, …), query
strings and form fields, and sends each one as every kind of user: anonymous, a citizen
(the filer of cases in each status a citizen acts in, by their private links, and the
follower of another), and the demo accounts of each staff role, with a valid CSRF token.
Before them, explicit examples put each path value, one at a time, beyond its column
(``2**31``, ``9`` × 30) or holding NUL into the request as rendered. For each answer:

- no 5xx;
- on a 4xx, no row was written (row counts of every table before and after); on a GET
  none either, whatever the answer (a GET carries no CSRF token).

The fields come from the forms the app itself renders: before the first test a crawl,
as each kind of user, reads every page reachable from the start pages (itself a check:
none may fail) and collects the forms (their fields, options and values), the links'
query parameters and the path values of real rows. The API's fields come from its
OpenAPI document. A request starts from a form as rendered (so it gets past the easy
checks and reaches the services) and replaces some of its values with hostile ones.

The tests share one world (the demo base, cases in every status, a ledger, an API key, …)
for the whole module; the requests change it as a user would, which is part of the test.

Examples per route: ``CASEAPP_FUZZ_ROUTE_EXAMPLES`` (default 3; each example is sent as
all eight users). Derandomized, so CI repeats itself and a failure replays;
``CASEAPP_FUZZ_RANDOM=1`` for fresh examples.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter, RequestRedirect, Rule

from caseapp import create_app
from caseapp.extensions import db, limiter
from caseapp.models import Case, Category, Ledger, OutboxMessage
from caseapp.models.enums import CaseKind, CaseStatus, NotifyBy, OutboxStatus, Role
from caseapp.services.access import accounts
from caseapp.services.admin import api_keys
from caseapp.services.admin import catalog as admin_catalog
from caseapp.services.admin import departments as admin_departments
from caseapp.services.admin import policies as admin_policies
from caseapp.services.admin import reply_templates as admin_templates
from caseapp.services.admin import users as admin_users
from caseapp.services.casework import calendar_years, supervision
from caseapp.services.casework.lifecycle import Actor
from caseapp.services.filing.attachments import Upload, checked_uploads
from caseapp.services.filing.cases import NewCase, new_access_key, submit_case
from caseapp.services.ledgers import importing as ledger_import
from caseapp.services.ledgers import items as ledgers
from caseapp.web.open311.openapi import openapi_document
from config import TestConfig
from tests.conftest import DEMO_PASSWORD, AuthActions, empty_tables
from tests.factories import case_in, department, ledger, legacy_ledger, staff, user

pytestmark = [pytest.mark.long, pytest.mark.xdist_group("no-server-errors")]

EXAMPLES = int(os.environ.get("CASEAPP_FUZZ_ROUTE_EXAMPLES", "3"))
PHASES = (
    list(Phase)
    if os.environ.get("CASEAPP_FUZZ_SHRINK", "") in ("1", "true", "yes")
    else [Phase.explicit, Phase.reuse, Phase.generate]
)
DERANDOMIZE = os.environ.get("CASEAPP_FUZZ_RANDOM", "") not in ("1", "true", "yes")

STAFF = ("intake", "handler", "lead", "supervisor", "leader", "admin")
IDENTITIES = ("anonymous", "citizen", *STAFF)
IGNORED_METHODS = {"HEAD", "OPTIONS"}
TODAY = date.today()

# Pages the crawl reads per user: at most so many rows per endpoint (each case's page)
# and query strings per row, and so many pages in all.
CRAWL_PER_ENDPOINT = 25
CRAWL_QUERY_VARIANTS = 2
CRAWL_MAX_PAGES = 200


# --- the routes, from the URL map -----------------------------------------------------------


def _route_cases() -> list[tuple[str, str, str]]:
    """(rule, method, endpoint) for every method of every rule."""
    app = create_app(TestConfig)
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            found.append((rule.rule, method, rule.endpoint))
    return sorted(found)


ROUTES = _route_cases()


# --- hostile values ---------------------------------------------------------------------------

HOSTILE_NUMBERS = [
    "0", "-1", "1", "2147483647", "2147483648", "-2147483649", "4294967296",
    "9223372036854775807", "9223372036854775808", str(2**70), "9" * 30, "9" * 5000,
    "1.9999999999999999999", "1e309", "-1e309", "NaN", "Infinity", "-Infinity", "1e-400",
    "0x10", "+1", " 7 ", "1_000", "１２", "²", "١٢", "1,5", "",
]  # fmt: skip
HOSTILE_DATES = [
    "0001-01-01", "0999-12-31", "1899-12-31", "1970-01-01", "1999-12-31", "2000-01-01",
    "2199-12-31", "2200-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "99999-01-01",
    "-2026-01-01", "2026-1-1", "20260101", "today", "",
]  # fmt: skip
HOSTILE_TEXT = [
    "", " ", "\x00", "a\x00b", "\x01\x02\x03", "\x1b[31mred", "\x7f", "\x85", "\x9f", "\r\n\r\n",
    "\t", "\u202e反转标题", "标题\u202d", "\u2066隔离\u2069", "\u200b", "\u200b\u200d\ufeff\u2060",
    "\u00ad", "=1+1", "=HYPERLINK(\"http://x\")", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1",
    "<script>alert(1)</script>", "' OR 1=1 --", "\"; DROP TABLE cases; --", "../../etc/passwd",
    "%s%n%x", "{{7*7}}", "${7*7}", "x" * 5000, "中" * 4001, "😀" * 300, "a\u0301" * 50,
    "ﷺ" * 20, "YC2026-000001", "#1", "13812345678", "a@example.com", "http://example.com/",
    "javascript:alert(1)", "//evil.example", "\\\\evil", "null", "None", "true", "[]", "{}",
]  # fmt: skip

# Text any field may get: the lists above, and Hypothesis's own text (every Unicode
# category but surrogates, which UTF-8 cannot carry).
TEXT = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HOSTILE_NUMBERS),
    st.sampled_from(HOSTILE_DATES),
    st.text(max_size=40),
    st.integers().map(str),
)
# Numbers beyond every column (32-bit ids on PostgreSQL, 64-bit integers on SQLite).
BIG_NUMBERS = [
    "2147483648", "9223372036854775808", str(2**70), "9" * 40, "9" * 5000,
    "-9223372036854775809", "1.9999999999999999999",
]  # fmt: skip
PATH_NUMBERS = st.one_of(
    st.sampled_from([*BIG_NUMBERS, "0", "-1", "2147483647"]),
    st.integers(min_value=0, max_value=2**80).map(str),
)
NUMBERISH = st.one_of(st.sampled_from(BIG_NUMBERS), st.sampled_from(HOSTILE_NUMBERS), TEXT)
PATH_TEXT = st.one_of(
    st.sampled_from(
        [
            "\x00",
            "YC2026-000001\x00",
            "\u202eYC",
            "x" * 3000,
            "..",
            "%",
            "YC9999-999999999999",
            "YC2026-" + "9" * 30,
            "中文",
            " ",
            "a/b",
            "\u200b",
        ]
    ),  # fmt: skip
    st.text(min_size=1, max_size=30),
)


# --- reading the app's own pages -------------------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str  # text, textarea, select, checkbox, radio, hidden, file, number, date, …
    options: list[str] = field(default_factory=list)
    value: str | None = None  # as rendered (the checked or selected one for choices)
    multiple: bool = False


@dataclass
class FormSpec:
    """A form as rendered: where it goes and its fields."""

    endpoint: str
    method: str
    path_values: dict[str, str]
    query: list[tuple[str, str]]
    fields: dict[str, FormField]

    def __repr__(self) -> str:
        return f"<form {self.method} {self.endpoint} {self.path_values} {sorted(self.fields)}>"


class _PageParser(HTMLParser):
    """The links and forms of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[tuple[str, str, dict[str, FormField]]] = []
        self._form: tuple[str, str, dict[str, FormField]] | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "form":
            self._form = (a.get("action", ""), a.get("method", "get").upper(), {})
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            if value is not None:
                self._select.options.append(value)
                if "selected" in a or self._select.value is None:
                    self._select.value = value
        elif self._form is None or not a.get("name") or "disabled" in a:
            return
        elif tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            self._add(a["name"], kind, a.get("value", "on" if kind == "checkbox" else ""), a)
        elif tag == "select":
            self._select = self._field(a["name"], "select")
            self._select.multiple = "multiple" in a
        elif tag == "textarea":
            self._textarea = self._field(a["name"], "textarea")
            self._textarea.value = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value = (self._textarea.value or "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def _field(self, name: str, kind: str) -> FormField:
        assert self._form is not None
        fields = self._form[2]
        if name not in fields:
            fields[name] = FormField(name, kind)
        return fields[name]

    def _add(self, name: str, kind: str, value: str, attrs: dict[str, str]) -> None:
        found = self._field(name, kind)
        if kind in ("radio", "checkbox", "submit"):
            found.options.append(value)
            if "checked" in attrs or found.value is None:
                found.value = value
            found.multiple = kind == "checkbox" and len(found.options) > 1
        else:
            found.value = value


# --- the world the requests act on ----------------------------------------------------------


@dataclass
class Person:
    name: str
    client: FlaskClient
    token: str = ""
    stale: bool = False


@dataclass
class World:
    app: Flask
    engine: sa.Engine
    users: dict[str, Person]
    # Private-link keys and numbers of the citizen's cases (one browser holds them all).
    citizen_cases: list[tuple[str, str]]
    # (endpoint, argument) → path values seen in the app's own links and forms.
    values: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    by_argument: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    forms: dict[tuple[str, str], list[FormSpec]] = field(default_factory=lambda: defaultdict(list))
    queries: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    tables: list[str] = field(default_factory=list)

    def row_counts(self) -> dict[str, int]:
        # A refusal's security event (403, 404, 429) is written to the audit log on
        # purpose (caseapp.services.access.security_log): not counted.
        union = " UNION ALL ".join(
            f"SELECT '{name}' AS t, count(*) AS n FROM \"{name}\""
            + (" WHERE entity <> 'security'" if name == "audit_log" else "")
            for name in self.tables
        )
        with self.engine.connect() as conn:
            return {t: n for t, n in conn.exec_driver_sql(union)}


def _png() -> bytes:
    """A 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# The case the citizen's browser files again, so that the duplicate finder offers it to
# follow (the follower's pages).
FOLLOWED = {
    "category": "road-damage",
    "title": "圣惠路公交站被取消",
    "description": "圣惠路改造后村口公交站没有了，村民出行要走两公里。",
    "public_location": "圣惠路",
}


def _give_key(case: Case) -> str:
    """A new private link for a case the factories filed (they keep no key)."""
    key, key_hash = new_access_key()
    case.access_key_hash = key_hash
    db.session.commit()
    return key


def _build_world_rows() -> list[tuple[str, str]]:
    """The demo base; cases in every status (petitions too), an urged one (inbox
    notices), a legacy one (a ledger item); a ledger of each kind, an API key, a reply
    template, a calendar override, a retired category and department, a deactivated
    account, dead outbox notices. Returns the private-link keys and numbers of the
    citizen's cases: one in each status a citizen acts in, and one with a photo."""
    from caseapp.demo.base import load_base

    load_base()
    legacy_ledger()
    ledger(name_zh="我为群众办实事 2021", name_en="Practical things 2021")
    for status in CaseStatus:
        case_in(status)
    case_in(CaseStatus.CLOSED, kind=CaseKind.COMPLAINT)
    urged = case_in(CaseStatus.IN_PROGRESS, leader=True)
    supervision.urge_case(urged, staff("supervisor"), "请加快办理。", version=None)
    legacy = case_in(CaseStatus.IN_PROGRESS, lead="cgj")
    supervision.mark_legacy(legacy, staff("supervisor"), version=None)
    citizens = [
        case_in(status, kind=kind)
        for status, kind in (
            (CaseStatus.NEW, CaseKind.HELP),
            (CaseStatus.AWAITING_CITIZEN, CaseKind.PETITION),
            (CaseStatus.RESOLVED, CaseKind.HELP),
            (CaseStatus.RESOLVED, CaseKind.PETITION),
        )
    ]
    keys = [(_give_key(case), case.number) for case in citizens]
    photo = checked_uploads([Upload(filename="现场.png", data=_png())])
    for citizen, files in (("王建国", ()), ("赵敏", photo)):
        case, key = submit_case(
            NewCase(
                kind=CaseKind.HELP,
                category_code=FOLLOWED["category"],
                title=FOLLOWED["title"] if not files else "河东西街路灯不亮",
                description=FOLLOWED["description"] if not files else "河东西街路灯坏了一个月。",
                citizen_name=citizen,
                citizen_phone="13912345678",
                notify_by=NotifyBy.SMS,
                consent_privacy=True,
                public_location=FOLLOWED["public_location"] if not files else "河东西街",
            ),
            Actor.citizen(),
            files=files,
        )
        if files:
            keys.append((key, case.number))

    admin = user("admin")
    api_keys.create_key("fuzz", None)
    admin_templates.create_template(
        admin_templates.TemplateFields(
            category_id=None, title="受理答复", body_zh="您好，已收到。"
        ),
        admin,
    )
    retired = admin_templates.create_template(
        admin_templates.TemplateFields(category_id=None, title="旧模板", body_zh="旧的答复。"),
        admin,
    )
    admin_templates.set_template_retired(retired.id, True, admin)
    admin_policies.add_override(admin, date(TODAY.year, 12, 31), "holiday", "fuzz")
    campaign = db.session.scalar(sa.select(Ledger).where(Ledger.code == "ss2021"))
    done = ledgers.create_item(campaign, user("supervisor"), ledgers.ItemFields("建设3座人行天桥"))
    ledgers.write_off_item(done, user("supervisor"), "已建成。")
    admin_catalog.retire_category(
        admin, db.session.scalar(sa.select(Category.id).where(Category.service_code == "fraud"))
    )
    admin_departments.retire_department(admin, department("gdgs").id)
    extra = accounts.create_user("fuzz-retired", DEMO_PASSWORD, "退休人员", [Role.HANDLER], "zjj")
    admin_users.deactivate_account(admin, extra.id)
    for message in db.session.scalars(sa.select(OutboxMessage).limit(3)):
        message.status = OutboxStatus.DEAD
    db.session.commit()
    return keys


def _token_of(client: FlaskClient) -> str:
    page = client.get("/track").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on /track"
    return match.group(1)


def _sign_in(world: World, person: Person) -> None:
    """(Again) sign ``person`` in; a fuzzed request may have deactivated the account,
    reset its password or signed it out."""
    person.client = world.app.test_client()
    with world.app.app_context():
        if person.name in STAFF:
            account = user(person.name)
            account.active = True
            account.must_change_password = False
            account.password_hash = accounts.hash_password(DEMO_PASSWORD)
            db.session.commit()
        db.session.remove()
    limiter.reset()
    if person.name in STAFF:
        response = AuthActions(person.client).login(person.name)
        assert response.status_code == 302, f"{person.name} could not sign in again"
    elif person.name == "citizen":
        for key, _number in world.citizen_cases:
            assert person.client.get(f"/p/{key}").status_code == 302
    person.token = _token_of(person.client)
    person.stale = False


# --- the crawl --------------------------------------------------------------------------------


def _match(world: World, url: str, method: str) -> tuple[str, dict[str, Any]] | None:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        return None
    adapter = world.app.url_map.bind("localhost")
    try:
        return adapter.match(unquote(parts.path), method=method)
    except (HTTPException, RequestRedirect):
        return None


def _record_path_values(world: World, endpoint: str, values: dict[str, Any]) -> None:
    for name, value in values.items():
        world.values[(endpoint, name)].add(str(value))
        world.by_argument[name].add(str(value))


def _read_page(world: World, url: str, html: str) -> list[tuple[str, str, dict[str, str]]]:
    """Record the page's forms, its links' path values and query parameters; return the
    endpoint, path and path values of each link."""
    parser = _PageParser()
    parser.feed(html)
    links = []
    for href in parser.links:
        target = urlsplit(urljoin(url, href))
        found = _match(world, target.geturl(), "GET")
        if found is None:
            continue
        endpoint, values = found
        _record_path_values(world, endpoint, values)
        for key, value in parse_qsl(target.query, keep_blank_values=True):
            world.queries[endpoint][key].add(value)
        path = target.path + (f"?{target.query}" if target.query else "")
        links.append((endpoint, path, {k: str(v) for k, v in values.items()}))
    for action, method, fields in parser.forms:
        target = urljoin(url, action or url)
        found = _match(world, target, method)
        if found is None:
            continue
        endpoint, values = found
        _record_path_values(world, endpoint, values)
        if method == "GET":
            for name, one in fields.items():
                world.queries[endpoint][name].update(one.options or [one.value or ""])
            continue
        spec = FormSpec(
            endpoint,
            method,
            {k: str(v) for k, v in values.items()},
            parse_qsl(urlsplit(target).query, keep_blank_values=True),
            fields,
        )
        known = world.forms[(endpoint, method)]
        signature = (tuple(sorted(spec.path_values.items())), tuple(sorted(fields)))
        if all(
            (tuple(sorted(k.path_values.items())), tuple(sorted(k.fields))) != signature
            for k in known
        ):
            known.append(spec)
    return links


def _crawl(world: World, person: Person, start: list[str]) -> None:
    """Read the pages reachable from ``start`` and the address-less pages as ``person``;
    none may fail. Pages of an endpoint not seen yet come first, then other rows of an
    endpoint (each case's page: its forms differ by status), then other query strings."""
    adapter = world.app.url_map.bind("localhost")
    tiers: tuple[list[str], list[str], list[str]] = (
        list(start)
        + [
            adapter.build(rule.endpoint)
            for rule in world.app.url_map.iter_rules()
            if "GET" in (rule.methods or ()) and not rule.arguments
        ],
        [],
        [],
    )
    seen: set[str] = set(tiers[0])
    rows: dict[str, set[tuple[tuple[str, str], ...]]] = defaultdict(set)
    variants: dict[tuple[str, tuple[tuple[str, str], ...]], int] = defaultdict(int)
    pages = 0
    while any(tiers) and pages < CRAWL_MAX_PAGES:
        url = next(tier for tier in tiers if tier).pop(0)
        response = person.client.get(url)
        body = response.get_data()
        response.close()
        pages += 1
        assert response.status_code < 500, (person.name, "GET", url, response.status_code)
        if not (response.content_type or "").startswith("text/html"):
            continue
        for endpoint, path, values in _read_page(world, url, body.decode()):
            row = tuple(sorted(values.items()))
            if path in seen or variants[(endpoint, row)] >= CRAWL_QUERY_VARIANTS:
                continue
            if row not in rows[endpoint] and len(rows[endpoint]) >= CRAWL_PER_ENDPOINT:
                continue
            tier = 0 if not rows[endpoint] else 1 if row not in rows[endpoint] else 2
            rows[endpoint].add(row)
            variants[(endpoint, row)] += 1
            seen.add(path)
            tiers[tier].append(path)


def _post_and_read(world: World, person: Person, url: str, data: dict[str, str]) -> str:
    """POST as ``person`` and read the forms of the answer (pages only a POST shows)."""
    limiter.reset()
    response = person.client.post(url, data={"csrf_token": person.token, **data})
    html = response.get_data(as_text=True)
    response.close()
    assert response.status_code < 500, (person.name, "POST", url, response.status_code)
    _read_page(world, url, html)
    return html


def _pages_behind_posts(world: World) -> None:
    """Pages a crawl cannot reach by links: the tracking code's two steps (anonymous),
    and following a case the duplicate finder offers (the citizen, who so becomes a
    follower too)."""
    anonymous, citizen = world.users["anonymous"], world.users["citizen"]
    with world.app.app_context():
        number = db.session.scalar(sa.select(Case.number).order_by(Case.id))
        db.session.remove()
    _post_and_read(world, anonymous, "/track", {"number": number, "phone": "13812345678"})
    for step, url in (("public.send_code", "/track/code"), ("public.verify_code", "/track/verify")):
        for spec in world.forms.get((step, "POST"), [])[:1]:
            values = {name: one.value or "" for name, one in spec.fields.items()}
            values.pop("csrf_token", None)
            _post_and_read(world, anonymous, url, values)
    filing = {
        **FOLLOWED,
        "kind": "help",
        "citizen_name": "李四",
        "citizen_phone": "13712345678",
        "notify_by": "sms",
        "consent_privacy": "y",
    }
    _post_and_read(world, citizen, f"/requests/new?category={FOLLOWED['category']}", filing)
    for spec in world.forms.get(("public.follow_request", "POST"), [])[:1]:
        values = {
            name: one.value or "" for name, one in spec.fields.items() if one.name != "csrf_token"
        }
        values.update(
            name="李四", phone="13712345678", citizen_name="李四", citizen_phone="13712345678"
        )
        number = spec.path_values["number"]
        _post_and_read(world, citizen, f"/requests/follow/{number}", values)
        _crawl(world, citizen, [f"/track/{number}"])


def _workbook(rows: list[list[Any]]) -> bytes:
    """An XLSX file with the import's headings and ``rows``."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([column.zh for column in ledger_import.COLUMNS])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import_preview(world: World) -> None:
    """The import's preview page (its confirm form): a supervisor uploads one good row."""
    supervisor = world.users["supervisor"]
    specs = world.forms.get(("supervisor.ledger_import", "POST"), [])
    assert specs, "no import form was found"
    spec = specs[0]
    upload = next(name for name, one in spec.fields.items() if one.kind == "file")
    row = ["2026-001", "修缮5处人行道", "项目建设服务", "市住房和城乡建设局", "", "2026-12-31",
           "未启动", "", ""]  # fmt: skip
    limiter.reset()
    url = "/supervisor/ledgers/ss2021/import"
    response = supervisor.client.post(
        url,
        data={"csrf_token": supervisor.token, upload: (io.BytesIO(_workbook([row])), "items.xlsx")},
    )
    html = response.get_data(as_text=True)
    response.close()
    assert response.status_code < 500
    _read_page(world, url, html)


def _schedule_preview(world: World) -> None:
    """The calendar schedule's preview page (its confirm form): an admin uploads the
    2027 test example."""
    admin = world.users["admin"]
    specs = world.forms.get(("admin.preview_calendar_schedule", "POST"), [])
    assert specs, "no schedule upload form was found"
    upload = next(name for name, one in specs[0].fields.items() if one.kind == "file")
    name = "2027-test-example.txt"
    data = (calendar_years.EXAMPLES / name).read_bytes()
    url = "/admin/calendar/import"
    response = admin.client.post(
        url, data={"csrf_token": admin.token, upload: (io.BytesIO(data), name)}
    )
    html = response.get_data(as_text=True)
    response.close()
    assert response.status_code < 500
    _read_page(world, url, html)


def _api_forms(world: World) -> None:
    """The API's query parameters and filing fields, from its OpenAPI document."""
    with world.app.app_context():
        key = api_keys.create_key("fuzz-forms", None)[1]
        codes = list(db.session.scalars(sa.select(Category.service_code)))
        numbers = list(db.session.scalars(sa.select(Case.number)))
        db.session.remove()
    world.by_argument["service_code"].update(codes[:5])
    world.by_argument["service_request_id"].update(numbers[:5])
    for path, operations in openapi_document()["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method, operation in operations.items():
            found = _match(world, concrete, method.upper())
            if found is None:
                continue
            endpoint, _values = found
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    world.queries[endpoint][parameter["name"]].add("")
            body = operation.get("requestBody", {}).get("content", {})
            schema = body.get("application/x-www-form-urlencoded", {}).get("schema")
            if schema:
                fields = {name: FormField(name, "text", value="") for name in schema["properties"]}
                fields["api_key"] = FormField("api_key", "hidden", value=key)
                fields["service_code"].value = codes[0]
                fields["description"].value = "红旗西街人行道砖块松动。"
                fields["phone"].value = "13812345678"
                fields["first_name"].value = "秀英"
                fields["last_name"].value = "张"
                fields["lat"].value = "35.0264"
                fields["long"].value = "111.0073"
                world.forms[(endpoint, "POST")].append(FormSpec(endpoint, "POST", {}, [], fields))


# --- the module's world -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """This module keeps one world for all its tests (``world`` empties it at the end)
    instead of the suite's empty database per test."""
    yield


@pytest.fixture(scope="module")
def world(app: Flask) -> Iterator[World]:
    with app.app_context():
        keys = _build_world_rows()
        engine = db.engine
        tables = [t.name for t in db.metadata.sorted_tables]
        db.session.remove()
    users = {name: Person(name, app.test_client()) for name in IDENTITIES}
    built = World(app, engine, users, keys, tables=tables)
    for person in users.values():
        if person.name == "anonymous":
            person.token = _token_of(person.client)
        else:
            _sign_in(built, person)
    _pages_behind_posts(built)
    for person in users.values():
        start = [f"/track/{n}" for _key, n in keys] if person.name == "citizen" else []
        _crawl(built, person, start)
    _import_preview(built)
    _schedule_preview(built)
    # A private link seen on a page (the confirmation) is a credential: opened by the
    # anonymous browser it would make it a citizen. Only hostile keys are sent.
    built.by_argument.pop("key", None)
    for found in [k for k in built.values if k[1] == "key"]:
        del built.values[found]
    _api_forms(built)
    yield built
    with app.app_context():
        db.session.remove()
        empty_tables(db.engine)
        limiter.reset()
    for child in Path(app.config["UPLOAD_DIR"]).iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


# --- building a request -----------------------------------------------------------------------


def _filler(one: FormField) -> str:
    """A plausible value for a field rendered empty, so the rest of the form gets past
    "required" and reaches the services."""
    name = one.name.lower()
    if one.kind == "date" or name.endswith(("_on", "_date", "date", "_at")) or name in (
        "day", "first", "last", "received_from", "received_to"
    ):  # fmt: skip
        return TODAY.isoformat()
    if one.kind == "number" or name in ("days", "value", "urgent_value") or "weight" in name:
        return "3"
    if "phone" in name:
        return "13812345678"
    if "email" in name:
        return "fuzz@example.com"
    if name in ("username",):
        return "fuzz-user"
    if name in ("code", "service_code") or name.endswith("-code"):
        return "fuzz-code"
    if one.kind == "password" or "password" in name:
        return "a long enough pass phrase 42"
    return "红旗西街路灯不亮"


def _field_value(data: st.DataObject, one: FormField) -> list[str]:
    """The values to send for one field: as rendered (or a plausible filler), or hostile."""
    roll = data.draw(st.integers(0, 9), label=f"{one.name}?")
    if roll == 0:
        return []  # left out
    if roll <= 6:
        if one.kind == "hidden" or one.kind in ("select", "radio", "checkbox", "submit"):
            if one.options and one.kind != "hidden":
                return [data.draw(st.sampled_from(one.options), label=one.name)]
            return [one.value or ""]
        return [one.value if one.value else _filler(one)]
    if one.kind == "file":
        return []
    if one.kind in ("number", "hidden") or one.options:
        hostile = NUMBERISH
    elif one.kind == "date":
        hostile = st.one_of(st.sampled_from(HOSTILE_DATES), TEXT)
    else:
        hostile = TEXT
    values = [data.draw(hostile, label=one.name)]
    if data.draw(st.integers(0, 5), label=f"{one.name} twice?") == 0:
        values.append(data.draw(hostile, label=one.name))
    return values


def _path_value(data: st.DataObject, world: World, rule: Rule, endpoint: str, name: str) -> str:
    converter = rule._converters[name]
    known = sorted(world.values.get((endpoint, name), set()) or world.by_argument.get(name, set()))
    if isinstance(converter, AnyConverter):
        known = sorted(set(known) | set(converter.items))
    if known and data.draw(st.booleans(), label=f"{name} known?"):
        return data.draw(st.sampled_from(known), label=name)
    if isinstance(converter, IntegerConverter):
        return data.draw(PATH_NUMBERS, label=name)
    return data.draw(PATH_TEXT, label=name)


def _url(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with ``values`` in it, each quoted as one segment (a path
    converter keeps its slashes)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(2)
        safe = "/" if isinstance(rule._converters[name], PathConverter) else ""
        return quote(values[name], safe=safe)

    return re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", lambda m: one(m), rule.rule)


@dataclass
class Sent:
    method: str
    url: str
    query: list[tuple[str, str]]
    form: list[tuple[str, Any]]
    files: list[tuple[str, str, bytes]]


def _build(data: st.DataObject, world: World, rule: Rule, method: str) -> Sent:
    endpoint = rule.endpoint
    specs = world.forms.get((endpoint, method), [])
    spec = data.draw(st.sampled_from(specs), label="form") if specs else None
    values: dict[str, str] = {}
    for name in rule.arguments:
        if (
            spec is not None
            and name in spec.path_values
            and data.draw(st.integers(0, 4), label=f"{name} as rendered?")
        ):
            values[name] = spec.path_values[name]
        else:
            values[name] = _path_value(data, world, rule, endpoint, name)
    query: list[tuple[str, str]] = list(spec.query) if spec else []
    known_query = world.queries.get(endpoint, {})
    for name in sorted(known_query):
        if data.draw(st.integers(0, 2), label=f"query {name}?") == 0:
            continue
        options = sorted(known_query[name])
        if options and data.draw(st.booleans(), label=f"query {name} known?"):
            query.append((name, data.draw(st.sampled_from(options), label=name)))
        else:
            query.append((name, data.draw(TEXT, label=name)))
    if data.draw(st.integers(0, 5), label="extra query?") == 0:
        query.append((data.draw(st.sampled_from(["after", "page", "next", "lang", "template",
                                                 "year", "of", "figure", "view", "q"])),
                      data.draw(TEXT)))  # fmt: skip
    form: list[tuple[str, Any]] = []
    files: list[tuple[str, str, bytes]] = []
    if method != "GET":
        for one in spec.fields.values() if spec else []:
            if one.name == "csrf_token":
                continue
            if one.kind == "file":
                if data.draw(st.integers(0, 3), label=f"{one.name} file?") == 0:
                    files.append(
                        (
                            one.name,
                            data.draw(st.sampled_from(["x.png", "x.jpg", "x.pdf", "../../x.png",
                                                       "\u202egnp.exe", "x" * 300 + ".png", ""])),
                            data.draw(FILE_CONTENTS),
                        )
                    )  # fmt: skip
                continue
            form.extend((one.name, value) for value in _field_value(data, one))
        if data.draw(st.integers(0, 5), label="extra field?") == 0:
            form.append((data.draw(st.text(min_size=1, max_size=20)), data.draw(TEXT)))
    return Sent(method, _url(rule, values), query, form, files)


def _xlsx_cells() -> st.SearchStrategy[Any]:
    printable = [t for t in HOSTILE_TEXT if not ILLEGAL_CHARACTERS_RE.search(t)]
    return st.one_of(
        st.none(),
        st.sampled_from(printable),
        st.sampled_from(HOSTILE_NUMBERS + HOSTILE_DATES),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.dates(min_value=date(1900, 3, 1)),
        st.text(max_size=20).filter(lambda t: not ILLEGAL_CHARACTERS_RE.search(t)),
    )


# What a file field may get: a real image, nothing, junk, and workbooks with hostile
# cells under the import's headings.
FILE_CONTENTS = st.one_of(
    st.sampled_from([b"", b"%PDF-1.4\n%%EOF", b"\xff\xd8\xff\xe0garbage", b"PK\x03\x04junk"]),
    st.just(b"").map(lambda _: _png()),
    st.binary(max_size=64),
    st.lists(st.lists(_xlsx_cells(), min_size=1, max_size=9), max_size=3).map(_workbook),
)


def _send(world: World, person: Person, sent: Sent) -> Any:
    form = MultiDict(sent.form)
    if sent.method != "GET":
        form.add("csrf_token", person.token)
        for name, filename, content in sent.files:
            form.add(name, (io.BytesIO(content), filename))
    return person.client.open(
        sent.url,
        method=sent.method,
        query_string=sent.query,
        data=form if sent.method != "GET" else None,
    )


def _signed_out(response: Any) -> bool:
    location = response.headers.get("Location", "")
    return "/staff/login" in location or "/staff/password" in location


def _describe(person: Person, sent: Sent, status: int) -> str:
    def short(value: Any) -> str:
        text = repr(value)
        return text if len(text) < 120 else text[:117] + "…"

    return (
        f"{person.name} {sent.method} {short(sent.url)} → {status}\n"
        f"  query: {[(k, short(v)) for k, v in sent.query]}\n"
        f"  form: {[(k, short(v)) for k, v in sent.form]}\n"
        f"  files: {[(n, short(f), len(c)) for n, f, c in sent.files]}"
    )


def _check(world: World, sent: Sent) -> None:
    """Send ``sent`` as every user: no 5xx, and no row written on a 4xx."""
    for person in world.users.values():
        if person.stale:
            _sign_in(world, person)
        limiter.reset()
        before = world.row_counts()
        try:
            response = _send(world, person, sent)
            response.get_data()
            response.close()
        except Exception as error:  # TESTING propagates a view's exception
            raise AssertionError(_describe(person, sent, 500)) from error
        status = response.status_code
        assert status < 500, _describe(person, sent, status)
        # A GET carries no CSRF token, so it may write nothing whatever it answers.
        if 400 <= status < 500 or sent.method == "GET":
            after = world.row_counts()
            written = {t: after[t] - before[t] for t in after if after[t] != before[t]}
            assert not written, f"rows written on a {sent.method} {status}: {written}\n" + (
                _describe(person, sent, status)
            )
        if person.name in STAFF and _signed_out(response):
            person.stale = True


# The explicit examples: each path value, one at a time, beyond what its column or
# PostgreSQL takes, in the request as rendered.
EXTREME_NUMBERS = (str(2**31), "9" * 30)
EXTREME_TEXT = ("a\x00b", "\u202e" + "x" * 3000)


def _extremes(world: World, rule: Rule, method: str) -> Iterator[Sent]:
    specs = world.forms.get((rule.endpoint, method), [])
    spec = specs[0] if specs else None
    values = {}
    for name in rule.arguments:
        known = sorted(
            world.values.get((rule.endpoint, name), ()) or world.by_argument.get(name, ())
        )
        rendered = spec.path_values.get(name) if spec else None
        values[name] = rendered or (known[0] if known else "1")
    form: list[tuple[str, Any]] = []
    if spec is not None and method != "GET":
        for one in spec.fields.values():
            if one.name != "csrf_token" and one.kind != "file":
                form.append((one.name, one.value if one.value else _filler(one)))
    query = list(spec.query) if spec else []
    for name in rule.arguments:
        converter = rule._converters[name]
        extremes = EXTREME_NUMBERS if isinstance(converter, IntegerConverter) else EXTREME_TEXT
        for extreme in extremes:
            yield Sent(method, _url(rule, {**values, name: extreme}), query, form, [])


@pytest.mark.parametrize(
    ("rule_text", "method", "endpoint"), ROUTES, ids=[f"{m} {r}" for r, m, _ in ROUTES]
)
def test_no_input_gives_a_server_error(
    world: World, rule_text: str, method: str, endpoint: str
) -> None:
    rule = next(
        r for r in world.app.url_map.iter_rules() if r.rule == rule_text and r.endpoint == endpoint
    )
    for sent in _extremes(world, rule, method):
        _check(world, sent)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=list(HealthCheck),
        # The requests change the world, so a shrunk example would not replay the
        # failure; the example as found is reported (CASEAPP_FUZZ_SHRINK=1 to try).
        phases=PHASES,
        report_multiple_bugs=False,
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        _check(world, _build(data, world, rule, method))

    run()


def test_the_crawl_found_the_forms(world: World) -> None:
    """The fuzzing reaches the services only through the forms the crawl found: every
    POST route has one, so a route whose form no page shows fails here (add what the
    world needs to show it)."""
    without = sorted(
        f"{method} {rule}"
        for rule, method, endpoint in ROUTES
        if method == "POST" and not world.forms.get((endpoint, method))
    )
    assert without == [], without
