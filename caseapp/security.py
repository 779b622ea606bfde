"""Passwords, security headers and the staff session's idle timeout."""

from __future__ import annotations

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
