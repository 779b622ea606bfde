"""The hostile-input corpus of ``tests/hostile/`` sent where it can hurt (issue 20, point 4).

Beside the generated no-500 test (``test_no_server_errors``, random values over the whole
URL map), this module replays a fixed corpus kept as data files, each entry its own test
id, on whichever database the suite runs on:

- text values (``tests/hostile/text/*.json``: over-long, NUL and control characters,
  invalid UTF-8, bidirectional controls and invisible text, mixed scripts, HTML and
  templates, SQL and search syntax, path traversal, polyglots) in the public filing form's
  fields, a follower's name, the tracking, private-link and tracking-code routes, the
  staff sign-in, a staff note and the queue search, and Open311 (POST fields, service
  codes, attributes, GET ids and filters);
- uploads (``tests/hostile/files/``) on the public form;
- forged ids in a dispatch and in Open311, stale versions on staff actions, forged and
  replayed CSRF tokens, and huge or malformed bodies (``tests/hostile/requests/``).

For each answer: never a 5xx, never the secret key. A refusal is a clear 4xx (400 for a
bad value or token, 409 for a stale version, 413 for a body over a limit) and nothing is
stored: the rows of every table a request could write, each case's version and status,
the accounts' sign-ins and the files in (and beside) the upload folder are the same
before and after. Text that is odd but valid (mixed scripts, markup as text) is filed or
noted, stored as typed and shown escaped: the raw markup never appears on the page.

Which kinds of text each field refuses is the table ``FIELDS`` below (the rules the
README states: titles and names refuse bidirectional controls and need a visible
character; a one-line field refuses line breaks; every text refuses control characters
and text damaged in transit).

CSRF protection is on for this module as for the whole suite (``TestConfig``), which the
CSRF tests check first. The module shares one small world (the demo base, cases in
progress, a new case, an API key, signed-in clients), built once; refused requests leave
it as it was, and kept ones only add cases, notes, followers and files.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from markupsafe import escape
from werkzeug.test import TestResponse

from caseapp.extensions import db, limiter
from caseapp.models import Attachment, Case, CaseEvent, CaseFollower
from caseapp.models.enums import CaseStatus
from caseapp.services.admin import api_keys
from caseapp.services.filing.validation import clean_text
from config import Config
from tests.conftest import (
    DEMO_PASSWORD,
    AuthActions,
    Snapshots,
    csrf_token,
    empty_tables,
)
from tests.factories import case_in, department, new_department

pytestmark = pytest.mark.xdist_group("hostile-corpus")

CORPUS = Path(__file__).resolve().parents[1] / "hostile"
# How a browser sends each form: multipart where the form takes files (the filing form,
# the staff composer), URL-encoded elsewhere; Open311 clients send either.
MULTIPART = "multipart"
URLENCODED = "urlencoded"
API = "/open311/v2"
NOTED_CASES = 4
FORM = "/requests/new?category=bus-stop"


FORM_BODY_LIMIT = Config.MAX_FORM_BODY

# --- the corpus --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One text value of the corpus: what is sent (bytes, since some are not UTF-8), and
    what the app reads from it and must do with it (its kind, per body: see ``read``)."""

    family: str
    id: str
    kind: str  # nul, control, line-break, damaged, bidi, invisible, overlong, too-large, odd
    sent: bytes
    why: str

    def read(self) -> str:
        """The text a view reads from this value, in a body of any kind: bytes that are
        not UTF-8 become U+FFFD (caseapp.web.parsing.Request for a query string and a
        URL-encoded body, Werkzeug for a multipart one)."""
        return self.sent.decode("utf-8", "replace")

    def kind_in(self, body: str) -> str:
        """What the value is once read from a ``body`` of that kind: the form parser's
        limit on one field's memory holds for multipart bodies only (Werkzeug reads a
        URL-encoded one whole, within MAX_FORM_BODY), so there the longest value alone
        is merely too long."""
        if body == URLENCODED:
            return {"too-large": "overlong"}.get(self.kind, self.kind)
        return self.kind

    @property
    def test_id(self) -> str:
        return f"{self.family}/{self.id}"


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _texts() -> list[Text]:
    found = []
    for path in sorted((CORPUS / "text").glob("*.json")):
        for entry in _load(path)["entries"]:
            if "hex" in entry:
                sent = bytes.fromhex(entry["hex"])
            elif "repeat" in entry:
                sent = (entry["repeat"] * entry["times"]).encode()
            else:
                sent = entry["text"].encode()
            found.append(Text(path.stem, entry["id"], entry["class"], sent, entry["why"]))
    return found


TEXTS = _texts()
KINDS = {
    "nul",
    "control",
    "line-break",
    "damaged",
    "bidi",
    "invisible",
    "overlong",
    "too-large",
    "odd",
}


def _entries(relative: str) -> list[dict[str, Any]]:
    return _load(CORPUS / relative)["entries"]


def _params(entries: list[Any], ids: Callable[[Any], str]) -> list[Any]:
    return [pytest.param(e, id=ids(e)) for e in entries]


TEXT_PARAMS = _params(TEXTS, lambda t: t.test_id)


def test_the_corpus_is_what_its_readme_says() -> None:
    """Every family is described, every kind known, ids unique, the folder small."""
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert len(TEXTS) >= 60
    assert len({t.test_id for t in TEXTS}) == len(TEXTS)
    for text in TEXTS:
        assert text.kind in KINDS, text.test_id
        assert text.why, text.test_id
    for path in [*(CORPUS / "text").glob("*.json"), *(CORPUS / "requests").glob("*.json")]:
        assert f"`{path.parent.name}/{path.name}`" in readme, path.name
    for entry in _entries("files/files.json"):
        assert "generate" in entry or (CORPUS / "files" / entry["file"]).is_file(), entry["id"]
    size = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert size < 400_000, f"the corpus is {size} bytes"


# --- which field refuses what -------------------------------------------------------------------

# Refused in every field: NUL (before any view), controls, damaged text, and what is over
# every limit (the longest text takes 4,000 characters) or over the form parser's.
EVERYWHERE = frozenset({"nul", "control", "damaged", "overlong", "too-large"})
ONE_LINE = frozenset({"line-break"})
NAME_LIKE = frozenset({"line-break", "bidi", "invisible"})


@dataclass(frozen=True)
class Field:
    """A text field: how long it may be, and which kinds it refuses besides EVERYWHERE."""

    name: str
    limit: int
    refuses: frozenset[str] = frozenset()

    def refused(self, text: Text, body: str) -> bool:
        kind = text.kind_in(body)
        return kind in EVERYWHERE | self.refuses or len(clean_text(text.read())) > self.limit


FIELDS = {
    # The public filing form.
    "title": Field("title", 200, NAME_LIKE),
    "description": Field("description", 4000),
    "public_location": Field("public_location", 120, ONE_LINE),
    "citizen_name": Field("citizen_name", 80, NAME_LIKE),
    # A staff note.
    "note": Field("text", 4000),
    # Open311: the case's title is the description's first line, so the title's rules
    # hold for it, but for line breaks. The name is the web form's, made of the last name
    # (here 张, visible) and the first: so one character shorter, and never invisible.
    "api_description": Field("description", 4000, frozenset({"bidi", "invisible"})),
    "api_first_name": Field("first_name", 79, frozenset({"line-break", "bidi"})),
    "api_route": Field("attribute[route]", 200),
    # Following a case offered by the duplicate finder: the name as the filer's.
    "follower_name": Field("citizen_name", 80, NAME_LIKE),
}


# --- the world ---------------------------------------------------------------------------------

WATCHED_TABLES = (
    "cases",
    "case_events",
    "case_participants",
    "case_requests",
    "case_followers",
    "attachments",
    "api_filings",
    "tracking_codes",
    "outbox",
    "inbox_messages",
    "audit_log",
)


@dataclass(frozen=True)
class Stored:
    """What a refused request must leave as it found it."""

    rows: dict[str, str]
    files: tuple[str, ...]
    beside_uploads: tuple[str, ...]


@dataclass
class World:
    app: Flask
    engine: sa.Engine
    upload_dir: Path
    api_key: str
    # Cases in progress that the handler notes on (several, so that no case page grows
    # long with the notes kept: the page is rendered again on every refusal); a new case
    # that intake dispatches.
    worked_cases: tuple[str, ...]
    new: str
    new_phone: str
    retired_department: int
    citizen: FlaskClient
    handler: FlaskClient
    intake: FlaskClient
    stranger: FlaskClient  # never signs in
    tokens: dict[int, str] = field(default_factory=dict)

    @property
    def worked(self) -> str:
        return self.worked_cases[0]

    def noted(self, key: str) -> str:
        """The case a note test writes on, the same for the same test."""
        return self.worked_cases[zlib.crc32(key.encode()) % len(self.worked_cases)]

    def stored(self) -> Stored:
        """Row counts, the sum of the cases' versions (every change of a case raises its
        version, a status change too) and the last sign-in, in one statement; the files
        in and beside the upload folder."""
        # A refusal's security event (a refused sign-in, page or key) is written to the
        # audit log on purpose (caseapp.services.access.security_log): not counted.
        counts = [
            f"SELECT '{name}', CAST(count(*) AS VARCHAR(20)) FROM \"{name}\""
            + (" WHERE entity <> 'security'" if name == "audit_log" else "")
            for name in WATCHED_TABLES
        ]
        counts += [
            "SELECT 'case versions', CAST(sum(version) AS VARCHAR(20)) FROM cases",
            "SELECT 'last sign-in', CAST(max(last_login_at) AS VARCHAR(40)) FROM users",
        ]
        with self.engine.connect() as conn:
            rows = dict(conn.exec_driver_sql(" UNION ALL ".join(counts)).all())
        files = tuple(
            sorted(str(p.relative_to(self.upload_dir)) for p in self.upload_dir.rglob("*"))
        )
        beside = tuple(sorted(p.name for p in self.upload_dir.parent.iterdir()))
        return Stored(rows, files, beside)

    def token(self, client: FlaskClient, page: str = "/track") -> str:
        """The CSRF token of this client's session (read once: it holds for the session)."""
        if id(client) not in self.tokens:
            self.tokens[id(client)] = csrf_token(client, page)
        return self.tokens[id(client)]

    def version(self, number: str) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(Case.version).where(Case.number == number)).scalar()
        assert found is not None
        return found


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302, username
    return client


@pytest.fixture(scope="module")
def world(app: Flask, snapshots: Snapshots) -> Iterator[World]:
    from caseapp.demo.base import load_base

    with app.app_context():
        snapshots.restore("base", load_base)
        worked = [case_in(CaseStatus.IN_PROGRESS) for _ in range(NOTED_CASES)]
        new = case_in(CaseStatus.NEW)
        retired = new_department("retired-hostile", "已撤销的局", "A retired bureau")
        retired.retired_at = new.created_at
        _row, key = api_keys.create_key("hostile corpus", None)
        db.session.commit()
        rows = (tuple(c.number for c in worked), new.number, new.citizen_phone, retired.id, key)
        engine = db.engine
        db.session.remove()
    # Signed in outside the app context: flask-login keeps its user on ``g``, which an
    # app context pushed around the requests would share between them.
    made = World(
        app=app,
        engine=engine,
        upload_dir=Path(app.config["UPLOAD_DIR"]),
        api_key=rows[4],
        worked_cases=rows[0],
        new=rows[1],
        new_phone=rows[2],
        retired_department=rows[3],
        citizen=app.test_client(),
        handler=_signed_in(app, "handler"),
        intake=_signed_in(app, "intake"),
        stranger=app.test_client(),
    )
    yield made
    with app.app_context():
        db.session.remove()
        empty_tables(db.engine)
    # As the suite's own cleaning does after each test: the next module finds no files.
    for child in made.upload_dir.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


@pytest.fixture(autouse=True)
def _clean_state(app: Flask) -> Iterator[None]:
    """The module shares one world (the suite's own fixture would empty it after each
    test); only the rate limits start afresh, so that a limit never answers for a rule."""
    with app.app_context():
        limiter.reset()
    yield


# --- sending and judging -----------------------------------------------------------------------


def _form_body(fields: dict[str, str | bytes]) -> str:
    """A URL-encoded body; bytes values go as they are (invalid UTF-8 included)."""
    return urlencode(list(fields.items()))


BOUNDARY = "hostile-corpus-boundary"


def _part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if filename:
        head += "Content-Type: application/pdf\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


def _multipart_body(fields: dict[str, str | bytes]) -> bytes:
    """A multipart body; bytes values go as they are (invalid UTF-8 included)."""
    parts = [_part(k, v if isinstance(v, bytes) else v.encode()) for k, v in fields.items()]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def post_form(
    client: FlaskClient, url: str, fields: dict[str, str | bytes], body: str = URLENCODED
) -> TestResponse:
    if body == MULTIPART:
        return client.post(
            url,
            data=_multipart_body(fields),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )
    return client.post(
        url, data=_form_body(fields), content_type="application/x-www-form-urlencoded"
    )


def path_part(value: bytes) -> str:
    return quote(value, safe="")


def sound(world: World, response: TestResponse) -> str:
    """Checks every answer passes: no 5xx, the secret key nowhere. Returns the body."""
    assert response.status_code < 500, response.status_code
    body = response.get_data(as_text=True)
    assert world.app.config["SECRET_KEY"] not in body
    return body


MARKUP = re.compile("[<>&\"']")


def not_reflected(text: str, body: str) -> None:
    """No line of ``text`` that holds a character HTML escapes appears raw in the page
    (Jinja escapes all five, so a raw one is text that went out unescaped)."""
    for line in text.splitlines():
        line = line.strip()
        if MARKUP.search(line):
            assert line not in body, f"raw markup on the page: {line[:60]!r}"


def refused_nothing_stored(
    world: World, send: Callable[[], TestResponse], statuses: tuple[int, ...] = (400,)
) -> TestResponse:
    before = world.stored()
    response = send()
    sound(world, response)
    assert response.status_code in statuses, (response.status_code, statuses)
    assert world.stored() == before, "a refused request stored something"
    return response


def refusal_status(text: Text, body: str = MULTIPART) -> int:
    return 413 if text.kind_in(body) == "too-large" else 400


def newest_case(world: World) -> Case:
    with world.app.app_context():
        case = db.session.scalar(sa.select(Case).order_by(Case.id.desc()).limit(1))
        assert case is not None
        db.session.expunge(case)
        return case


# --- text: the public filing form ----------------------------------------------------------------


def filing_fields(world: World, **changes: str | bytes) -> dict[str, str | bytes]:
    fields: dict[str, str | bytes] = {
        "csrf_token": world.token(world.citizen, FORM),
        "kind": "help",
        "title": "圣惠路羊驮寺村公交站被取消",
        "description": "圣惠路改造后村口的公交站没有恢复，老人要走很远去坐车。",
        "public_location": "圣惠路",
        "citizen_name": "张秀英",
        "citizen_phone": "13812345678",
        "notify_by": "sms",
        "consent_privacy": "y",
        "confirm_distinct": "y",
        "q_route": "12路",
    }
    fields.update(changes)
    return fields


# The phone is checked against a whitelist of digits and separators: the families that
# could get past one (or break what checks it) are sent to it, not every script and tag.
PHONE_FAMILIES = frozenset({"control", "invalid_utf8", "overlong", "sql", "polyglot"})
# The queue search reads its words into FTS5 (SQLite) or trigram (PostgreSQL) queries and
# echoes them: the families of query syntax (the page is heavy: not every family).
SEARCH_FAMILIES = frozenset({"sql", "polyglot"})


def shown_escaped(world: World, client: FlaskClient, page: str, read: str) -> str:
    """The page that shows ``read`` (when it holds markup characters): no raw markup."""
    body = sound(world, client.get(page))
    not_reflected(read, body)
    return body


@pytest.mark.parametrize("text", TEXT_PARAMS)
def test_text_in_the_public_form_is_refused_or_kept_escaped(world: World, text: Text) -> None:
    """The fields whose rules refuse the text get it in one filing: a 400 whose error
    summary names each of them (or the guard's 400 for NUL, a 413 over the parser's
    limit), nothing stored. The fields that take it get it in another, filed: stored as
    typed, shown escaped."""
    read = text.read()
    names = ["title", "description", "public_location", "citizen_name"]
    refused = [name for name in names if FIELDS[name].refused(text, MULTIPART)]
    kept = [name for name in names if name not in refused]
    # Alone: the form checks the phone itself, and a form error stops the filing before
    # the service's own checks (line breaks in one-line fields) could name theirs.
    refusals = [refused, ["citizen_phone"] if text.family in PHONE_FAMILIES else []]
    for together in filter(None, refusals):
        fields = filing_fields(world, **dict.fromkeys(together, text.sent))
        response = refused_nothing_stored(
            world,
            lambda fields=fields: post_form(world.citizen, FORM, fields, MULTIPART),
            (refusal_status(text),),
        )
        body = response.get_data(as_text=True)
        if text.kind not in ("nul", "too-large"):
            assert 'class="error-summary"' in body
            missing = [name for name in together if f'href="#{name}"' not in body]
            assert not missing, f"no error on {missing}"
        not_reflected(read, body)
    if not kept:
        return
    fields = filing_fields(world, **dict.fromkeys(kept, text.sent))
    response = post_form(world.citizen, FORM, fields, MULTIPART)
    sound(world, response)
    assert response.status_code == 302, (kept, response.status_code)
    case = newest_case(world)
    for name in kept:
        assert getattr(case, name) == clean_text(read), name
    if MARKUP.search(read):
        page = shown_escaped(world, world.citizen, f"/track/{case.number}", read)
        if "title" in kept:
            assert str(escape(case.title)) in page


# Families a name could suffer from (the rest is ordinary text in a name).
NAME_FAMILIES = frozenset({"control", "unicode", "invalid_utf8", "overlong", "markup"})


@pytest.mark.parametrize("text", [p for p in TEXT_PARAMS if p.values[0].family in NAME_FAMILIES])
def test_text_as_a_follower_s_name_is_refused_or_kept(world: World, text: Text) -> None:
    """A browser the duplicate finder offered a case follows it under this name: refused
    (400) as a filer's name would be, or followed with the name as typed."""
    number = world.worked
    client = world.app.test_client()
    token = csrf_token(client, "/track")
    with client.session_transaction() as session:
        session["offered_cases"] = [number]
    fields = {
        "citizen_name": text.sent,
        "citizen_phone": "13900001111",
        "notify_by": "sms",
        "csrf_token": token,
    }
    send = lambda: post_form(client, f"/requests/follow/{number}", fields)  # noqa: E731
    if FIELDS["follower_name"].refused(text, URLENCODED):
        refused_nothing_stored(world, send, (refusal_status(text, URLENCODED),))
        return
    response = send()
    sound(world, response)
    assert response.status_code == 302, response.status_code
    with world.app.app_context():
        name = db.session.scalar(
            sa.select(CaseFollower.name).order_by(CaseFollower.id.desc()).limit(1)
        )
        db.session.remove()
    assert name == clean_text(text.read())


# --- text: tracking, private links, tracking codes ---------------------------------------------------


@pytest.mark.parametrize("text", TEXT_PARAMS)
def test_text_in_the_tracking_routes_finds_nothing_and_stores_nothing(
    world: World, text: Text
) -> None:
    """As a case number, a phone, a one-time code, a private link's key and a case page's
    number: nothing found, nothing stored (no code sent), nothing reflected raw."""
    client = world.stranger
    token = world.token(client)
    posts = [
        ("/track", {"number": text.sent, "phone": text.sent}),
        ("/track/code", {"number": text.sent, "phone": text.sent}),
        ("/track/verify", {"number": world.new, "phone": world.new_phone, "code": text.sent}),
    ]
    # A lookup by number and phone answers alike whether or not a case exists (no
    # oracle): the form again, 200, or 400 when the form itself is not valid.
    looked_up = (400,) if text.kind == "nul" else (200, 400)
    for url, fields in posts:
        response = refused_nothing_stored(
            world,
            lambda url=url, fields=fields: post_form(client, url, {**fields, "csrf_token": token}),
            looked_up,
        )
        not_reflected(text.read(), response.get_data(as_text=True))
    if text.kind == "too-large":
        return  # an address of half a megabyte is the front server's to refuse
    # A private link that is no key; a case page by a number this browser was not given.
    refused_nothing_stored(world, lambda: client.get(f"/p/{path_part(text.sent)}"), (400, 404))
    response = refused_nothing_stored(
        world, lambda: client.get(f"/track/{path_part(text.sent)}"), (302, 400, 404)
    )
    if response.status_code == 302:
        assert response.headers["Location"] == "/track"


# --- text: the staff sign-in, a staff note, the queue search -----------------------------------------


@pytest.mark.parametrize("text", TEXT_PARAMS)
def test_text_in_the_staff_sign_in_signs_no_one_in(world: World, text: Text) -> None:
    """As a user name and a password: no one signed in, nothing stored but the refusal's
    security event, nothing reflected raw. A refused sign-in shows the form again with
    its one message (200; caseapp/web/auth), NUL is the guard's 400."""
    client = world.stranger
    token = world.token(client, "/staff/login")
    status = (400,) if text.kind == "nul" else (200, 400)
    # The text as a user name and a password (an unknown name is checked against a
    # dummy hash: the password goes through the hasher all the same); a look-alike of a
    # real name also with the demo accounts' real password.
    tries = [(text.sent, text.sent)]
    if text.family == "unicode":
        tries.append((text.sent, DEMO_PASSWORD.encode()))
    for username, password in tries:
        fields = {"username": username, "password": password, "csrf_token": token}
        response = refused_nothing_stored(
            world, lambda fields=fields: post_form(client, "/staff/login", fields), status
        )
        not_reflected(text.read(), response.get_data(as_text=True))
    queue = client.get("/staff/queue")
    assert queue.status_code == 302 and "/staff/login" in queue.headers["Location"]


@pytest.mark.parametrize("text", TEXT_PARAMS)
def test_text_in_a_staff_note_is_refused_or_kept_escaped(world: World, text: Text) -> None:
    """As a handler's note (sent from the composer, multipart): refused with the case
    unchanged, or noted as typed and shown escaped; as the queue's search words."""
    number = world.noted(text.test_id)
    url = f"/staff/cases/{number}/act/note"

    def send() -> TestResponse:
        fields = {
            "text": text.sent,
            "version": str(world.version(number)),
            "csrf_token": world.token(world.handler, f"/staff/cases/{number}"),
        }
        return post_form(world.handler, url, fields, MULTIPART)

    read = text.read()
    if FIELDS["note"].refused(text, MULTIPART):
        response = refused_nothing_stored(world, send, (refusal_status(text),))
        not_reflected(read, response.get_data(as_text=True))
    else:
        response = send()
        sound(world, response)
        assert response.status_code == 302, response.status_code
        with world.app.app_context():
            noted = db.session.scalar(
                sa.select(CaseEvent.internal_text).order_by(CaseEvent.id.desc()).limit(1)
            )
            db.session.remove()
        assert noted == clean_text(read)
        if MARKUP.search(read):
            shown_escaped(world, world.handler, f"/staff/cases/{number}", read)
    if text.kind != "too-large" and text.family in SEARCH_FAMILIES:
        search = f"/staff/queue?{urlencode({'q': text.sent})}"
        response = refused_nothing_stored(world, lambda: world.handler.get(search), (200, 400))
        not_reflected(text.read(), response.get_data(as_text=True))


# --- text: Open311 ---------------------------------------------------------------------------------


def api_filing(world: World, **changes: str | bytes) -> dict[str, str | bytes]:
    fields: dict[str, str | bytes] = {
        "api_key": world.api_key,
        "service_code": "bus-stop",
        "description": "红旗西街公交站牌倒了，乘客找不到站。",
        "lat": "35.0264",
        "long": "111.0073",
        "first_name": "秀英",
        "last_name": "张",
        "phone": "13812345678",
        "consent_public": "true",
        "attribute[route]": "12路",
    }
    fields.update(changes)
    return fields


# Text that could make the XML answer malformed (markup, characters XML does not allow).
XML_FAMILIES = frozenset({"markup", "polyglot", "unicode", "control"})


def api_answer(response: TestResponse, fmt: str) -> Any:
    """The answer, parsed: every answer of the API, errors too, is a well-formed document."""
    if fmt == "json":
        return json.loads(response.get_data())
    return ElementTree.fromstring(response.get_data())


@pytest.mark.parametrize("text", TEXT_PARAMS)
def test_text_in_open311_is_refused_or_kept(world: World, text: Text) -> None:
    """POST: the fields whose rules refuse the text get it in one filing per encoding (a
    400 whose error list names each of them, or a 413), and as the service code alone;
    the fields that take it, in one filing (201), stored as typed and answered in
    well-formed JSON and XML. GET: as a request id and as the list's service code,
    nothing found (or what the filter says), a well-formed answer."""
    client = world.stranger
    rules = {
        "description": FIELDS["api_description"],
        "first_name": FIELDS["api_first_name"],
        "attribute[route]": FIELDS["api_route"],
    }
    kept = [name for name, rule in rules.items() if not rule.refused(text, URLENCODED)]
    refusals = [
        (URLENCODED, "json", [name for name in rules if name not in kept]),
        # What a multipart body alone refuses (a field too large for the parser).
        (MULTIPART, "json", [name for name in kept if rules[name].refused(text, MULTIPART)]),
        # Alone: with no service, the category's attributes are not checked at all.
        (URLENCODED, "xml", ["service_code"]),
    ]
    for body, fmt, names in refusals:
        if not names:
            continue
        fields = api_filing(world, **dict.fromkeys(names, text.sent))
        # A URL-encoded body is read whole up to MAX_FORM_BODY: several long fields pass it.
        over_body = body == URLENCODED and len(names) * len(text.sent) > FORM_BODY_LIMIT
        too_large = text.kind_in(body) == "too-large" or over_body
        response = refused_nothing_stored(
            world,
            lambda fields=fields, body=body, fmt=fmt: post_form(
                client, f"{API}/requests.{fmt}", fields, body
            ),
            (413,) if too_large else (400,),
        )
        answer = api_answer(response, fmt)
        if fmt == "json" and not too_large:
            reasons = " ".join(error["description"] for error in answer)
            missing = [name for name in names if f"{name}: " not in reasons]
            assert not missing, f"no reason given for {missing}: {reasons[:200]}"
    kept_fields = dict.fromkeys(kept, text.sent)
    if kept:
        response = post_form(client, f"{API}/requests.json", api_filing(world, **kept_fields))
        sound(world, response)
        assert response.status_code == 201, (sorted(kept), response.get_data(as_text=True)[:300])
        number = api_answer(response, "json")[0]["service_request_id"]
        case = newest_case(world)
        assert case.number == number
        if "description" in kept:
            assert case.description == clean_text(text.read())
            shown = api_answer(client.get(f"{API}/requests/{number}.json"), "json")
            assert shown[0]["description"] == case.description
            if text.family in XML_FAMILIES:
                api_answer(client.get(f"{API}/requests/{number}.xml"), "xml")
    if text.kind == "too-large":
        return
    value = path_part(text.sent)
    url = f"{API}/requests/{value}.xml"
    response = refused_nothing_stored(world, lambda: client.get(url), (400, 404))
    api_answer(response, "xml")
    url = f"{API}/requests.json?{urlencode({'service_code': text.sent})}"
    response = refused_nothing_stored(world, lambda: client.get(url), (200, 400))
    api_answer(response, "json")


# --- uploads ---------------------------------------------------------------------------------------

FILE_ENTRIES = _entries("files/files.json")


def upload_of(entry: dict[str, Any]) -> tuple[bytes, str]:
    """The bytes and the name the entry sends."""
    generate = entry.get("generate")
    if generate:
        assert generate["kind"] == "pdf"
        tail = b"\n%%EOF\n"
        data = b"%PDF-1.4\n" + b"0" * (generate["bytes"] - 9 - len(tail)) + tail
        assert len(data) == generate["bytes"]
    else:
        data = (CORPUS / "files" / entry["file"]).read_bytes()
    named = entry.get("generate_name")
    name = named["repeat"] * named["times"] + named["suffix"] if named else entry["send_as"]
    return data, name


@pytest.mark.parametrize("entry", _params(FILE_ENTRIES, lambda e: e["id"]))
def test_uploads_on_the_public_form(world: World, entry: dict[str, Any]) -> None:
    """Refused: a 400 on the attachments field, no row, no file. Kept: one attachment,
    re-encoded, under its hash inside the upload folder, its name cleaned."""
    data, name = upload_of(entry)
    fields: dict[str, Any] = {**filing_fields(world), "attachments": (io.BytesIO(data), name)}

    def send() -> TestResponse:
        fields["attachments"][0].seek(0)
        return world.citizen.post(FORM, data=fields, content_type="multipart/form-data")

    if entry["expect"] == "refused":
        response = refused_nothing_stored(world, send)
        body = response.get_data(as_text=True)
        if "\x00" not in name:
            assert 'href="#attachments"' in body
        return
    before = world.stored()
    response = send()
    sound(world, response)
    assert response.status_code == 302, response.status_code
    case = newest_case(world)
    with world.app.app_context():
        stored = db.session.scalars(
            sa.select(Attachment).where(Attachment.case_id == case.id)
        ).all()
        db.session.remove()
    assert len(stored) == 1
    attachment = stored[0]
    assert attachment.filename == entry.get("stored_name", attachment.filename)
    assert len(attachment.filename) <= 120
    assert not re.search(r"[\\/\x00-\x1f\u202a-\u202e\u2066-\u2069]", attachment.filename)
    assert not attachment.filename.startswith(".")
    path = world.upload_dir / attachment.storage_key
    assert path.resolve().is_relative_to(world.upload_dir.resolve()) and path.is_file()
    kept = path.read_bytes()
    for needle in entry.get("stored_must_not_contain", []):
        assert needle.encode("latin-1") not in kept, needle
    after = world.stored()
    assert after.beside_uploads == before.beside_uploads, "a file was written beside the uploads"
    assert set(after.files) - set(before.files) <= {
        attachment.storage_key,
        attachment.storage_key.split("/")[0],
    }


# --- forged ids, stale versions --------------------------------------------------------------------

ID_ENTRIES = _entries("requests/ids.json")


def id_value(world: World, value: str) -> str:
    return str(world.retired_department) if value == "@retired-department" else value


@pytest.mark.parametrize("entry", _params(ID_ENTRIES, lambda e: e["id"]))
def test_forged_ids_are_refused(world: World, entry: dict[str, Any]) -> None:
    """As the department or the handler of intake's dispatch (a 4xx, the case still new),
    as an Open311 request id (404) and as a case file's id (404)."""
    value = id_value(world, entry["value"])
    url = f"/staff/cases/{world.new}/act/dispatch"
    token = world.token(world.intake, f"/staff/cases/{world.new}")
    with world.app.app_context():
        lead = str(department("zjj").id)
        db.session.remove()
    forged = [{"department": value}]
    if value:  # no handler is a dispatch to the department's desk
        forged.append({"department": lead, "handler": value})
    for changes in forged:
        fields = {"version": str(world.version(world.new)), "csrf_token": token, **changes}
        refused_nothing_stored(
            world, lambda fields=fields: post_form(world.intake, url, fields), (400, 404)
        )
    api = f"{API}/requests/{path_part(value.encode())}.json"
    response = refused_nothing_stored(world, lambda: world.stranger.get(api), (404,))
    api_answer(response, "json")
    if value.isdigit():
        refused_nothing_stored(
            world,
            lambda: world.handler.get(f"/staff/cases/{world.worked}/files/{value}"),
            (404,),
        )


VERSION_ENTRIES = _entries("requests/versions.json")


def version_value(current: int, value: str) -> str:
    return {
        "@current-1": str(current - 1),
        "@current+1": str(current + 1),
        "@current.0": f"{current}.0",
        "@current-fullwidth": str(current).translate(
            str.maketrans("0123456789", "０１２３４５６７８９")
        ),
    }.get(value, value)


@pytest.mark.parametrize("entry", _params(VERSION_ENTRIES, lambda e: e["id"]))
def test_a_stale_version_is_a_conflict_and_changes_nothing(
    world: World, entry: dict[str, Any]
) -> None:
    """A handler's note and intake's dispatch sent with the version: a 409, the case as
    it was, the note's text kept on the page to send again."""
    note = "核实现场情况，等待住建局回复。"
    with world.app.app_context():
        lead = str(department("zjj").id)
        db.session.remove()
    for client, number, slug, fields in (
        (world.handler, world.worked, "note", {"text": note}),
        (world.intake, world.new, "dispatch", {"department": lead}),
    ):
        sent = {
            **fields,
            "version": version_value(world.version(number), entry["value"]),
            "csrf_token": world.token(client, f"/staff/cases/{number}"),
        }
        url = f"/staff/cases/{number}/act/{slug}"
        response = refused_nothing_stored(
            world, lambda client=client, url=url, sent=sent: post_form(client, url, sent), (409,)
        )
        if slug == "note":
            assert note in response.get_data(as_text=True), "the typed text was not kept"


# --- CSRF -----------------------------------------------------------------------------------------

CSRF_ENTRIES = _entries("requests/csrf.json")


def _session_secret(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        return session["csrf_token"]


class _LongAgo(TimestampSigner):
    """Signs as if a day had passed since."""

    def get_timestamp(self) -> int:
        return int(time.time()) - 24 * 3600


def forged_token(app: Flask, client: FlaskClient, page: str, kind: str) -> str | None:
    """The token ``kind`` names, for ``client`` whose session has a token from ``page``;
    None for no token at all."""
    token = csrf_token(client, page)
    secret = _session_secret(client)
    if kind == "@missing":
        return None
    if kind == "@other-session":
        return csrf_token(app.test_client(), "/track")  # a token holds for its whole session
    if kind == "@truncated":
        return token[:-4]
    if kind == "@flipped":
        # A character inside the signature (the last one of base64 carries padding bits:
        # changing it may change no byte).
        at = token.rindex(".") + 3
        return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]
    if kind == "@other-secret":
        return URLSafeTimedSerializer("another-secret-key", salt="wtf-csrf-token").dumps(secret)
    if kind == "@expired":
        return URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt="wtf-csrf-token", signer=_LongAgo
        ).dumps(secret)
    return kind


def _csrf_target(world: World, target: str) -> tuple[str, str, str | None, dict[str, str | bytes]]:
    """(page with the form, URL posted to, who signs in first, the fields but the token)."""
    if target == "public-form":
        fields = filing_fields(world)
        del fields["csrf_token"]
        return FORM, FORM, None, fields
    if target == "sign-in":
        return (
            "/staff/login",
            "/staff/login",
            None,
            {"username": "handler", "password": DEMO_PASSWORD},
        )
    case_page = f"/staff/cases/{world.worked}"
    note = {"text": "CSRF 测试：此备注不应保存。", "version": str(world.version(world.worked))}
    return case_page, f"{case_page}/act/note", "handler", dict(note)


def test_csrf_protection_is_on_and_a_good_token_passes(world: World, app: Flask) -> None:
    """The check the tests below rely on: this module runs with CSRF on, and a token made
    the way they forge theirs, but right, is accepted."""
    assert app.config["WTF_CSRF_ENABLED"] is True
    client = app.test_client()
    csrf_token(client, "/staff/login")
    right = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(
        _session_secret(client)
    )
    fields = {"username": "handler", "password": DEMO_PASSWORD, "csrf_token": right}
    assert post_form(client, "/staff/login", fields).status_code == 302


@pytest.mark.parametrize("entry", _params(CSRF_ENTRIES, lambda e: e["id"]))
@pytest.mark.parametrize("target", ["public-form", "sign-in", "staff-note"])
def test_a_forged_or_replayed_csrf_token_is_refused(
    world: World, app: Flask, entry: dict[str, Any], target: str
) -> None:
    """A 400 ("the form has expired") before any view runs; nothing stored, no one
    signed in."""
    page, url, username, fields = _csrf_target(world, target)
    client = app.test_client()
    if entry["token"] == "@after-sign-out":
        # A token this browser had while signed in, sent after it signed out (and, for a
        # staff action, signed in again: a new session).
        AuthActions(client).login("handler")
        token: str | None = csrf_token(client, "/staff/queue")  # it holds for the session
        AuthActions(client).logout()
        if username:
            AuthActions(client).login(username)
    else:
        if username:
            AuthActions(client).login(username)
        token = forged_token(app, client, page, entry["token"])
    if token is not None:
        fields["csrf_token"] = token
    response = refused_nothing_stored(world, lambda: post_form(client, url, fields), (400,))
    assert "表单已过期" in response.get_data(as_text=True)
    if target == "sign-in":
        assert client.get("/staff/queue").status_code == 302


# --- huge and malformed bodies ------------------------------------------------------------------------

BODY_ENTRIES = _entries("requests/bodies.json")


class _Zeros(io.RawIOBase):
    """A stream of ``prefix`` then zeros, ``size`` bytes in all, made as it is read."""

    def __init__(self, prefix: bytes, size: int) -> None:
        self._prefix = prefix
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self._left)
        chunk = self._prefix[:n] + b"\x00" * (n - len(self._prefix[:n]))
        self._prefix = self._prefix[n:]
        buffer[:n] = chunk
        self._left -= n
        return n


def send_body(
    client: FlaskClient, url: str, fields: dict[str, str], entry: dict[str, Any], cap: int
) -> TestResponse:
    """The entry's body with ``fields`` in it, posted to ``url``."""
    kind = entry["kind"]
    multipart = f"multipart/form-data; boundary={BOUNDARY}"
    head = b"".join(_part(k, v.encode()) for k, v in fields.items())
    end = f"--{BOUNDARY}--\r\n".encode()
    if kind == "multipart-file":
        file_head = _part("attachments", b"", "扫描件.pdf")[:-2]
        filler = (
            cap + entry["over_max_content_length_by"] - len(head) - len(file_head) - 2 - len(end)
        )
        body = head + file_head + b"%PDF-" + b"0" * (filler - 5) + b"\r\n" + end
        assert len(body) == cap + entry["over_max_content_length_by"]
        return client.post(url, data=body, content_type=multipart)
    if kind == "declared-length":
        return client.post(
            url,
            data=head + end,
            content_type=multipart,
            environ_overrides={"CONTENT_LENGTH": str(cap + entry["over_max_content_length_by"])},
        )
    if kind == "streamed":
        # As a WSGI server passes a chunked body on: no length, the input marked as
        # ending by itself (Werkzeug then limits what it reads to the cap).
        stream = _Zeros(head + _part("attachments", b"", "a.pdf")[:-2], cap + 1)
        return client.post(
            url,
            content_type=multipart,
            headers={"Transfer-Encoding": "chunked"},
            environ_overrides={
                "wsgi.input": io.BufferedReader(stream),
                "wsgi.input_terminated": True,
                "CONTENT_LENGTH": "",
            },
        )
    if kind == "multipart-field":
        others = {k: v for k, v in fields.items() if k != "description"}
        head = b"".join(_part(k, v.encode()) for k, v in others.items())
        body = head + _part("description", b"x" * entry["field_bytes"]) + end
        return client.post(url, data=body, content_type=multipart)
    if kind == "urlencoded":
        body = _form_body({**fields, "description": "x" * entry["field_bytes"]}).encode()
        return client.post(url, data=body, content_type="application/x-www-form-urlencoded")
    if kind == "multipart-parts":
        extra = b"".join(_part(f"x{i}", b"1") for i in range(entry["parts"]))
        return client.post(url, data=head + extra + end, content_type=multipart)
    if kind == "urlencoded-raw":
        others = {k: v for k, v in fields.items() if k != "description"}
        body = _form_body(others).encode() + b"&description=\xe5\x85\xac\x80\xff"
        return client.post(url, data=body, content_type="application/x-www-form-urlencoded")
    if kind == "multipart-unterminated":
        body = head + _part("description", b"x" * 100)[:-2]
        return client.post(url, data=body, content_type=multipart)
    if kind == "multipart-no-parts":
        return client.post(url, data=b"title=x&description=y", content_type=multipart)
    raise AssertionError(f"unknown body kind {kind}")


@pytest.mark.parametrize("entry", _params(BODY_ENTRIES, lambda e: e["id"]))
@pytest.mark.parametrize("target", ["public-form", "open311"])
def test_a_huge_or_malformed_body_is_refused(
    world: World, app: Flask, entry: dict[str, Any], target: str
) -> None:
    """The status the entry names for the target (413 over a limit), nothing stored; the
    API's answer is its error list even then."""
    cap = app.config["MAX_CONTENT_LENGTH"]
    if target == "public-form":
        url = FORM
        fields = {k: v for k, v in filing_fields(world).items() if isinstance(v, str)}
        client = world.citizen
    else:
        url = f"{API}/requests.json"
        fields = {k: v for k, v in api_filing(world).items() if isinstance(v, str)}
        client = world.stranger
    response = refused_nothing_stored(
        world, lambda: send_body(client, url, fields, entry, cap), (entry["expect"][target],)
    )
    if target == "open311":
        api_answer(response, "json")
