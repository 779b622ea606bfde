"""Configuration: a secret key outside the demo, debug off, secure cookies by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Flask

from caseapp import ConfigurationError, create_app
from caseapp.security import check_production_settings
from config import Config, DemoConfig, TestConfig
from tests.conftest import ROOT


class NoSecretConfig(TestConfig):
    SECRET_KEY = None


def test_production_refuses_to_start_without_secret_key() -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(NoSecretConfig)


def test_demo_generates_and_keeps_a_secret_key(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)

    class Demo(NoSecretConfig):
        DEMO = True

    first = create_app(Demo).config["SECRET_KEY"]
    second = create_app(Demo).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_safe_defaults() -> None:
    assert Config.DEBUG is False
    assert Config.SESSION_COOKIE_SECURE is True
    assert Config.SESSION_COOKIE_HTTPONLY is True
    assert Config.CITY_TIMEZONE == "Asia/Shanghai"
    assert Config.CASE_NUMBER_DIGITS >= 6
    assert DemoConfig.SESSION_COOKIE_SECURE is False  # plain http on 127.0.0.1


@pytest.mark.parametrize(
    ("settings", "flask_debug", "refused"),
    [
        ({"DEBUG": True}, "", True),
        ({}, "1", True),  # flask --debug run sets FLASK_DEBUG before the app is built
        ({}, "", False),
        ({"DEBUG": True, "DEMO": True}, "1", False),  # the local demo may debug
        ({"DEBUG": True, "TESTING": True}, "", False),
    ],
)
def test_production_refuses_to_start_with_debug_on(
    monkeypatch: pytest.MonkeyPatch, settings: dict[str, bool], flask_debug: str, refused: bool
) -> None:
    monkeypatch.setenv("FLASK_DEBUG", flask_debug)
    app = Flask("production")
    app.config.update({"DEBUG": False, "DEMO": False, "TESTING": False, **settings})
    if refused:
        with pytest.raises(ConfigurationError, match="DEBUG"):
            check_production_settings(app)
    else:
        check_production_settings(app)


# What `make serve` runs: caseapp.wsgi (create_app() with no CASEAPP_DEMO), configured
# from the environment alone, in a process of its own. It signs a demo account in over
# https, sets a "remember me" cookie as Flask-Login would, and builds the app again with
# FLASK_DEBUG set.
PRODUCTION_SCRIPT = """
import json, os, re
from flask_login import login_user
from caseapp.wsgi import app
from caseapp import ConfigurationError, create_app
from caseapp.models import User
from caseapp.extensions import db

client = app.test_client()
https = {"base_url": "https://cases.example.cn"}
page = client.get("/staff/login", **https)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
form = {"username": "handler", "password": "demo-password", "csrf_token": token}
# Over https a form needs a same-site Referer (Flask-WTF): the page's policy sends one.
policy = page.headers.get("Referrer-Policy")
without_referer = client.post("/staff/login", data=form, **https)
signed_in = client.post(
    "/staff/login", data=form, headers={"Referer": "https://cases.example.cn/staff/login"}, **https
)
with app.test_request_context("/", **https):
    login_user(db.session.scalar(db.select(User).where(User.username == "handler")), remember=True)
    remembered = app.process_response(app.response_class("x"))
os.environ["FLASK_DEBUG"] = "1"
try:
    create_app()
    debug = "started"
except ConfigurationError as error:
    debug = str(error)
print(json.dumps({
    "status": signed_in.status_code,
    "without_referer": without_referer.status_code,
    "policy": policy,
    "signed_in": signed_in.headers.getlist("Set-Cookie"),
    "remembered": remembered.headers.getlist("Set-Cookie"),
    "hsts": page.headers.get("Strict-Transport-Security"),
    "debug": debug,
}))
"""


def _attributes(header: str) -> tuple[str, dict[str, str]]:
    """A Set-Cookie header's name and its attributes (lower-cased names)."""
    name, _, rest = header.partition("=")
    attributes = {}
    for part in rest.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        attributes[key.lower()] = value
    return name, attributes


def test_production_cookies_are_secure_httponly_and_samesite(
    app: Flask, demo_base: None, tmp_path: Path
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CASEAPP_DEMO", "FLASK_DEBUG", "SESSION_COOKIE_SECURE"}
    }
    env.update(
        SECRET_KEY="a-production-key-" + "0" * 48,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        CASEAPP_INSTANCE_DIR=str(tmp_path),
        LOG_LEVEL="WARNING",
    )
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert (found["policy"], found["without_referer"], found["status"]) == ("same-origin", 400, 302)
    cookies = dict(_attributes(h) for h in found["signed_in"] + found["remembered"])
    assert set(cookies) == {"__Host-caseapp_session", "__Host-caseapp_remember"}
    for name, attributes in cookies.items():
        assert "secure" in attributes and "httponly" in attributes, name
        assert attributes.get("samesite") == "Lax", name
        # The __Host- prefix holds only with Path=/ and no Domain.
        assert attributes.get("path") == "/" and "domain" not in attributes, name
    assert SimpleCookie(found["signed_in"][0])  # a well-formed header
    assert found["hsts"] == "max-age=31536000; includeSubDomains"
    assert "DEBUG" in found["debug"]


def test_cookie_names_carry_the_host_prefix_only_when_secure() -> None:
    assert Config.SESSION_COOKIE_NAME == "__Host-caseapp_session"
    assert Config.REMEMBER_COOKIE_NAME == "__Host-caseapp_remember"
    # A browser drops a __Host- cookie sent over plain http: the demo keeps the bare name.
    assert DemoConfig.SESSION_COOKIE_NAME == "caseapp_session"
    assert TestConfig.SESSION_COOKIE_NAME == "caseapp_session"
    assert Config.REMEMBER_COOKIE_SAMESITE == Config.SESSION_COOKIE_SAMESITE == "Lax"


@pytest.mark.parametrize("path", ["/", "/staff/login", "/open311/v2/services.json"])
def test_trace_is_not_answered(app: Flask, path: str) -> None:
    answer = app.test_client().open(path, method="TRACE")
    assert answer.status_code == 405
    assert "TRACE" not in answer.headers.get("Allow", "")
