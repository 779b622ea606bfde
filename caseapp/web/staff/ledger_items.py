"""Department view of ledger items."""

from __future__ import annotations

from caseapp.web.staff import bp  # noqa: F401
