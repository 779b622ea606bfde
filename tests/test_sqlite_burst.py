"""A burst of concurrent filings against a live server on a SQLite file (issue 15).

Two server processes of 20 threads each share one database file, as two gunicorn
workers would; 20 filers, half through the public web form and half through the
Open311 API, file for ``BURST_SECONDS`` (30 by default). No answer may be a 5xx, and
afterwards every acknowledged case (the number on the confirmation page, the API's
``service_request_id``) exists exactly once, completely (its submit event, accept
clock, receipt notice, API provenance), and no case exists that was not acknowledged.

SQLite only: the test is about SQLite's one write lock (caseapp/db_setup.py). On
PostgreSQL rows are locked where they are written, the same load would measure only
the machine, and the suite runs a second time there, so it would cost CI another 35 s.

The servers' busy timeout is 6 s instead of 15, so that the old rule (every
transaction, reads included, in BEGIN IMMEDIATE) fails within the 30 s: its longest
waits for the write lock were 10 s under this load, while the rule of db_setup keeps
them near one second.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, database_kind

pytestmark = [
    pytest.mark.skipif(
        database_kind() != "sqlite", reason="SQLite's write lock under a burst (see the docstring)"
    ),
    pytest.mark.long,
    pytest.mark.xdist_group("sqlite-burst"),
]

BURST_SECONDS = float(os.environ.get("CASEAPP_BURST_SECONDS", "30"))
FILERS = 20
SERVERS = 2
CATEGORY = "bus-stop"
API_SERVICE = "road-damage"

SERVER_SCRIPT = """
import json, sys
from werkzeug.serving import make_server
from caseapp import create_app
from caseapp.extensions import db
from config import TestConfig

database, uploads, setup = sys.argv[1], sys.argv[2], sys.argv[3] == "setup"
plenty = "1000000 per hour"
app = create_app(
    TestConfig,
    SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
    UPLOAD_DIR=uploads,
    SQLITE_BUSY_TIMEOUT_MS=6000,
    RATELIMIT_PUBLIC_FORM=plenty,
    RATELIMIT_OPEN311_READ=plenty,
    RATELIMIT_OPEN311_POST_KEY=plenty,
    RATELIMIT_OPEN311_POST_ADDRESS=plenty,
)
key = None
if setup:
    from flask_migrate import upgrade
    from caseapp.demo.base import load_base
    from caseapp.services.admin import api_keys

    with app.app_context():
        upgrade()
        load_base()
        _row, key = api_keys.create_key("burst", None)
        db.session.remove()
server = make_server("127.0.0.1", 0, app, threaded=True)
print(json.dumps({"port": server.port, "key": key}), flush=True)
server.serve_forever()
"""

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NUMBER_RE = re.compile(r"YC\d{4}-\d{6,}")


@dataclass
class Answer:
    """One HTTP exchange of a filer: what was asked, the status, the number acknowledged."""

    face: str
    step: str
    status: int
    number: str | None = None
    detail: str = ""


@dataclass
class Burst:
    answers: list[Answer]
    seconds: float
    database: Path


def _start_server(
    database: Path, uploads: Path, instance: Path, setup: bool
) -> tuple[subprocess.Popen[str], dict[str, object]]:
    env = dict(os.environ, CASEAPP_INSTANCE_DIR=str(instance))
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVER_SCRIPT,
            str(database),
            str(uploads),
            "setup" if setup else "",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=open(instance / f"server-{uuid.uuid4().hex[:6]}.log", "w"),  # noqa: SIM115
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if not line:
        process.kill()
        pytest.fail(f"the server did not start; see {instance}")
    return process, json.loads(line)


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    """The form as a browser sends it (the page's form is multipart, for attachments)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _exchange(
    answers: list[Answer],
    lock: threading.Lock,
    face: str,
    step: str,
    call: Callable[[], http.client.HTTPResponse],
) -> tuple[str | None, Answer]:
    """Run one request and record its answer: the status, a 5xx's text; the body if 2xx."""
    answer = Answer(face, step, 0)
    body: str | None = None
    try:
        with call() as response:
            answer.status = response.status
            body = response.read().decode()
    except urllib.error.HTTPError as error:
        answer.status = error.code
        answer.detail = error.read()[:300].decode(errors="replace")
    except OSError as error:  # no answer at all (a timeout, a reset connection)
        answer.status = 0
        answer.detail = repr(error)
    with lock:
        answers.append(answer)
    return body, answer


def _web_filer(base: str, index: int, until: float, answers: list[Answer], lock) -> None:  # type: ignore[no-untyped-def]
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    form_url = f"{base}/requests/new?category={CATEGORY}"
    turn = 0
    while time.monotonic() < until:
        turn += 1
        page, _answer = _exchange(
            answers, lock, "web", "form", lambda: opener.open(form_url, timeout=60)
        )
        token = CSRF_RE.search(page or "")
        if token is None:
            continue
        body, content_type = _multipart(
            {
                "csrf_token": token.group(1),
                "kind": "help",
                "title": f"村口公交站被取消 {index}-{turn}",
                "description": "圣惠路改造后村口的公交站没有恢复，老人要走很远去坐车。",
                "public_location": "圣惠路",
                "address": "盐湖区圣惠路羊驮寺村村口",
                "citizen_name": "张秀英",
                "citizen_phone": "13812345678",
                "notify_by": "sms",
                "consent_privacy": "y",
                "confirm_distinct": "y",
                "q_route": "12路",
            }
        )
        request = urllib.request.Request(
            form_url, data=body, headers={"Content-Type": content_type}, method="POST"
        )
        # The answer is a redirect to the confirmation page, which urllib follows: the
        # filing is acknowledged when that page shows its number.
        confirmation, answer = _exchange(
            answers,
            lock,
            "web",
            "file",
            lambda r=request: opener.open(r, timeout=60),
        )
        found = NUMBER_RE.search(confirmation or "")
        answer.number = found.group(0) if found else None


def _api_filer(base: str, key: str, index: int, until: float, answers: list[Answer], lock) -> None:  # type: ignore[no-untyped-def]
    turn = 0
    while time.monotonic() < until:
        turn += 1
        data = urllib.parse.urlencode(
            {
                "api_key": key,
                "service_code": API_SERVICE,
                "description": f"解放路井盖缺失 {index}-{turn}，夜间行人容易踩空。",
                "lat": "35.0301",
                "long": "111.0102",
                "first_name": "秀英",
                "last_name": "张",
                "phone": "13812345678",
            }
        ).encode()
        body, answer = _exchange(
            answers,
            lock,
            "api",
            "file",
            lambda d=data: urllib.request.urlopen(
                f"{base}/open311/v2/requests.json", d, timeout=60
            ),
        )
        if body is not None:
            answer.number = json.loads(body)[0]["service_request_id"]


@pytest.fixture(scope="module")
def burst(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Burst]:
    """Start the servers, run the filers for BURST_SECONDS, stop the servers."""
    folder = tmp_path_factory.mktemp("burst")
    database = folder / "burst.sqlite3"
    (folder / "uploads").mkdir()
    first, started = _start_server(database, folder / "uploads", folder, setup=True)
    servers = [first]
    bases = [f"http://127.0.0.1:{started['port']}"]
    key = str(started["key"])
    try:
        for _ in range(SERVERS - 1):
            process, more = _start_server(database, folder / "uploads", folder, setup=False)
            servers.append(process)
            bases.append(f"http://127.0.0.1:{more['port']}")
        answers: list[Answer] = []
        lock = threading.Lock()
        start = time.monotonic()
        until = start + BURST_SECONDS
        threads = []
        for index in range(FILERS):
            base = bases[index % len(bases)]
            if (index // len(bases)) % 2:
                target, args = _api_filer, (base, key, index, until, answers, lock)
            else:
                target, args = _web_filer, (base, index, until, answers, lock)
            threads.append(threading.Thread(target=target, args=args))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=BURST_SECONDS + 120)
        seconds = time.monotonic() - start
    finally:
        for process in servers:
            process.terminate()
        for process in servers:
            process.wait(timeout=30)
    yield Burst(answers, seconds, database)


def _figures(burst: Burst) -> str:
    statuses = Counter((a.face, a.step, a.status) for a in burst.answers)
    acknowledged = sum(1 for a in burst.answers if a.number)
    return (
        f"{len(burst.answers)} requests, {acknowledged} filings acknowledged in "
        f"{burst.seconds:.1f} s; statuses {dict(statuses)}"
    )


def test_no_answer_is_a_server_error(burst: Burst) -> None:
    print(_figures(burst))
    failed = [a for a in burst.answers if a.status >= 500 or a.status == 0]
    assert not failed, f"{len(failed)} failed, e.g. {failed[:3]}; {_figures(burst)}"
    # Nothing else went wrong either (a refused token, a limit), and there was a burst.
    assert {a.status for a in burst.answers} == {200, 201}, _figures(burst)
    assert all(a.number for a in burst.answers if a.step == "file"), _figures(burst)
    filed = Counter(a.face for a in burst.answers if a.number)
    assert filed["web"] >= FILERS and filed["api"] >= FILERS, _figures(burst)


def test_every_acknowledged_case_exists_once_and_nothing_else(burst: Burst) -> None:
    acknowledged = [a.number for a in burst.answers if a.number]
    via_api = {a.number for a in burst.answers if a.number and a.face == "api"}
    assert len(acknowledged) == len(set(acknowledged)), "a number was given twice"
    with sqlite3.connect(burst.database) as db:
        numbers = [row[0] for row in db.execute("SELECT number FROM cases")]
        assert len(numbers) == len(set(numbers))
        assert set(numbers) == set(acknowledged), (
            f"saved but never acknowledged: {sorted(set(numbers) - set(acknowledged))[:5]}; "
            f"acknowledged but missing: {sorted(set(acknowledged) - set(numbers))[:5]}"
        )
        # Each case whole: one submit event, one accept clock, one receipt notice, and
        # the API's provenance for exactly the API's cases.
        for table, where in (
            ("case_events", "action = 'submit'"),
            ("case_clocks", "clock = 'accept'"),
            ("outbox", "template = 'receipt'"),
        ):
            counts = Counter(
                row[0] for row in db.execute(f"SELECT case_id FROM {table} WHERE {where}")
            )
            assert len(counts) == len(numbers) and set(counts.values()) == {1}, table
        api_numbers = {
            row[0]
            for row in db.execute(
                "SELECT cases.number FROM api_filings JOIN cases ON cases.id = api_filings.case_id"
            )
        }
        assert api_numbers == via_api
        # Numbers are gap-free: no filing took a number and then half-failed.
        (last,) = db.execute("SELECT max(last_value) FROM case_number_sequences").fetchone()
        assert last == len(numbers)
