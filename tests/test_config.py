"""Configuration: a secret key outside the demo, debug off, secure cookies by default."""

from __future__ import annotations

import pytest

from caseapp import ConfigurationError, create_app
from config import Config, DemoConfig, TestConfig


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
