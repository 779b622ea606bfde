"""Failed sign-ins counted per username, whatever address they come from.

Flask-Limiter's decorator counts per address; this counts in the same storage (so
several hosts share it through Redis) under a key made from the username. Unknown
usernames are counted like real ones, so the answer tells nothing about which exist.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from limits import RateLimitItem, parse

from caseapp.extensions import limiter

NAMESPACE = "login-account"


def _item() -> RateLimitItem:
    return parse(current_app.config["RATELIMIT_LOGIN_ACCOUNT"])


def _key(username: str) -> str:
    # Hashed: the key holds no text a visitor typed; lower-cased, so changing the case of
    # a name (which never signs in) gives no fresh attempts.
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"{current_app.config.get('RATELIMIT_KEY_PREFIX', '')}{NAMESPACE}:{digest}"


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def account_locked(username: str) -> bool:
    """True while this username has used up its failed attempts."""
    return _enabled() and not limiter.limiter.test(_item(), NAMESPACE, _key(username))


def record_failure(username: str) -> None:
    """Count one failed attempt against this username."""
    if _enabled():
        limiter.limiter.hit(_item(), NAMESPACE, _key(username))


def forget_failures(username: str) -> None:
    """A successful sign-in wipes the count of earlier failures."""
    if _enabled():
        limiter.limiter.clear(_item(), NAMESPACE, _key(username))
