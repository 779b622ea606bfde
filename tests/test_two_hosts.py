"""Several hosts (issue 19, docs/deploy.md): two production servers (gunicorn) on
different loopback ports and one worker, on the suite's database and one Redis, with
one upload directory as every host would mount it. A filing with a photo on one host is
read, photo included, on the other; a staff sign-in on one is used on the other; one
rate limit is counted across both; the worker delivers what either host queued."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from PIL import Image

from caseapp.extensions import db
from caseapp.models import Case, OutboxMessage
from caseapp.models.enums import OutboxStatus
from tests.conftest import DEMO_PASSWORD

pytestmark = [
    pytest.mark.usefixtures("demo_base"),
    pytest.mark.long,
]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hosts(app: Flask, tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Two gunicorn servers ("hosts") sharing the database, Redis and an upload folder;
    their base URLs and the environment they share."""
    env = {
        **os.environ,
        "SECRET_KEY": "one-key-for-every-host-" + uuid.uuid4().hex,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": str(tmp_path / "shared-uploads"),
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"two-hosts-{uuid.uuid4().hex}",
        "RATELIMIT_TRACK": "3 per minute",
        "SESSION_COOKIE_SECURE": "0",  # plain http on loopback
        "CASEAPP_INSTANCE_DIR": str(tmp_path / "instance"),
        "WEB_WORKERS": "2",
        "WEB_THREADS": "2",
        "LOG_FORMAT": "json",
        "CASEAPP_DEMO": "",
    }
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "python:caseapp.gunicorn_conf", "caseapp.wsgi:app"],
            env={**env, "WEB_BIND": f"127.0.0.1:{port}"},
            cwd=ROOT,
            stdout=open(tmp_path / f"host-{port}.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, server in zip(urls, servers, strict=True):
            for _ in range(300):
                assert server.poll() is None, f"{url} stopped"
                try:
                    if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.2)
            else:
                pytest.fail(f"{url} did not start")
        yield urls[0], urls[1], env
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def token(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10)
    assert page.status_code == 200, (url, page.status_code)
    found = CSRF.search(page.text)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (30, 90, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def file_on(host: str, title: str, jpeg: bytes) -> str:
    citizen = requests.Session()
    form = f"{host}/requests/new?category=bus-stop"
    fields = {
        "csrf_token": token(citizen, form),
        "kind": "help",
        "title": title,
        "description": "圣惠路改造后村口的公交站没有恢复，老人要走很远去坐车。",
        "public_location": "圣惠路",
        "citizen_name": "张秀英",
        "citizen_phone": "13812345678",
        "notify_by": "sms",
        "consent_privacy": "y",
        "confirm_distinct": "y",
    }
    answer = citizen.post(
        form, data=fields, files={"attachments": ("站牌.jpg", jpeg, "image/jpeg")}, timeout=30
    )
    assert answer.status_code == 200 and "YC" in answer.text, answer.status_code
    return re.search(r"YC\d{4}-\d{6}", answer.text).group(0)  # type: ignore[union-attr]


def test_two_hosts_share_files_sign_ins_limits_and_the_worker(
    app: Flask, hosts: tuple[str, str, dict[str, str]], tmp_path: Path
) -> None:
    first, second, env = hosts
    jpeg = photo()
    number = file_on(first, "圣惠路羊驮寺村公交站被取消", jpeg)
    other = file_on(second, "圣惠路西口公交站牌缺失", jpeg)

    # A sign-in on the first host is used on the second, file included.
    clerk = requests.Session()
    signed = clerk.post(
        f"{first}/staff/login",
        data={
            "csrf_token": token(clerk, f"{first}/staff/login"),
            "username": "intake",
            "password": DEMO_PASSWORD,
        },
        timeout=30,
    )
    assert signed.status_code == 200 and "/staff/login" not in signed.url
    page = clerk.get(f"{second}/staff/cases/{number}", timeout=10)
    assert page.status_code == 200 and "圣惠路羊驮寺村公交站被取消" in page.text
    link = re.search(rf'href="(/staff/cases/{number}/files/\d+)"', page.text)
    assert link, "no file on the case page"
    served = [clerk.get(f"{host}{link.group(1)}", timeout=10) for host in (first, second)]
    assert [r.status_code for r in served] == [200, 200]
    assert served[0].content == served[1].content  # the one stored file (metadata stripped)
    assert Image.open(io.BytesIO(served[1].content)).size == (48, 32)

    # One limit for both: 3 look-ups a minute from this address, wherever they land.
    visitor = requests.Session()
    answers = []
    for host in (first, second, first, second):
        look = {"csrf_token": token(visitor, f"{host}/track"), "number": number,
                "phone": "13812345678"}  # fmt: skip
        answers.append(visitor.post(f"{host}/track", data=look, timeout=10).status_code)
    assert answers[:3] == [200, 200, 200] and answers[3] == 429, answers

    # One worker delivers what either host queued.
    with app.app_context():
        queued = set(
            db.session.scalars(
                sa.select(OutboxMessage.id)
                .join(Case, Case.id == OutboxMessage.case_id)
                .where(Case.number.in_((number, other)))
            )
        )
    assert len(queued) >= 2
    subprocess.run(
        [str(BIN / "flask"), "--app", "caseapp", "worker", "--interval", "1", "--rounds", "2"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with app.app_context():
        db.session.expire_all()
        statuses = db.session.scalars(
            sa.select(OutboxMessage.status).where(OutboxMessage.id.in_(queued))
        ).all()
    assert set(statuses) == {OutboxStatus.SENT}, statuses
