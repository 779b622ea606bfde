"""ledgers"""

from __future__ import annotations

from caseapp.web.supervisor import bp  # noqa: F401
