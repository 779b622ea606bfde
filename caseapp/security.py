"""Passwords, security headers and the staff session's clocks: an idle timeout and an
absolute lifetime counted from the sign-in."""

from __future__ import annotations

import enum
import time

from argon2 import PasswordHasher, Type
from flask import Flask, Response, current_app, request, session


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


def init_app(app: Flask) -> None:
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
        # The private link carries a key; no page may leak its URL to another site.
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
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
