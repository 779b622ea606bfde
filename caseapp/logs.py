"""Logging to stdout, one JSON object a line in production (LOG_FORMAT=json), plain text
for the local demo: what a process manager (systemd's journal, a container runtime)
collects and a log store can search. Gunicorn's access lines come out in the same form,
with the request's fields as keys."""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

# Gunicorn's access-log atoms kept as fields: address, method, path, status, bytes,
# duration in microseconds, referrer, user agent (never the query string, which may
# name a phone number typed in a search).
ACCESS_FIELDS = {
    "h": "remote",
    "m": "method",
    "U": "path",
    "s": "status",
    "B": "bytes",
    "D": "duration_us",
    "f": "referrer",
    "a": "user_agent",
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LineFormatter(JsonFormatter):
    """A JSON object per record: time, level, logger, message, and for an access line
    the request's fields."""

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            for atom, name in ACCESS_FIELDS.items():
                value = record.args.get(atom)
                if value not in (None, "-"):
                    log_data[name] = value
            log_data["message"] = f"{log_data.get('method', '')} {log_data.get('path', '')}"


def json_formatter() -> LineFormatter:
    return LineFormatter(
        "%(asctime)s %(message)s", rename_fields={"asctime": "time"}, json_ensure_ascii=False
    )


def configure(log_format: str, level: str = "INFO") -> None:
    """Send the root logger to stdout in ``log_format`` ("json" or "text"), once per
    process (a handler set up already, by a test runner or gunicorn, is left alone)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic's plugin set-up at import time says nothing an operator needs.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def gunicorn_logconfig(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """Gunicorn's ``logconfig_dict``: its error and access logs to stdout in the app's
    format."""
    formatter = (
        {"()": "caseapp.logs.json_formatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    stdout = {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": formatter},
        "handlers": {"stdout": stdout},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "gunicorn.error": {"handlers": ["stdout"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }
