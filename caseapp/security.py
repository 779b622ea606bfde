"""Passwords, security headers, the settings production refuses to start without, the
client address the audit log records, and the staff session's clocks: an idle timeout
and an absolute lifetime counted from the sign-in."""

from __future__ import annotations

import enum
import time

from argon2 import PasswordHasher, Type
from flask import Flask, Response, current_app, has_request_context, request, session
from flask.helpers import get_debug_flag

from caseapp import ConfigurationError
from caseapp.services.admin import audit


def password_hasher() -> PasswordHasher:
    """The argon2id hasher configured for this app."""
    return current_app.extensions["caseapp.password_hasher"]


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

IDLE_KEY = "staff_seen_at"
SIGNED_IN_KEY = "staff_signed_in_at"


# HSTS for a year, on this host's subdomains too (ASVS 5.0 3.4.1 at level 2). It names
# this host's subdomains only, never the city's other sites beside it.
HSTS = "max-age=31536000; includeSubDomains"


# No address of this site is sent to another: the referrer goes to this site only. It
# must go there: over https, Flask-WTF refuses a form posted without a same-site
# Referer (WTF_CSRF_SSL_STRICT), so "no-referrer" on every page made every form fail in
# production behind TLS. The private link's own answer sends none at all: its URL is
# the key.
REFERRER_POLICY = "same-origin"
NO_REFERRER_ENDPOINTS = frozenset({"public.open_private_link"})


def referrer_policy(endpoint: str | None) -> str:
    """The Referrer-Policy of an answer to ``endpoint``."""
    return "no-referrer" if endpoint in NO_REFERRER_ENDPOINTS else REFERRER_POLICY


def check_production_settings(app: Flask) -> None:
    """Refuse to start outside the demo and the tests with debug on: the debugger runs
    any code a visitor sends it, and error pages would show the code and settings.
    ``flask --debug`` sets FLASK_DEBUG before the app is built, so it is refused too.
    (A missing SECRET_KEY is refused by ``create_app`` before this.)"""
    if app.config.get("DEMO") or app.testing:
        return
    if app.config.get("DEBUG") or get_debug_flag():
        raise ConfigurationError(
            "DEBUG is on outside the local demo. Unset FLASK_DEBUG (and do not pass "
            "--debug), or set CASEAPP_DEMO=1 for the local demo."
        )


def client_address() -> str | None:
    """The address of the client of the request being served: the socket's peer, or,
    behind PROXY_FIX_HOPS proxies, the one the nearest of them saw (ProxyFix); never a
    value the client itself put in X-Forwarded-For."""
    return request.remote_addr if has_request_context() else None


def init_app(app: Flask) -> None:
    check_production_settings(app)
    audit.set_origin_provider(client_address)
    app.extensions["caseapp.password_hasher"] = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST_KIB"],
        parallelism=app.config["ARGON2_PARALLELISM"],
        type=Type.ID,
    )

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", referrer_policy(request.endpoint))
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint and not request.endpoint.endswith("static"):
            headers.setdefault("Cache-Control", "no-store")
        return response


def touch_idle_clock() -> None:
    session[IDLE_KEY] = int(time.time())


def idle_too_long(timeout_minutes: int) -> bool:
    seen = session.get(IDLE_KEY)
    return seen is not None and time.time() - seen > timeout_minutes * 60


class SessionEnd(enum.StrEnum):
    """Why a staff session in a cookie no longer counts as signed in."""

    NO_SIGN_IN_TIME = "no_sign_in_time"  # signed in before sign-in times were kept
    LIFETIME = "lifetime"
    IDLE = "idle"


def start_staff_session() -> None:
    """Start both clocks at sign-in. The sign-in time lives in the signed cookie, so no
    one can move it, and activity never moves it."""
    now = int(time.time())
    session[SIGNED_IN_KEY] = now
    session[IDLE_KEY] = now


def staff_session_end(idle_minutes: int, max_hours: int) -> SessionEnd | None:
    """Why the staff session in this cookie has ended, or None while it holds."""
    started = session.get(SIGNED_IN_KEY)
    if type(started) is not int:
        return SessionEnd.NO_SIGN_IN_TIME
    # A time a little ahead (another host's clock) is ours all the same: it is signed.
    if time.time() - started > max_hours * 3600:
        return SessionEnd.LIFETIME
    if idle_too_long(idle_minutes):
        return SessionEnd.IDLE
    return None
