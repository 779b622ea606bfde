"""Staff accounts: creating them, signing in and out, and choosing one's own password."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError

from caseapp.extensions import db
from caseapp.models import Department, User, UserRole
from caseapp.models.enums import Role
from caseapp.models.types import utcnow
from caseapp.security import password_hasher
from caseapp.services.access import security_log
from caseapp.services.access.common_passwords import is_common
from caseapp.services.access.security_log import Refusal, SecurityEvent
from caseapp.services.admin import audit
from caseapp.services.errors import ValidationFailed
from caseapp.services.messages import N_, Message
from caseapp.services.transactions import one_transaction

MIN_PASSWORD_LENGTH = 10
# A username this short is only refused as the whole password, not inside one.
_SHORTEST_USERNAME_CHECKED_INSIDE = 3


def hash_password(password: str) -> str:
    """argon2id hash of a password, with the app's parameters."""
    return password_hasher().hash(password)


@one_transaction
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


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the user, or why not (for the audit log only: the
    visitor is told the same whatever the reason)."""

    user: User | None
    refusal: Refusal | None = None


@one_transaction
def sign_in(username: str, password: str, now: datetime | None = None) -> SignIn:
    """Check a username and password. The active account they name signs in (its
    last sign-in time kept); any failure (unknown user, wrong password, deactivated
    account) takes the same time and is written to the audit log with its reason."""
    hasher = password_hasher()
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    refusal = None
    if user is None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(_dummy_hash(), password)
        refusal = Refusal.UNKNOWN_ACCOUNT
    elif not _verifies(user, password):
        refusal = Refusal.WRONG_PASSWORD
    elif not user.active:
        refusal = Refusal.INACTIVE_ACCOUNT
    if refusal is not None:
        security_log.add_sign_in_refused(username, refusal, user)
        db.session.commit()
        return SignIn(None, refusal)
    assert user is not None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = now or utcnow()
    # Every sign-in is logged; only refusals go to the audit table too (a row per staff
    # sign-in would bury the admins' changes there).
    audit.log_security_event(SecurityEvent.SIGNED_IN, actor=user, subject=user.id)
    db.session.commit()
    return SignIn(user)


def authenticate(username: str, password: str, now: datetime | None = None) -> User | None:
    """The active user with this username and password, or None — one answer for all
    failures (unknown user, wrong password, deactivated account). See ``sign_in``."""
    return sign_in(username, password, now).user


def load_session_user(session_id: str) -> User | None:
    """The user a session cookie names, if the account is active and its token current."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def new_session_token() -> str:
    """A fresh random session token; every cookie made with the old one stops working."""
    return secrets.token_hex(16)


@one_transaction
def end_sessions(user: User) -> None:
    """Sign every session of this account out (at sign-out: a cookie copied before it
    must not open a page after it), and log the sign-out."""
    user.session_token = new_session_token()
    audit.log_security_event(SecurityEvent.SIGNED_OUT, actor=user, subject=user.id)
    db.session.commit()


def password_problem(password: str, username: str) -> Message | str | None:
    """Why ``password`` may not be chosen by ``username``, or None. One reason, the
    first that applies: too short, the username, a common password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return Message(
            N_("The new password must have at least %(count)s characters."),
            count=MIN_PASSWORD_LENGTH,
        )
    lowered, name = password.lower(), username.strip().lower()
    if name and (
        lowered == name or (len(name) >= _SHORTEST_USERNAME_CHECKED_INSIDE and name in lowered)
    ):
        return N_("The new password must not be your username or contain it.")
    if is_common(password):
        return N_(
            "This password is on a list of commonly used passwords (perhaps with digits "
            "or symbols added). Choose one that is harder to guess."
        )
    return None


def _verifies(user: User, password: str) -> bool:
    try:
        return password_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@one_transaction
def change_own_password(
    user: User, current_password: str, new_password: str, now: datetime | None = None
) -> User:
    """A staff member sets their own password: the current one must be right and the new
    one acceptable and different. Ends every other session (a new session token), clears
    the demand to change an issued password, and writes an audit row without either
    password. ValidationFailed names the field and the reason."""
    if not _verifies(user, current_password):
        security_log.record_password_change_refused(user, Refusal.WRONG_CURRENT_PASSWORD)
        raise ValidationFailed(
            "the current password is not right",
            {"current_password": N_("The current password is not right.")},
        )
    problem = password_problem(new_password, user.username)
    if problem is None and secrets.compare_digest(new_password.encode(), current_password.encode()):
        problem = N_("The new password must differ from the current one.")
    if problem is not None:
        security_log.record_password_change_refused(user, Refusal.NEW_PASSWORD_REFUSED)
        raise ValidationFailed("the new password was refused", {"new_password": problem})
    forced = user.must_change_password
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.session_token = new_session_token()
    audit.record(
        user,
        "user",
        user.id,
        "forced_password_change" if forced else "change_password",
        {"password": "…", "must_change_password": forced},
        {"password": "(new)", "must_change_password": False},
        now=now,
    )
    db.session.commit()
    return user
