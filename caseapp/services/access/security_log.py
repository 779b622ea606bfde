"""Authentication and authorization events written to the audit log (issue 20): staff
sign-ins and sign-outs, every refused sign-in and password change, refused access to a
staff page or case, and a refused Open311 key.

Each event is one row of ``audit_log`` (entity ``security``), one INSERT: who (the
account the event concerns), when (``at``), the client's address and the reason, in
``after``. Never a password, never the text of a username that names no account (its
keyed digest instead: ``audit.typed_name_digest``), never a citizen's personal data.
"""

from __future__ import annotations

import enum
import hashlib

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import User
from caseapp.services.admin import audit
from caseapp.services.transactions import one_transaction

# The longest username an account may have (``accounts.create_user``): a longer name, or
# one holding NUL, is no account and is never looked up.
_LONGEST_USERNAME = 64


class SecurityEvent(enum.StrEnum):
    """The ``action`` of a security event."""

    SIGNED_IN = "signed_in"
    SIGNED_OUT = "signed_out"
    SIGN_IN_REFUSED = "sign_in_refused"
    PASSWORD_CHANGE_REFUSED = "password_change_refused"
    ACCESS_REFUSED = "access_refused"
    API_KEY_REFUSED = "api_key_refused"


class Refusal(enum.StrEnum):
    """Why a sign-in, a password change or an API key was refused (the audit log says
    it; the visitor is told the same whatever it is)."""

    UNKNOWN_ACCOUNT = "unknown_account"
    WRONG_PASSWORD = "wrong_password"
    INACTIVE_ACCOUNT = "inactive_account"
    # The account's failed attempts are used up (RATELIMIT_LOGIN_ACCOUNT).
    ACCOUNT_THROTTLED = "account_throttled"
    # The address's failed attempts are used up (RATELIMIT_LOGIN).
    ADDRESS_THROTTLED = "address_throttled"
    WRONG_CURRENT_PASSWORD = "wrong_current_password"
    NEW_PASSWORD_REFUSED = "new_password_refused"
    NO_KEY = "no_key"
    UNKNOWN_KEY = "unknown_key"


def account_named(typed: str) -> User | None:
    """The account whose username is exactly ``typed`` (trimmed), as sign-in finds it;
    None for anything no username can be (too long, NUL, not UTF-8), without asking the
    database."""
    name = typed.strip()
    if not name or len(name) > _LONGEST_USERNAME or "\x00" in name:
        return None
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no database takes it
        return None
    return db.session.scalar(sa.select(User).where(User.username == name))


def add_sign_in_refused(typed: str, reason: Refusal, account: User | None) -> None:
    """Add the row of a refused sign-in (the caller commits): the account the typed name
    names, or else the name's keyed digest."""
    detail: dict[str, object] = {"reason": reason.value}
    if account is None:
        detail["username_digest"] = audit.typed_name_digest(typed)
    audit.security_event(
        SecurityEvent.SIGN_IN_REFUSED,
        actor=account,
        subject=account.id if account is not None else None,
        detail=detail,
    )


@one_transaction
def record_sign_in_refused(typed: str, reason: Refusal) -> None:
    """Write a sign-in refused before the password was checked (a limit used up)."""
    add_sign_in_refused(typed, reason, account_named(typed))
    db.session.commit()


@one_transaction
def record_password_change_refused(user: User, reason: Refusal) -> None:
    """Write a refused change of one's own password (never either password)."""
    audit.security_event(
        SecurityEvent.PASSWORD_CHANGE_REFUSED,
        actor=user,
        subject=user.id,
        detail={"reason": reason.value},
    )
    db.session.commit()


@one_transaction
def record_access_refused(
    user_id: int, *, status: int, method: str, path: str, case_number: str | None
) -> None:
    """Write that a signed-in staff member was refused a page (403) or told it is not
    there (404: a case they may not see is answered as one that does not exist). The
    page is done: whatever it left uncommitted (a refusal half-way) is dropped first,
    never written with the event."""
    db.session.rollback()
    audit.security_event(
        SecurityEvent.ACCESS_REFUSED,
        actor=user_id,
        subject=case_number,
        detail={"status": status, "method": method, "path": path},
    )
    db.session.commit()


@one_transaction
def record_api_key_refused(given: str) -> None:
    """Write a refused Open311 filing key: none given, or none that is live. Of a wrong
    key only a short digest is kept (repeated tries of one key show as one)."""
    detail: dict[str, object] = {
        "reason": (Refusal.UNKNOWN_KEY if given else Refusal.NO_KEY).value,
    }
    if given:
        detail["key_digest"] = hashlib.sha256(given.encode("utf-8", "replace")).hexdigest()[:12]
    audit.security_event(SecurityEvent.API_KEY_REFUSED, detail=detail)
    db.session.commit()
