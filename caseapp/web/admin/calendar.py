"""Admin: calendar."""

from __future__ import annotations

from caseapp.web.admin import bp  # noqa: F401
