"""Crashes (issue 20, point 3): ``kill -9`` of the production server in the middle of a
filing burst, and of the worker in the middle of notice delivery, on the suite's
database (SQLite or PostgreSQL), each test on a scratch database of its own.

The server: gunicorn (``caseapp.bench.http.ProductionServer``, 2 workers of 4 threads)
takes filings from concurrent clients, through the public form (a photo on every third)
and through Open311 with an Idempotency-Key; after ``KILL_AFTER`` acknowledged filings
its master and workers are killed at once, mid-request, and it is started again while
the clients go on (what they send meanwhile fails: it was never acknowledged; an API
client whose answer was lost sends the same filing again under the same key). Then every
acknowledged number is stored once, every case in the database, acknowledged or not, is
whole (its number in the gap-free yearly sequence, its submit event, its accept clock,
its receipt, its attachments' files), no row points at a case that is not there, and
each Idempotency-Key filed one case.

The worker: ``NOTICES`` notices, by SMS to a fake gateway (Idempotency-Key header) and
by email to a fake SMTP server (Message-ID), each taking ``GATEWAY_SECONDS``; ``flask
worker`` is killed while it delivers and started again, with a lease of 2 s. Every notice
is delivered at least once, all deliveries of a notice carry its one key, and the
repeats are no more than what the worker sent since it last marked its batch.

Figures (acknowledged vs stored, deliveries per notice) are printed: ``pytest -s``.
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import io
import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from PIL import Image

from caseapp import create_app
from caseapp.bench.http import ProductionServer, _file_one
from caseapp.extensions import db
from caseapp.models import (
    ApiFiling,
    Attachment,
    Case,
    CaseClock,
    CaseEvent,
    CaseNumberSequence,
    OutboxMessage,
)
from caseapp.models.enums import OutboxChannel, OutboxStatus
from caseapp.models.types import utcnow
from caseapp.notify.delivery import MARK_EVERY
from config import TestConfig
from tests.conftest import ROOT, _recreate_database

pytestmark = pytest.mark.long

BIN = Path(sys.executable).parent

# The server run.
WEB_CLIENTS = 5
API_CLIENTS = 1
FILINGS = 120
KILL_AFTER = 35
BURST_SECONDS = 25  # the clients stop then, whatever they filed

# The worker run.
NOTICES = 200
GATEWAY_SECONDS = 0.01
KILL_AFTER_DELIVERIES = 60
LEASE_SECONDS = 2

WAIT = 30  # seconds any one wait may take before the test fails and stops what it started


@dataclass
class Scratch:
    """A database of the test's own: its URL, an engine for reading it from the test
    (a plain one: on SQLite it takes no write lock), and the folder of its files."""

    url: str
    engine: sa.Engine
    folder: Path
    city_timezone: str
    api_key: str

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@pytest.fixture
def scratch(app: Flask, tmp_path: Path) -> Iterator[Scratch]:
    """A new database beside the suite's (a file on SQLite, ``<suite's>_crash`` on
    PostgreSQL), migrated, with the demo base and an Open311 key; dropped afterwards."""
    suite = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    postgres = suite.get_backend_name() == "postgresql"
    if postgres:
        name = f"{suite.database}_crash"
        _recreate_database(suite, name)
        url = suite.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    setup = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, UPLOAD_DIR=str(tmp_path))
    from caseapp.demo.base import load_base
    from caseapp.services.admin import api_keys

    with setup.app_context():
        upgrade()
        load_base()
        _row, key = api_keys.create_key("崩溃测试", None)
        db.session.remove()
        db.engine.dispose()
    engine = sa.create_engine(url)
    try:
        yield Scratch(url, engine, tmp_path, app.config["CITY_TIMEZONE"], key)
    finally:
        engine.dispose()
        if postgres:
            _recreate_database(suite, name, drop_only=True)


def wait_for(what: str, done: Callable[[], bool], seconds: float = WAIT) -> None:
    """Until ``done()``, at most ``seconds``; a failure that says what did not happen."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:g} s")
        time.sleep(0.05)


# --- the server killed mid-burst --------------------------------------------------------


@dataclass
class Burst:
    """What the clients saw: numbers acknowledged (with the photo they sent, if any),
    Open311 keys and their answers, requests that got no answer."""

    web: dict[str, bool] = field(default_factory=dict)  # number → sent a photo
    api: dict[str, str] = field(default_factory=dict)  # Idempotency-Key → number
    api_retries: int = 0
    api_replayed: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def acknowledged(self) -> int:
        with self.lock:
            return len(self.web) + len(self.api)

    def enough(self) -> bool:
        return self.stop.is_set() or self.acknowledged >= FILINGS


def photo(serial: int) -> bytes:
    """A small JPEG of its own colour (files are stored by their hash)."""
    buffer = io.BytesIO()
    colour = (serial * 37 % 256, serial * 91 % 256, serial * 13 % 256)
    Image.new("RGB", (24, 16), colour).save(buffer, "JPEG")
    return buffer.getvalue()


# What a client meets while the server is down or killed under its request: no answer.
NO_ANSWER = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


def failure(exc: Exception) -> str:
    """A failed request, as counted: no answer, or what the answer was (a bug)."""
    return "no answer" if isinstance(exc, NO_ANSWER) else f"{type(exc).__name__}: {exc}"


def web_client(url: str, index: int, burst: Burst) -> None:
    """A citizen after another at the public form (bench http's filing, the duplicate
    check included); a filing that gets no answer is not tried again."""
    session = requests.Session()
    turn = 0
    while not burst.enough():
        turn += 1
        serial = index * 1000 + turn
        jpeg = photo(serial) if turn % 3 == 0 else None
        try:
            number = _file_one(session, url, f"{serial:012x}", jpeg)
        except (RuntimeError, requests.RequestException) as exc:
            with burst.lock:
                burst.failed[f"web {failure(exc)}"] += 1
            session = requests.Session()  # a new visit
            time.sleep(0.1)
            continue
        with burst.lock:
            burst.web[number] = jpeg is not None


def api_client(url: str, key: str, index: int, burst: Burst) -> None:
    """An Open311 client: each filing under a key of its own, sent again with the same
    key and parameters until it is answered (or the run ends)."""
    turn = 0
    while not burst.enough():
        turn += 1
        idempotency_key = f"crash-{index}-{turn}-{uuid.uuid4().hex[:8]}"
        data = {
            "api_key": key,
            "service_code": "road-damage",
            "description": f"解放路井盖缺失 {index}-{turn}，夜间行人容易踩空。",
            "lat": "35.0301",
            "long": "111.0102",
            "first_name": "秀英",
            "last_name": "张",
            "phone": "13812345678",
        }
        tries = 0
        while not burst.stop.is_set():
            tries += 1
            try:
                answer = requests.post(
                    f"{url}/open311/v2/requests.json",
                    data=data,
                    headers={"Idempotency-Key": idempotency_key},
                    timeout=30,
                )
            except requests.RequestException as exc:
                with burst.lock:
                    burst.failed[f"api {failure(exc)}"] += 1
                time.sleep(0.1)
                continue
            if answer.status_code != 201:
                with burst.lock:
                    burst.failed[f"api {answer.status_code}"] += 1
                time.sleep(0.1)
                continue
            with burst.lock:
                burst.api[idempotency_key] = answer.json()[0]["service_request_id"]
                burst.api_retries += tries - 1
                burst.api_replayed += answer.headers.get("Idempotent-Replayed") == "true"
            break


def test_a_server_killed_mid_burst_loses_no_acknowledged_case_and_leaves_none_half_written(
    scratch: Scratch,
) -> None:
    started = time.monotonic()
    server = ProductionServer(
        scratch.url, 2, 4, city_timezone=scratch.city_timezone, scratch=scratch.folder
    )
    burst = Burst()
    clients = [
        threading.Thread(target=web_client, args=(server.url, i, burst)) for i in range(WEB_CLIENTS)
    ] + [
        threading.Thread(target=api_client, args=(server.url, scratch.api_key, i, burst))
        for i in range(API_CLIENTS)
    ]
    try:
        server.start(timeout=60)
        for client in clients:
            client.start()
        wait_for("filings before the kill", lambda: burst.acknowledged >= KILL_AFTER)
        server.kill()  # kill -9 of the master and its workers, requests in flight
        at_kill = burst.acknowledged
        down = time.monotonic()
        server.start(timeout=60)  # meanwhile the clients meet a closed port
        outage = time.monotonic() - down
        wait_for("filings after the restart", lambda: burst.acknowledged >= at_kill + 20)
        while not burst.enough() and time.monotonic() < started + BURST_SECONDS:
            time.sleep(0.05)
    finally:
        burst.stop.set()
        for client in clients:
            if client.ident is not None:  # started
                client.join(timeout=WAIT)
        server.stop(timeout=10)
    assert not any(c.is_alive() for c in clients), "a client did not stop"

    stored = check_every_case_is_whole(scratch)
    acknowledged = {**{n: "web" for n in burst.web}, **{n: "api" for n in burst.api.values()}}
    print(
        f"\n[{scratch.dialect}] server killed after {at_kill} acknowledged filings, "
        f"back after {outage:.1f} s: {len(acknowledged)} acknowledged "
        f"({len(burst.web)} web, {len(burst.api)} Open311), {len(stored)} stored, "
        f"{len(set(stored) - set(acknowledged))} stored but never acknowledged; "
        f"failed requests {dict(burst.failed)}; Open311 retries {burst.api_retries}, "
        f"of which answered as replays {burst.api_replayed}; "
        f"{files_without_a_row(scratch)} uploaded files without a row; "
        f"{time.monotonic() - started:.1f} s"
    )
    # No request was refused or failed on the server: those that failed got no answer.
    assert set(burst.failed) <= {"web no answer", "api no answer"}, burst.failed
    # Every acknowledged number is stored, once (numbers are unique: checked above).
    missing = sorted(set(acknowledged) - set(stored))
    assert not missing, f"acknowledged but not stored: {missing[:5]}"
    assert len(burst.web) + len(burst.api) == len(acknowledged), "a number acknowledged twice"
    # What the clients sent with a photo has it.
    with scratch.engine.connect() as conn:
        photos = dict(
            conn.execute(
                sa.select(Case.number, sa.func.count(Attachment.id))
                .outerjoin(Attachment, Attachment.case_id == Case.id)
                .group_by(Case.number)
            ).all()
        )
        # Each Idempotency-Key filed one case, the one its client was answered with.
        keyed = dict(
            conn.execute(
                sa.select(ApiFiling.idempotency_key, Case.number).join(
                    Case, Case.id == ApiFiling.case_id
                )
            ).all()
        )
    assert {n: photos[n] for n in burst.web} == {n: int(p) for n, p in burst.web.items()}
    assert {k: keyed.get(k) for k in burst.api} == burst.api
    # Every case filed through Open311 came with a key (the clients always send one).
    assert None not in keyed and len(keyed) == Counter(stored.values())["api"]


def check_every_case_is_whole(scratch: Scratch) -> dict[str, str]:
    """Every case in the database: its number in the year's gap-free sequence, one
    submit event, one accept clock, one receipt, each attachment's file as stored; no row
    of another table pointing at a case that is not there. The stored numbers and their
    channels."""
    with scratch.engine.connect() as conn:
        cases = conn.execute(
            sa.select(Case.id, Case.number, Case.number_year, Case.number_seq, Case.channel)
        ).all()
        numbers = Counter(c.number for c in cases)
        assert all(count == 1 for count in numbers.values()), numbers.most_common(3)
        assert len({(c.number_year, c.number_seq) for c in cases}) == len(cases)
        assert all(c.number == f"YC{c.number_year}-{c.number_seq:06d}" for c in cases)
        for year, last in conn.execute(
            sa.select(CaseNumberSequence.year, CaseNumberSequence.last_value)
        ):
            seqs = sorted(c.number_seq for c in cases if c.number_year == year)
            assert seqs == list(range(1, last + 1)), f"{year}: numbers not gap-free up to {last}"
        ids = {c.id for c in cases}
        for name, where in (
            ("submit events", sa.select(CaseEvent.case_id).where(CaseEvent.action == "submit")),
            ("accept clocks", sa.select(CaseClock.case_id).where(CaseClock.clock == "accept")),
            (
                "receipts",
                sa.select(OutboxMessage.case_id).where(OutboxMessage.template == "receipt"),
            ),
        ):
            per_case = Counter(conn.execute(where).scalars())
            wrong = {i: per_case[i] for i in ids if per_case[i] != 1}
            assert not wrong, (
                f"cases without exactly one of their {name}: {list(wrong.items())[:5]}"
            )
        # Rows of any table that point at a case (events, clocks, attachments, notices,
        # API provenance …) point at one that is there.
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if any(fk.column.table.name == "cases" for fk in column.foreign_keys):
                    orphans = conn.scalar(
                        sa.select(sa.func.count())
                        .select_from(table)
                        .where(column.is_not(None), column.not_in(sa.select(Case.id)))
                    )
                    assert orphans == 0, f"{table.name}.{column.name}: {orphans} orphans"
        for key, size, digest in conn.execute(
            sa.select(Attachment.storage_key, Attachment.size, Attachment.sha256)
        ):
            path = scratch.folder / "uploads" / key
            assert path.is_file() and path.stat().st_size == size, f"no file for {key}"
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{key} differs"
    return {c.number: str(c.channel) for c in cases}


def files_without_a_row(scratch: Scratch) -> int:
    """Uploaded files no attachment names: a filing killed after it stored its files
    and before it committed leaves them (harmless, never served)."""
    with scratch.engine.connect() as conn:
        named = set(conn.scalars(sa.select(Attachment.storage_key)))
    uploads = scratch.folder / "uploads"
    on_disk = {str(f.relative_to(uploads)) for f in uploads.glob("*/*") if f.is_file()}
    return len(on_disk - named)


# --- the worker killed mid-delivery -----------------------------------------------------


class Deliveries:
    """What the gateways received: (channel, recipient, idempotency key), in order."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, str]] = []
        self.problems: list[str] = []
        self.lock = threading.Lock()

    def add(self, channel: str, recipient: str, key: str) -> None:
        with self.lock:
            self.received.append((channel, recipient, key))

    def __len__(self) -> int:
        with self.lock:
            return len(self.received)


def sms_gateway(deliveries: Deliveries) -> ThreadingHTTPServer:
    """An SMS gateway on loopback that takes ``GATEWAY_SECONDS`` per message."""

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers.get("Idempotency-Key", "")
            if body.get("idempotency_key") != key:
                deliveries.problems.append(f"SMS body and header keys differ: {body} {key}")
            deliveries.add("sms", body["phone"], key)  # received: the SMS goes out
            time.sleep(GATEWAY_SECONDS)
            with contextlib.suppress(OSError):  # the worker was killed meanwhile
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Gateway)


def smtp_server(deliveries: Deliveries) -> socketserver.ThreadingTCPServer:
    """Just enough of an SMTP server for smtplib, ``GATEWAY_SECONDS`` per message."""

    class Smtp(socketserver.StreamRequestHandler):
        def reply(self, line: bytes) -> None:
            self.wfile.write(line + b"\r\n")

        def handle(self) -> None:
            self.reply(b"220 crash-test ESMTP")
            while line := self.rfile.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    self.reply(b"250 crash-test")
                elif verb == b"DATA":
                    self.reply(b"354 go on")
                    data = b""
                    while (part := self.rfile.readline()) not in (b".\r\n", b""):
                        data += part[1:] if part.startswith(b"..") else part
                    message = email.message_from_bytes(data)
                    key = str(message["Message-ID"]).strip("<>").rpartition("@")[0]
                    deliveries.add("email", str(message["To"]), key)
                    time.sleep(GATEWAY_SECONDS)
                    self.reply(b"250 queued")
                elif verb == b"QUIT":
                    self.reply(b"221 bye")
                    return
                else:  # MAIL, RCPT, RSET, NOOP
                    self.reply(b"250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Smtp)
    server.daemon_threads = True
    return server


def queue_notices(scratch: Scratch) -> dict[str, tuple[str, str]]:
    """``NOTICES`` receipts, SMS and email by turns, each to a recipient of its own:
    idempotency key → (channel, recipient)."""
    now = utcnow()
    rows = []
    for i in range(NOTICES):
        sms = i % 5 < 3
        rows.append(
            {
                "idempotency_key": f"crash-notice-{i}-{uuid.uuid4().hex[:8]}",
                "channel": OutboxChannel.SMS if sms else OutboxChannel.EMAIL,
                "recipient": f"139{i:08d}" if sms else f"citizen{i}@example.cn",
                "template": "receipt",
                "language": "zh_CN",
                "params": {"number": f"YC2026-{i + 1:06d}", "accept_by": now.isoformat()},
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "created_at": now,
            }
        )
    with scratch.engine.begin() as conn:
        conn.execute(sa.insert(OutboxMessage), rows)
    return {r["idempotency_key"]: (str(r["channel"]), r["recipient"]) for r in rows}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [str(BIN / "flask"), "--app", "caseapp", "worker", "--interval", "1"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_a_worker_killed_mid_delivery_delivers_every_notice_under_its_one_key(
    scratch: Scratch,
) -> None:
    started = time.monotonic()
    queued = queue_notices(scratch)
    deliveries = Deliveries()
    servers = [sms_gateway(deliveries), smtp_server(deliveries)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    sms_port, smtp_port = (s.server_address[1] for s in servers)
    env = {
        **os.environ,
        "DATABASE_URL": scratch.url,
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "CASEAPP_DEMO": "",
        "CASEAPP_INSTANCE_DIR": str(scratch.folder / "instance"),
        "SMS_BACKEND": "http",
        "SMS_GATEWAY_URL": f"http://127.0.0.1:{sms_port}/send",
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    log = scratch.folder / "worker.log"
    workers = [start_worker(env, log)]

    def undelivered() -> int:
        with scratch.engine.connect() as conn:
            return int(
                conn.scalar(
                    sa.select(sa.func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
                )
            )

    try:
        wait_for("deliveries before the kill", lambda: len(deliveries) >= KILL_AFTER_DELIVERIES)
        os.kill(workers[0].pid, signal.SIGKILL)  # mid-batch, mid-send
        workers[0].wait(timeout=WAIT)
        at_kill = len(deliveries)
        assert at_kill < NOTICES, "the worker had delivered everything before it was killed"
        with scratch.engine.connect() as conn:
            held = conn.scalar(
                sa.select(sa.func.count()).where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.claimed_by.is_not(None),
                )
            )
        workers.append(start_worker(env, log))
        wait_for("the outbox drained after the restart", lambda: undelivered() == 0)
    except BaseException:
        print(log.read_text(errors="replace")[-3000:])
        raise
    finally:
        for worker in workers:
            stop(worker)
        for server in servers:
            server.shutdown()
            server.server_close()

    per_key = Counter(key for _channel, _recipient, key in deliveries.received)
    keys_per_notice: dict[tuple[str, str], set[str]] = {}
    for channel, recipient, key in deliveries.received:
        keys_per_notice.setdefault((channel, recipient), set()).add(key)
    repeats = sum(per_key.values()) - len(per_key)
    print(
        f"\n[{scratch.dialect}] worker killed after {at_kill} deliveries ({held} notices "
        f"held under its lease): {NOTICES} notices queued, {len(per_key)} delivered, "
        f"{len(deliveries)} deliveries, {repeats} repeated, at most "
        f"{max(per_key.values())} per notice; {time.monotonic() - started:.1f} s"
    )
    assert not deliveries.problems, deliveries.problems[:3]
    # Every notice delivered, each to its recipient under its own key, and only under it.
    assert set(per_key) == set(queued)
    assert {key: set() for key in queued} == {
        key: keys_per_notice[notice] - {key} for key, notice in queued.items()
    }
    assert len(keys_per_notice) == NOTICES
    # Repeats: at most what the killed worker sent since it last marked its batch.
    assert max(per_key.values()) <= 2
    assert repeats <= MARK_EVERY / GATEWAY_SECONDS + 3, repeats
    with scratch.engine.connect() as conn:
        rows = conn.execute(
            sa.select(OutboxMessage.status, OutboxMessage.claimed_by, OutboxMessage.attempts)
        ).all()
    assert {(str(s), c) for s, c, _a in rows} == {("sent", None)}
    assert all(a >= 1 for _s, _c, a in rows)
