"""Domain errors. The web layer maps them to 400/403/404/409; services never raise HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of the errors a service raises on purpose."""

    def __init__(
        self,
        message: str = "",
        field_errors: dict[str, Any] | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        # Reasons tied to a form field, so a view can show them beside it.
        self.field_errors = field_errors or {}
        # A sentence for the user (an English msgid the web layer translates).
        self.reason = reason


class ValidationFailed(DomainError):
    """The input breaks a rule (HTTP 400)."""


class NotAllowed(DomainError):
    """The actor may not do this (HTTP 403)."""


class NotFound(DomainError):
    """No such thing, or not one the actor may see (HTTP 404)."""


class StaleVersion(DomainError):
    """The case changed since the actor looked at it (HTTP 409)."""
