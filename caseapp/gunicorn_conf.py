"""Gunicorn's settings, from the environment (docs/deploy.md lists them):

WEB_BIND (default 0.0.0.0:8000), WEB_WORKERS (2 × cores + 1), WEB_THREADS (4: threaded
workers), WEB_TIMEOUT (30 s), WEB_GRACEFUL_TIMEOUT (30 s), WEB_KEEPALIVE (5 s),
WEB_MAX_REQUESTS (2000, a worker is replaced after so many, ± 10 %),
FORWARDED_ALLOW_IPS (127.0.0.1: the reverse proxy), LOG_FORMAT (json), LOG_LEVEL (INFO).
The app's own PROXY_FIX_HOPS says how many proxies set X-Forwarded-For.

Run: ``gunicorn -c python:caseapp.gunicorn_conf caseapp.wsgi:app`` (``make serve``).
"""

from __future__ import annotations

import multiprocessing
import os

from caseapp.logs import gunicorn_logconfig


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = os.environ.get("WEB_BIND", "0.0.0.0:8000").split(",")
workers = _int("WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1)
threads = _int("WEB_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("WEB_TIMEOUT", 30)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 30)
keepalive = _int("WEB_KEEPALIVE", 5)
max_requests = _int("WEB_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Each worker opens its own database connections after the fork.
preload_app = False
accesslog = "-"
errorlog = "-"
logconfig_dict = gunicorn_logconfig(
    os.environ.get("LOG_FORMAT", "json"), os.environ.get("LOG_LEVEL", "INFO")
)
proc_name = "caseapp-web"
