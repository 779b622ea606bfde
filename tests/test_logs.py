"""Logs as a log store reads them: one JSON object a line, and an access line with the
request's fields but never its query string (a search may hold a phone number)."""

from __future__ import annotations

import json
import logging

import pytest

from caseapp.logs import gunicorn_logconfig, json_formatter

pytestmark = pytest.mark.database_free


def record(name: str, message: str, args: object = None) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.INFO, __file__, 1, message, None, None)
    made.args = args  # type: ignore[assignment]
    return made


def test_an_app_line_is_one_json_object() -> None:
    line = json_formatter().format(record("caseapp.notify", "SMS to …5678"))
    data = json.loads(line)
    assert (data["level"], data["logger"], data["message"]) == (
        "INFO",
        "caseapp.notify",
        "SMS to …5678",
    )
    assert "time" in data and "\n" not in line


def test_an_access_line_names_the_request_without_its_query() -> None:
    atoms = {"h": "10.0.0.5", "m": "GET", "U": "/staff/queue", "q": "q=13812345678",
             "r": "GET /staff/queue?q=13812345678 HTTP/1.1", "s": "200", "B": 5120,
             "D": 18234, "a": "Mozilla/5.0", "f": "-"}  # fmt: skip
    line = json_formatter().format(record("gunicorn.access", "%(r)s", atoms))
    data = json.loads(line)
    assert data["path"] == "/staff/queue" and data["status"] == "200"
    assert data["duration_us"] == 18234 and "referrer" not in data
    assert "13812345678" not in line


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_gunicorn_logs_to_stdout_in_the_app_s_format(log_format: str) -> None:
    config = gunicorn_logconfig(log_format)
    assert config["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    assert set(config["loggers"]) == {"gunicorn.error", "gunicorn.access"}
    assert ("()" in config["formatters"]["line"]) is (log_format == "json")
