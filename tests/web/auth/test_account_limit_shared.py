"""The per-account sign-in limit is kept in the limiter's storage, so through Redis it
holds on every host: failures spent on one host, each from another address, lock the
account on a second host (two processes stand for two hosts)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.web.test_rate_limits import REDIS_URL, redis_prefix  # noqa: F401 (fixture)

pytestmark = pytest.mark.long

HOST_SCRIPT = """
import json, re, sys
from caseapp import create_app
from config import TestConfig

prefix, storage, first_address, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
app = create_app(
    TestConfig,
    RATELIMIT_STORAGE_URI=storage,
    RATELIMIT_KEY_PREFIX=prefix,
    RATELIMIT_LOGIN_ACCOUNT="3 per 15 minutes",
    SQLALCHEMY_DATABASE_URI="sqlite://",
)
from caseapp.extensions import db
with app.app_context():
    db.create_all()  # an empty schema is enough: every sign-in here fails
client = app.test_client()
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/staff/login").get_data(as_text=True)).group(1)
codes = [
    client.post(
        "/staff/login",
        data={"username": "handler", "password": "guess", "csrf_token": token},
        environ_base={"REMOTE_ADDR": f"192.0.2.{first_address + n}"},
    ).status_code
    for n in range(attempts)
]
print(json.dumps(codes))
"""


def _host(prefix: str, first_address: int, attempts: int) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", HOST_SCRIPT, prefix, REDIS_URL, str(first_address), str(attempts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_account_locked_on_one_host_is_locked_on_another(redis_prefix: str) -> None:  # noqa: F811
    assert _host(redis_prefix, 1, 4) == [200, 200, 200, 429]
    assert _host(redis_prefix, 100, 1) == [429]
