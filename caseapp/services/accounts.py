"""Staff accounts: creating them and signing in."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError

from caseapp.extensions import db
from caseapp.models import Department, User, UserRole
from caseapp.models.enums import Role
from caseapp.models.types import utcnow
from caseapp.security import password_hasher
from caseapp.services.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """argon2id hash of a password, with the app's parameters."""
    return password_hasher().hash(password)


def create_user(
    username: str,
    password: str,
    display_name: str,
    roles: Iterable[Role],
    department_code: str | None = None,
    email: str | None = None,
) -> User:
    """Create a staff account; refuses a taken username, a short password, no role."""
    username = username.strip()
    errors: dict[str, str] = {}
    if not username or len(username) > 64:
        errors["username"] = "username must be 1–64 characters"
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors["username"] = f"username {username!r} is taken"
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    role_set = set(roles)
    if not role_set:
        errors["roles"] = "at least one role is required"
    department = None
    if department_code:
        department = db.session.scalar(
            sa.select(Department).where(Department.code == department_code)
        )
        if department is None:
            errors["department"] = f"no department with code {department_code!r}"
    if errors:
        raise ValidationFailed("the account was not created", errors)
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=display_name or username,
        email=email or None,
        department=department,
        session_token=secrets.token_hex(16),
        role_rows=[UserRole(role=role) for role in sorted(role_set)],
    )
    db.session.add(user)
    db.session.commit()
    return user


# Verified against when the username is unknown, so both answers take the same time.
_UNKNOWN_USER_HASH: dict[str, str] = {}


def _dummy_hash() -> str:
    hasher = password_hasher()
    key = f"{hasher.time_cost}:{hasher.memory_cost}:{hasher.parallelism}"
    if key not in _UNKNOWN_USER_HASH:
        _UNKNOWN_USER_HASH[key] = hasher.hash(secrets.token_hex(16))
    return _UNKNOWN_USER_HASH[key]


def authenticate(username: str, password: str, now: datetime | None = None) -> User | None:
    """The active user with this username and password, or None — one answer for all
    failures (unknown user, wrong password, deactivated account)."""
    hasher = password_hasher()
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    if user is None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(_dummy_hash(), password)
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = now or utcnow()
    db.session.commit()
    return user


def load_session_user(session_id: str) -> User | None:
    """The user a session cookie names, if the account is active and its token current."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user
