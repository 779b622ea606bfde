"""Staff accounts as administrators manage them: create, edit, deactivate, reactivate
and reset the password. No one ever chooses or sees another's password: the account
gets a random one-time password, returned once to be handed over, and only its argon2
hash is kept. Every change writes an audit row in the same transaction."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from caseapp.extensions import db
from caseapp.models import Case, Department, User, UserRole
from caseapp.models.enums import OPEN_STATUSES, Role
from caseapp.models.types import utcnow
from caseapp.services.access.accounts import hash_password
from caseapp.services.admin import audit
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.filing.validation import has_control_characters, normalise_email
from caseapp.services.messages import N_, Message

ENTITY = "user"
LANGUAGES = ("zh_CN", "en")
USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# No 0/o, 1/l/i: the password is read aloud or copied from a screen.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class AccountInput:
    """What the admin form says about an account (the username only counts at creation)."""

    display_name: str
    roles: frozenset[Role]
    department_id: int | None = None
    email: str | None = None
    language: str = "zh_CN"
    username: str = ""


def one_time_password() -> str:
    """A random password of 4 groups of 4 characters (about 79 bits)."""
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def list_users() -> Sequence[User]:
    """Every account, active ones first, by username."""
    return db.session.scalars(
        sa.select(User)
        .options(joinedload(User.department))
        .order_by(User.active.desc(), User.username)
    ).all()


def get_user(user_id: int) -> User:
    """The account, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def open_cases(user: User) -> Sequence[Case]:
    """The open cases this user handles, soonest deadline first (to reassign them)."""
    return db.session.scalars(
        sa.select(Case)
        .where(Case.handler_id == user.id, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.next_deadline_at.asc().nulls_last(), Case.id)
    ).all()


def _snapshot(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "department_code": user.department.code if user.department else None,
        "language": user.language,
        "roles": sorted(str(role) for role in user.roles),
        "active": user.active,
    }


def _checked(data: AccountInput, user: User | None) -> tuple[Department | None, str | None]:
    """The department and email the input names; ValidationFailed with every reason."""
    errors: dict[str, object] = {}
    name = (data.display_name or "").strip()
    if not name or len(name) > 120 or has_control_characters(name):
        errors["display_name"] = Message(
            N_("Enter a name of 1 to %(limit)s characters."), limit=120
        )
    if not data.roles:
        errors["roles"] = N_("Choose at least one role.")
    elif not data.roles <= set(Role):
        errors["roles"] = N_("Choose roles from the list.")
    department = None
    if data.department_id is not None:
        department = db.session.get(Department, data.department_id)
        keeps_own = user is not None and user.department_id == data.department_id
        if department is None or (department.retired_at is not None and not keeps_own):
            errors["department"] = N_("Choose a department from the list.")
    email = None
    if data.email and data.email.strip():
        email = normalise_email(data.email)
        if email is None or len(email) > 254:
            errors["email"] = N_("Enter a valid email address, or leave it empty.")
    if data.language not in LANGUAGES:
        errors["language"] = N_("Choose a language from the list.")
    if user is None:
        username = data.username.strip()
        if not USERNAME_RE.fullmatch(username):
            errors["username"] = N_(
                "Use 1 to 64 letters, digits, dots, dashes or underscores, "
                "starting with a letter or digit."
            )
        elif db.session.scalar(sa.select(User.id).where(User.username == username)):
            errors["username"] = Message(
                N_("The username %(username)s is taken."), username=username
            )
    if errors:
        raise ValidationFailed("the account was not saved", errors)
    return department, email


def create_account(
    actor: User, data: AccountInput, now: datetime | None = None
) -> tuple[User, str]:
    """Create an account with a one-time password, to be replaced at the first
    sign-in; returns it with the password, which is shown once and never stored in the
    clear."""
    with audit.audited(actor, ENTITY, "create", _snapshot, now) as change:
        department, email = _checked(data, None)
        password = one_time_password()
        user = User(
            username=data.username.strip(),
            password_hash=hash_password(password),
            display_name=data.display_name.strip(),
            email=email,
            department=department,
            language=data.language,
            session_token=secrets.token_hex(16),
            must_change_password=True,
            created_at=now or utcnow(),
            role_rows=[UserRole(role=role) for role in sorted(data.roles)],
        )
        db.session.add(user)
        change.track(user, new=True)
    return user, password


def _active(user: User) -> dict[str, object]:
    return {"active": user.active}


def _refuse_own_lockout(actor: User, user: User, roles: Iterable[Role] | None = None) -> None:
    if actor.id != user.id:
        return
    if roles is None:
        raise ValidationFailed("lockout", {"user": N_("You cannot deactivate your own account.")})
    if Role.ADMIN not in set(roles):
        raise ValidationFailed(
            "lockout", {"roles": N_("You cannot remove your own administrator role.")}
        )


def update_account(
    actor: User, user_id: int, data: AccountInput, now: datetime | None = None
) -> User:
    """Change an account's name, roles, department, email and language (not its username)."""
    with audit.audited(actor, ENTITY, "update", _snapshot, now) as change:
        user = get_user(user_id)
        department, email = _checked(data, user)
        _refuse_own_lockout(actor, user, data.roles)
        change.track(user)
        user.display_name = data.display_name.strip()
        user.email = email
        user.department = department
        user.language = data.language
        wanted = set(data.roles)
        user.role_rows = [row for row in user.role_rows if row.role in wanted] + [
            UserRole(role=role) for role in sorted(wanted - user.roles)
        ]
    return user


def deactivate_account(actor: User, user_id: int, now: datetime | None = None) -> User:
    """Stop an account: it cannot sign in, and its sessions end (a new session token)."""
    with audit.audited(actor, ENTITY, "deactivate", _active, now) as change:
        user = get_user(user_id)
        _refuse_own_lockout(actor, user)
        if not user.active:
            raise ValidationFailed("already", {"user": N_("The account is already deactivated.")})
        change.track(user)
        user.active = False
        user.session_token = secrets.token_hex(16)
    return user


def reactivate_account(actor: User, user_id: int, now: datetime | None = None) -> User:
    """Let a deactivated account sign in again (with the password it had)."""
    with audit.audited(actor, ENTITY, "reactivate", _active, now) as change:
        user = get_user(user_id)
        if user.active:
            raise ValidationFailed("already", {"user": N_("The account is already active.")})
        change.track(user)
        user.active = True
    return user


def reset_password(actor: User, user_id: int, now: datetime | None = None) -> tuple[User, str]:
    """Give an account a new one-time password (returned once), to be replaced at the
    next sign-in, and end its sessions."""
    with audit.audited(actor, ENTITY, "reset_password", _active, now) as change:
        user = get_user(user_id)
        password = one_time_password()
        change.track(user)
        # The audit row says that it happened, never what the password or its hash is.
        change.record_as(
            {"password": "…", "must_change_password": user.must_change_password},
            {"password": "(new)", "must_change_password": True},
        )
        user.password_hash = hash_password(password)
        user.must_change_password = True
        user.session_token = secrets.token_hex(16)
    return user, password
