"""Rate limits shared through Redis, as between several hosts (DESIGN §11).

Two separate processes stand for two hosts: the first spends the sign-in limit, the
second is refused at once, which only a shared store can make happen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
import redis

from tests.conftest import ROOT

pytestmark = pytest.mark.long

REDIS_URL = os.environ.get("CASEAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

HOST_SCRIPT = """
import json, re, sys
from caseapp import create_app
from config import TestConfig

prefix, storage, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = create_app(
    TestConfig,
    RATELIMIT_STORAGE_URI=storage,
    RATELIMIT_KEY_PREFIX=prefix,
    RATELIMIT_LOGIN="3 per 5 minutes",
    SQLALCHEMY_DATABASE_URI="sqlite://",
)
from caseapp.extensions import db
with app.app_context():
    db.create_all()  # an empty schema is enough: every sign-in here fails
client = app.test_client()
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/track").get_data(as_text=True)).group(1)
codes = [
    client.post("/staff/login", data={"username": "x", "password": "y", "csrf_token": token}).status_code
    for _ in range(attempts)
]
print(json.dumps(codes))
"""


def _host(prefix: str, attempts: int) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", HOST_SCRIPT, prefix, REDIS_URL, str(attempts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def redis_prefix() -> str:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:  # CI starts Redis; a missing one is a failure
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    prefix = f"caseapp-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


def test_a_limit_spent_on_one_host_holds_on_another(redis_prefix: str) -> None:
    first = _host(redis_prefix, 4)
    assert first[:3] == [200, 200, 200] and first[3] == 429
    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_prefix}*"))
    assert keys, "the limiter wrote nothing to Redis"
    second = _host(redis_prefix, 1)
    assert second == [429]


def test_separate_prefixes_do_not_share(redis_prefix: str) -> None:
    assert _host(redis_prefix, 1) == [200]
    assert _host(redis_prefix + "-other", 1) == [200]
