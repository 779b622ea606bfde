"""Outbox delivery: once per notice, retries and dead letters, two workers at once, a
worker killed between sending and marking, the SMS gateway's payload, SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.models import OutboxMessage
from caseapp.models.enums import OutboxChannel, OutboxStatus
from caseapp.notify.backends import DeliveryError, HttpSmsBackend, Notice, SmtpBackend
from caseapp.notify.delivery import LEASE, claim, deliver_due
from caseapp.notify.texts import TEXTS, render, shown_params
from caseapp.services.notices import outbox as outbox_admin
from tests.conftest import ROOT

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Recorder:
    """A backend that remembers what it sent; thread-safe."""

    def __init__(self, fail: bool = False) -> None:
        self.keys: list[str] = []
        self.fail = fail
        self._lock = threading.Lock()

    def send(self, notice: Notice) -> None:
        if self.fail:
            raise DeliveryError("gateway down")
        with self._lock:
            self.keys.append(notice.idempotency_key)


def queue(count: int, at: datetime = NOW, prefix: str = "test") -> list[str]:
    keys = [f"{prefix}-{i}" for i in range(count)]
    db.session.add_all(
        OutboxMessage(
            idempotency_key=key,
            channel=OutboxChannel.SMS,
            recipient="13812345678",
            template="receipt",
            params={"number": f"YC2026-{i:06d}"},
            next_attempt_at=at,
            created_at=at,
        )
        for i, key in enumerate(keys)
    )
    db.session.commit()
    return keys


def statuses() -> Counter[str]:
    return Counter(str(s) for s in db.session.scalars(sa.select(OutboxMessage.status)))


def test_each_due_notice_is_sent_once(app_ctx: Flask) -> None:
    keys = queue(5)
    queue_later = OutboxMessage(
        idempotency_key="later", channel=OutboxChannel.SMS, recipient="1", template="receipt",
        params={}, next_attempt_at=NOW + timedelta(hours=1), created_at=NOW,
    )  # fmt: skip
    db.session.add(queue_later)
    db.session.commit()
    backend = Recorder()
    report = deliver_due(app_ctx.config, now=NOW, backends={"sms": backend}, clock=lambda: NOW)
    assert (report.claimed, report.sent) == (5, 5)
    assert sorted(backend.keys) == sorted(keys)
    assert deliver_due(app_ctx.config, now=NOW, backends={"sms": backend}).sent == 0
    assert statuses() == {"sent": 5, "pending": 1}


def test_one_delivery_drains_every_batch_that_is_due(app_ctx: Flask) -> None:
    """Issue 19: a backlog goes out in one call, ``limit`` claimed at a time, not 100
    per worker round; a time budget of 0 sends one batch (``outbox deliver``)."""
    keys = queue(250)
    backend = Recorder()
    one = deliver_due(app_ctx.config, now=NOW, limit=40, budget=0, backends={"sms": backend})
    assert (one.claimed, one.sent, one.drained) == (40, 40, False)
    rest = deliver_due(app_ctx.config, now=NOW, limit=40, backends={"sms": backend})
    assert (rest.claimed, rest.sent, rest.drained) == (210, 210, True)
    assert sorted(backend.keys) == sorted(keys)  # each once
    assert statuses() == {"sent": 250}
    rows = db.session.scalars(sa.select(OutboxMessage)).all()
    assert {(r.attempts, r.claimed_by, r.claimed_until) for r in rows} == {(1, None, None)}


def test_a_failing_notice_in_a_batch_backs_off_and_the_others_are_sent(app_ctx: Flask) -> None:
    queue(5)

    class FailsOne(Recorder):
        def send(self, notice: Notice) -> None:
            if notice.idempotency_key == "test-2":
                raise DeliveryError("gateway down")
            super().send(notice)

    report = deliver_due(
        app_ctx.config, now=NOW, limit=2, backends={"sms": FailsOne()}, clock=lambda: NOW
    )
    assert (report.sent, report.retried, report.drained) == (4, 1, True)
    failed = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key == "test-2")
    )
    assert failed is not None and failed.status is OutboxStatus.PENDING
    assert (failed.attempts, failed.last_error) == (1, "gateway down")
    assert failed.next_attempt_at == NOW + timedelta(minutes=1)


def test_failures_back_off_and_end_dead_then_an_admin_retries(
    app_ctx: Flask, demo_base: None
) -> None:
    queue(1)
    failing = Recorder(fail=True)
    moment = NOW
    for attempt in range(1, app_ctx.config["OUTBOX_MAX_ATTEMPTS"] + 1):
        report = deliver_due(
            app_ctx.config, now=moment, backends={"sms": failing}, clock=lambda m=moment: m
        )
        assert report.claimed == 1
        row = db.session.scalar(sa.select(OutboxMessage))
        db.session.refresh(row)
        assert row.attempts == attempt and row.last_error == "gateway down"
        assert row.next_attempt_at - moment == timedelta(minutes=min(2 ** (attempt - 1), 360))
        # Nothing is tried again before the backoff has passed.
        assert (
            deliver_due(
                app_ctx.config, now=moment + timedelta(seconds=30), backends={"sms": failing}
            ).claimed
            == 0
        )
        moment = row.next_attempt_at
    assert statuses() == {"dead": 1}
    from tests.factories import user

    outbox_admin.retry(row.id, user("admin"), now=moment)
    working = Recorder()
    assert deliver_due(app_ctx.config, now=moment, backends={"sms": working}).sent == 1
    assert working.keys == ["test-0"]


def test_two_workers_at_once_never_send_a_notice_twice(app: Flask) -> None:
    with app.app_context():
        keys = queue(60)
    backend = Recorder()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                while deliver_due(
                    app.config, now=NOW, worker_id=name, limit=7, backends={"sms": backend}
                ).claimed:
                    pass
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(backend.keys) == sorted(keys)  # every key exactly once
    assert Counter(backend.keys).most_common(1)[0][1] == 1
    with app.app_context():
        assert statuses() == {"sent": 60}


def test_a_worker_killed_after_sending_is_followed_by_a_resend_with_the_same_key(
    app_ctx: Flask,
) -> None:
    queue(6)
    # Worker A claims three and sends them, then dies before marking them.
    died = Recorder()
    for item in claim("worker-a", NOW, limit=3):
        died.send(item.notice)
    # Worker B, soon after: only the three unclaimed are due.
    survivor = Recorder()
    deliver_due(
        app_ctx.config,
        now=NOW + timedelta(minutes=1),
        worker_id="worker-b",
        backends={"sms": survivor},
    )
    assert set(survivor.keys).isdisjoint(died.keys) and len(survivor.keys) == 3
    # After A's lease ran out, B sends A's three again, with the same keys.
    later = Recorder()
    deliver_due(
        app_ctx.config,
        now=NOW + LEASE + timedelta(seconds=1),
        worker_id="worker-b",
        backends={"sms": later},
    )
    assert sorted(later.keys) == sorted(died.keys)
    assert statuses() == {"sent": 6}
    everything = died.keys + survivor.keys + later.keys
    assert [k for k, n in Counter(everything).items() if n > 1] == sorted(died.keys)


def test_a_late_worker_cannot_mark_a_row_it_lost(app_ctx: Flask) -> None:
    from caseapp.notify.delivery import _settle

    queue(1)
    [item] = claim("slow", NOW, limit=1)
    [again] = claim("fast", NOW + LEASE + timedelta(seconds=1), limit=1)
    _settle(item.id, "slow", {"status": OutboxStatus.SENT})
    row = db.session.scalar(sa.select(OutboxMessage))
    db.session.refresh(row)
    assert row.status is OutboxStatus.PENDING and row.claimed_by == "fast"


@pytest.mark.parametrize("template", sorted(TEXTS))
@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_notice_has_its_text_in_both_languages(
    app_ctx: Flask, template: str, language: str
) -> None:
    params = {"number": "YC2026-000123", "accept_by": "2026-11-30", "department": "市水务局",
              "resolve_by": "2026-12-05", "reason": "r", "question": "q", "answer": "a",
              "review_number": "YC2026-000124", "code": "123456", "minutes": 10,
              "title": "t", "clock": "resolve", "level": 2, "due": "2026-12-01",
              "text": "x", "kind": "extension", "days": 3, "approved": True}  # fmt: skip
    subject, text = render(template, language, params)
    assert subject and "YC2026-000123" in text and "{" not in text + subject


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("2026-12-11T16:00:00+00:00", "2026-12-11 24:00"),  # midnight in Beijing
        ("2026-12-11T01:30:00+00:00", "2026-12-11 09:30"),
        ("2026-12-31T16:00:00+00:00", "2026-12-31 24:00"),  # the year's last deadline
    ],
)
@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_notice_shows_its_deadline_in_the_citys_time_as_the_pages_do(
    app_ctx: Flask, language: str, stored: str, shown: str
) -> None:
    _subject, text = render("receipt", language, {"number": "YC2026-000123", "accept_by": stored})
    assert shown in text and not re.search(r"\d{4}-\d\d-\d\dT", text)
    assert shown_params(language, {"due": stored, "days": 3}) == {"due": shown, "days": "3"}


@pytest.mark.parametrize(
    ("language", "approved", "kind", "words"),
    [
        ("zh_CN", True, "return", "退单申请已获同意"),
        ("zh_CN", False, "redo", "再次重办申请未获同意"),
        ("en", True, "return", "late return request on case YC2026-000123 (t) was approved"),
        ("en", False, "extension", "extension request on case YC2026-000123 (t) was denied"),
    ],
)
def test_a_decision_notice_names_the_request_and_the_outcome_in_words(
    language: str, approved: bool, kind: str, words: str
) -> None:
    params = {"number": "YC2026-000123", "title": "t", "kind": kind, "approved": approved}
    subject, text = render("staff_approval_decided", language, params)
    assert words in text and "True" not in text and "False" not in text
    assert "YC2026-000123" in subject


class _Gateway(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append({"headers": dict(self.headers), "body": json.loads(body)})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        return


def test_the_sms_gateway_gets_a_template_id_with_parameters() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        backend = HttpSmsBackend(
            {
                "SMS_GATEWAY_URL": f"http://127.0.0.1:{server.server_port}/send",
                "SMS_GATEWAY_TOKEN": "secret",
                "SMS_SIGN_NAME": "运城市民诉求",
                "SMS_TEMPLATE_IDS": {"receipt": "SMS_4711"},
            }
        )
        backend.send(
            Notice("key-1", "sms", "13812345678", "receipt", "zh_CN", {"number": "YC2026-000001"})
        )
    finally:
        server.shutdown()
    [request] = _Gateway.received
    assert request["body"] == {
        "phone": "13812345678",
        "sign_name": "运城市民诉求",
        "template_id": "SMS_4711",
        "params": {"number": "YC2026-000001"},
        "idempotency_key": "key-1",
    }
    assert request["headers"]["Idempotency-Key"] == "key-1"
    assert request["headers"]["Authorization"] == "Bearer secret"


class _Redirecting(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        _Redirecting.hits.append(self.path)
        self.send_response(307)
        self.send_header("Location", "/elsewhere")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_the_sms_gateway_is_not_followed_through_a_redirect() -> None:
    """A 3xx is a delivery error: the message and the token go to the configured gateway
    only (ASVS 15.3.2)."""
    server = HTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        backend = HttpSmsBackend({"SMS_GATEWAY_URL": f"http://127.0.0.1:{server.server_port}/send"})
        with pytest.raises(DeliveryError, match="307"):
            backend.send(Notice("k", "sms", "13812345678", "receipt", "zh_CN", {}))
    finally:
        server.shutdown()
    assert _Redirecting.hits == ["/send"]


def test_smtp_starttls_checks_the_servers_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    """STARTTLS with a context that verifies the certificate and the name (ASVS 12.3.2):
    smtplib's own context verifies neither."""
    contexts: list[ssl.SSLContext | None] = []

    class Server:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __enter__(self) -> Server:
            return self

        def __exit__(self, *args: object) -> None:
            pass

        def starttls(self, context: ssl.SSLContext | None = None) -> None:
            contexts.append(context)

        def send_message(self, message: object) -> None:
            pass

    monkeypatch.setattr(smtplib, "SMTP", Server)
    backend = SmtpBackend(
        {"MAIL_FROM": "noreply@city.example", "MAIL_SERVER": "mail.city.example",
         "MAIL_PORT": 587, "MAIL_USE_TLS": True}
    )  # fmt: skip
    backend.send(Notice("k", "email", "a@b.example", "receipt", "zh_CN", {"number": "YC1"}))
    [context] = contexts
    assert context is not None
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


def test_an_unreachable_gateway_is_a_delivery_error() -> None:
    backend = HttpSmsBackend({"SMS_GATEWAY_URL": "http://127.0.0.1:9/send"})
    with pytest.raises(DeliveryError):
        backend.send(Notice("k", "sms", "13812345678", "receipt", "zh_CN", {}))


def test_outbox_deliver_command_prints_its_figures(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        queue(3, at=datetime.now(UTC) - timedelta(minutes=1))
    result = runner.invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "claimed 3, sent 3" in result.output


@pytest.mark.long
def test_the_worker_stops_cleanly_on_sigterm(app: Flask) -> None:
    env = {
        **os.environ,
        "SECRET_KEY": "worker-test",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "caseapp", "worker", "--interval", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        first_line = process.stdout.readline()
        assert "worker started" in first_line, first_line
        time.sleep(1.5)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=max(5, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "worker stopped after" in output


def test_the_worker_shows_what_the_log_backend_sends_on_its_console(app: Flask) -> None:
    """The demo's SMS (a tracking code, a receipt) appear where the worker runs, with
    the phone shown by its last digits only."""
    with app.app_context():
        queue(1)
    env = {
        **os.environ,
        "SECRET_KEY": "worker-test",
        "SMS_BACKEND": "log",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "caseapp", "worker", "--rounds", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "SMS to …5678" in output and "YC2026-000000" in output, output
    assert "13812345678" not in output


@pytest.mark.parametrize(
    ("language", "shown"), [("zh_CN", "市交通运输局"), ("en", "Transport Bureau")]
)
def test_a_name_given_in_both_languages_is_shown_in_the_readers(
    app_ctx: Flask, language: str, shown: str
) -> None:
    params = {"department": "市交通运输局", "department_en": "Transport Bureau"}
    assert shown_params(language, params) == {"department": shown}
    # An English name the city left empty falls back to the Chinese one.
    assert shown_params("en", {**params, "department_en": ""}) == {"department": "市交通运输局"}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://gateway/send", "gateway/send"])
def test_the_sms_gateway_must_be_an_http_address(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        HttpSmsBackend({"SMS_GATEWAY_URL": url})
