"""The benchmark over HTTP (issue 19): the production server measured as a city runs it.

``production_server`` starts gunicorn (``caseapp.gunicorn_conf``, production settings, the
rate limiter off: the limiter is not what is measured) on a free loopback port against
this app's database (a ``ProductionServer``, which tests/test_crashes.py also kills
with ``kill -9`` and starts again). ``time_pages`` signs in the demo users and times
each page with one client over keep-alive: warm-up requests first, then at least
``requests`` timed ones, p50/p95/max. The **SQL floor** of a page is the statements the
page runs, caught from a warm request to this process's own app, replayed straight on a
database connection the same number of times; the ratio is the page's p95 over the
floor's p95.
``time_filings`` files cases through the public form from concurrent clients and checks
every acknowledged number in the database: stored, and stored once.

Figures are printed, never asserted.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.demo.base import DEMO_PASSWORD
from caseapp.extensions import db
from caseapp.models import Case
from caseapp.models.types import utcnow

ROOT = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NEXT_PAGE = re.compile(r'rel="next" href="([^"]+)"')
NUMBER = re.compile(r"YC\d{4}-\d{6}")
SELECT = re.compile(r'<select[^>]*name="([a-z_]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option[^>]*value="([^"]+)"')
# Words of two or more characters: a road in one case in nine, common title words, a
# word no seeded case holds.
SEARCH_WORDS = ("圣惠路", "路灯", "公交", "学校门口", "土地", "量子")
FILTERS = ("status", "kind", "category", "department", "channel", "deadline", "legacy")
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
GUNICORN_ARGS = ("-c", "python:caseapp.gunicorn_conf", "caseapp.wsgi:app")


@dataclass(frozen=True)
class Page:
    """A page timed over HTTP: who asks (a demo user, or nobody) and the addresses its
    requests go through in turn."""

    name: str
    user: str | None
    paths: tuple[str, ...]


@dataclass(frozen=True)
class PageFigure:
    page: Page
    times_ms: list[float]
    errors: int  # answers other than 200
    floor_ms: list[float]  # one replay of the page's statements each
    statements: int  # per request, on average over the paths

    @property
    def p50_ms(self) -> float:
        return percentile(self.times_ms, 50)

    @property
    def p95_ms(self) -> float:
        return percentile(self.times_ms, 95)

    @property
    def floor_p95_ms(self) -> float:
        return percentile(self.floor_ms, 95)

    @property
    def ratio(self) -> float:
        return self.p95_ms / self.floor_p95_ms if self.floor_p95_ms else float("inf")


@dataclass
class FilingFigure:
    clients: int
    acknowledged: list[str] = field(default_factory=list)
    times_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stored_once: int = 0
    missing: int = 0
    duplicated: int = 0

    @property
    def per_second(self) -> float:
        return len(self.acknowledged) / self.seconds if self.seconds else 0.0


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def percentile(values: Sequence[float], percent: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ProductionServer:
    """gunicorn (``caseapp.gunicorn_conf``, ``caseapp.wsgi``) on a free loopback port
    against ``database_url``, the rate limiter off. It runs in a session of its own, so
    that ``kill`` ends the master and its workers at once, as a crash would (``kill -9``
    of the process group); ``start`` brings it back on the same port. ``env`` adds to
    or overrides the server's environment."""

    def __init__(
        self,
        database_url: str,
        workers: int,
        threads: int,
        *,
        city_timezone: str,
        scratch: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.scratch = scratch or Path(tempfile.mkdtemp(prefix="caseapp-bench-http-"))
        self.log_path = self.scratch / "server.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "CASEAPP_DEMO": "",
            "CASEAPP_INSTANCE_DIR": str(self.scratch / "instance"),
            "UPLOAD_DIR": str(self.scratch / "uploads"),
            "SESSION_COOKIE_SECURE": "0",  # plain http on loopback
            "RATELIMIT_ENABLED": "0",
            "WEB_BIND": f"127.0.0.1:{self.port}",
            "WEB_WORKERS": str(workers),
            "WEB_THREADS": str(threads),
            "LOG_LEVEL": "WARNING",
            "CITY_TIMEZONE": city_timezone,
            **(env or {}),
        }
        self.upload_dir = Path(self.env["UPLOAD_DIR"])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        """Start the server and wait until it answers ``/healthz``."""
        bin_dir = Path(sys.executable).parent
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [str(bin_dir / "gunicorn"), *GUNICORN_ARGS],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_until_up(self.url, self.process, self.log_path, timeout)
        except BaseException:
            self.kill()
            raise

    def kill(self) -> None:
        """``kill -9`` the master and its workers (their process group), at once."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # all gone already
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self, timeout: float = 60) -> None:
        """Stop the server as an operator would (SIGTERM: requests in progress finish);
        killed if it has not stopped after ``timeout`` seconds."""
        if self.process is None:
            return
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        # The workers go with the master; any left behind are killed with the group.
        self.kill()


@contextmanager
def production_server(
    app: Flask, workers: int, threads: int, log: Callable[[str], None]
) -> Iterator[str]:
    """gunicorn serving ``app``'s database on a free loopback port; yields its URL."""
    server = ProductionServer(
        db.engine.url.render_as_string(hide_password=False),
        workers,
        threads,
        city_timezone=app.config["CITY_TIMEZONE"],
    )
    try:
        server.start()
        log(f"gunicorn: {workers} workers × {threads} threads at {server.url} "
            f"(log: {server.log_path})")  # fmt: skip
        yield server.url
    finally:
        server.stop()


def _wait_until_up(
    url: str, server: subprocess.Popen[bytes], log_path: Path, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: see {log_path}")
        with contextlib.suppress(requests.RequestException):  # not listening yet
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer in {timeout:g} s: see {log_path}")


# --- the pages --------------------------------------------------------------------------


def _token(text: str, where: str) -> str:
    found = CSRF.search(text)
    if found is None:
        raise RuntimeError(f"no CSRF token on {where}")
    return found.group(1)


def _sign_in_http(url: str, username: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{url}/staff/login", timeout=30)
    answer = session.post(
        f"{url}/staff/login",
        data={
            "csrf_token": _token(form.text, "the sign-in page"),
            "username": username,
            "password": DEMO_PASSWORD,
        },  # fmt: skip
        timeout=30,
    )
    if answer.status_code != 200 or "/staff/login" in answer.url:
        raise RuntimeError(f"{username} could not sign in ({answer.status_code})")
    return session


def _sign_in_here(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    form = client.get("/staff/login")
    answer = client.post(
        "/staff/login",
        data={
            "csrf_token": _token(form.get_data(as_text=True), "the sign-in page"),
            "username": username,
            "password": DEMO_PASSWORD,
        },  # fmt: skip
    )
    if answer.status_code != 302:
        raise RuntimeError(f"{username} could not sign in here ({answer.status_code})")
    return client


def _case_numbers(count: int) -> tuple[str, ...]:
    """``count`` case numbers spread evenly over the ids."""
    low, high = db.session.execute(sa.select(sa.func.min(Case.id), sa.func.max(Case.id))).one()
    if low is None:
        raise LookupError("no cases: seed some first (bench seed)")
    step = max(1, (high - low) // count)
    ids = range(low, high + 1, step)
    numbers = db.session.scalars(
        sa.select(Case.number).where(Case.id.in_(list(ids)[:count])).order_by(Case.id)
    ).all()
    db.session.rollback()
    return tuple(numbers)


def _deep_page(session: requests.Session, url: str, path: str, pages: int) -> str:
    """The address of page ``pages + 1`` of a queue, following its "Next page" links."""
    for _ in range(pages):
        found = NEXT_PAGE.search(session.get(f"{url}{path}", timeout=60).text)
        if found is None:
            break
        path = html.unescape(found.group(1))
    return path


def _filter_values(session: requests.Session, url: str) -> list[tuple[str, str]]:
    """The first value each filter of the supervisor's queue offers (every value for
    the deadline filter), read from the page's own form."""
    text = session.get(f"{url}/staff/queue?view=all", timeout=60).text
    values: list[tuple[str, str]] = []
    for name, options in SELECT.findall(text):
        if name not in FILTERS:
            continue
        offered = OPTION.findall(options)
        values.extend((name, v) for v in (offered if name == "deadline" else offered[:1]))
    return values


def pages_to_time(url: str) -> list[Page]:
    """The pages of issue 19's targets, addresses found on the running server."""
    supervisor = _sign_in_http(url, "supervisor")
    handler = _sign_in_http(url, "handler")
    today = utcnow().date()
    month_ago = (today - timedelta(days=30)).isoformat()
    numbers = _case_numbers(20)
    ledger = re.search(
        r'href="(/supervisor/ledgers/[^"/?#.]+)"',
        supervisor.get(f"{url}/supervisor/ledgers", timeout=60).text,
    )
    pages = [
        Page("queue, first page: intake", "intake", ("/staff/queue",)),
        Page("queue, first page: handler", "handler", ("/staff/queue",)),
        Page("queue, first page: supervisor (all open)", "supervisor", ("/staff/queue?view=all",)),
        Page(
            "queue, page 20: supervisor (all open)",
            "supervisor",
            (_deep_page(supervisor, url, "/staff/queue?view=all", 19),),
        ),
        Page(
            "queue, page 5: handler",
            "handler",
            (_deep_page(handler, url, "/staff/queue", 4),),
        ),
        *(
            Page(
                f"queue filter {name}={value}",
                "supervisor",
                (f"/staff/queue?view=all&{name}={value}",),
            )
            for name, value in _filter_values(supervisor, url)
        ),
        Page(
            "queue filter received in the last 30 days",
            "supervisor",
            (f"/staff/queue?view=all&received_from={month_ago}",),
        ),
        Page(
            "case page (20 cases in turn): supervisor",
            "supervisor",
            tuple(f"/staff/cases/{n}" for n in numbers),
        ),  # fmt: skip
        *(
            Page(f"search {word}", "supervisor", (f"/staff/queue?view=all&q={word}",))
            for word in SEARCH_WORDS
        ),
        Page("escalation board", "supervisor", ("/supervisor/escalations",)),
        Page("scorecards, this month", "supervisor", ("/supervisor/scorecards",)),
        Page("ledger report", "supervisor", ("/supervisor/ledgers",)),
        Page("public /stats", None, ("/stats",)),
        Page("public home page", None, ("/",)),
    ]
    if ledger:
        pages.insert(-3, Page("ledger page", "supervisor", (html.unescape(ledger.group(1)),)))
    return pages


def _catch_statements(
    app: Flask, clients: dict[str | None, FlaskClient], page: Page
) -> list[list[tuple[str, Any]]]:
    """The statements each of the page's addresses runs when warm, caught in this
    process (a first request warms its caches, the second is caught). ``app`` is an
    app of its own, not the command's: its requests then have their own app context
    (the signed-in user lives there)."""
    if page.user not in clients:
        clients[page.user] = (
            app.test_client() if page.user is None else _sign_in_here(app, page.user)
        )
    client = clients[page.user]
    caught: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            caught.append((statement, parameters))

    per_path: list[list[tuple[str, Any]]] = []
    with app.app_context():
        engine = db.engine
    for path in page.paths:
        client.get(path)
        caught.clear()
        sa.event.listen(engine, "before_cursor_execute", catch)
        try:
            client.get(path)
        finally:
            sa.event.remove(engine, "before_cursor_execute", catch)
        per_path.append(list(caught))
    return per_path


def _replay(statements: list[list[tuple[str, Any]]], times: int) -> list[float]:
    """Run the caught statements straight on one connection ``times`` times (each time
    one address's list, in turn), fetching every row; milliseconds per run."""
    spent: list[float] = []
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for i in range(times):
            started = time.perf_counter()
            for statement, parameters in statements[i % len(statements)]:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            spent.append((time.perf_counter() - started) * 1000)
            raw.rollback()  # nothing a page wrote (an audit line) is kept
    finally:
        raw.close()
    return spent


def time_pages(
    here: Flask, url: str, pages: Sequence[Page], requests_per_page: int, warmup: int,
    log: Callable[[str], None],
) -> list[PageFigure]:  # fmt: skip
    sessions: dict[str | None, requests.Session] = {None: requests.Session()}
    clients_here: dict[str | None, FlaskClient] = {}
    figures = []
    for page in pages:
        if page.user not in sessions:
            sessions[page.user] = _sign_in_http(url, page.user)
        session = sessions[page.user]
        errors = 0
        times: list[float] = []
        for i in range(warmup + requests_per_page):
            path = page.paths[i % len(page.paths)]
            started = time.perf_counter()
            answer = session.get(f"{url}{path}", timeout=120)
            spent = (time.perf_counter() - started) * 1000
            if answer.status_code != 200:
                errors += 1
            if i >= warmup:
                times.append(spent)
        statements = _catch_statements(here, clients_here, page)
        floor = _replay(statements, requests_per_page)
        figure = PageFigure(
            page, times, errors, floor, round(statistics.mean(len(s) for s in statements))
        )
        log(
            f"{page.name}: p50 {figure.p50_ms:.1f} ms, p95 {figure.p95_ms:.1f} ms, "
            f"floor p95 {figure.floor_p95_ms:.1f} ms ({figure.statements} statements), "
            f"{errors} errors"
        )
        figures.append(figure)
    return figures


# --- the filings ------------------------------------------------------------------------


def _file_one(session: requests.Session, url: str, serial: str, photo: bytes | None = None) -> str:
    """One citizen's filing as the form leads it: the form, the POST (the duplicate
    check runs), and when similar open cases are offered, "mine is different" and the
    POST again; with ``photo`` (a JPEG) attached to each POST. The number the
    confirmation page shows."""
    form = f"{url}/requests/new?category=bus-stop"
    fields = {
        "kind": "help",
        "title": f"圣惠路公交站被取消 {serial}",
        "description": "圣惠路改造后村口的公交站没有恢复，老人要走很远去坐车。",
        "public_location": "圣惠路",
        "citizen_name": "张秀英",
        "citizen_phone": f"138{int(serial, 16) % 10**8:08d}",
        "notify_by": "sms",
        "consent_privacy": "y",
    }
    page = session.get(form, timeout=60).text
    for confirm in ({}, {"confirm_distinct": "y"}):
        data = {**fields, **confirm, "csrf_token": _token(page, "the filing form")}
        files = {"attachments": ("photo.jpg", photo, "image/jpeg")} if photo else None
        answer = session.post(form, data=data, files=files, timeout=120)
        if answer.status_code != 200:
            break
        found = NUMBER.search(answer.text) if "/requests/filed" in answer.url else None
        if found is not None:
            return found.group(0)
        page = answer.text
    raise RuntimeError(f"filing answered {answer.status_code} without a number")


def time_filings(url: str, total: int, clients: int) -> FilingFigure:
    """``total`` filings through the public form from ``clients`` concurrent clients,
    each a GET of the form and its POST; then every acknowledged number is looked up."""
    figure = FilingFigure(clients)
    lock = threading.Lock()
    left = iter(range(total))

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                if next(left, None) is None:
                    return
            started = time.perf_counter()
            try:
                number = _file_one(session, url, uuid.uuid4().hex[:12])
            except (RuntimeError, requests.RequestException) as exc:
                with lock:
                    figure.errors.append(str(exc))
                continue
            with lock:
                figure.acknowledged.append(number)
                figure.times_ms.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    figure.seconds = time.perf_counter() - started
    _check_stored(figure)
    return figure


def _check_stored(figure: FilingFigure) -> None:
    stored: dict[str, int] = {}
    for start in range(0, len(figure.acknowledged), 1000):
        chunk = figure.acknowledged[start : start + 1000]
        rows = db.session.execute(
            sa.select(Case.number, sa.func.count())
            .where(Case.number.in_(chunk))
            .group_by(Case.number)
        )
        stored.update({number: count for number, count in rows})
    db.session.rollback()
    figure.stored_once = sum(1 for n in figure.acknowledged if stored.get(n) == 1)
    figure.missing = sum(1 for n in figure.acknowledged if n not in stored)
    figure.duplicated = sum(1 for n in figure.acknowledged if stored.get(n, 0) > 1)
