"""Translatable names of the changes in a ledger item's timeline (``LedgerItemEvent.action``);
the item's statuses are named in ``caseapp.labels``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# An action not named here is shown as it is stored.
ITEM_EVENT_LABELS = {
    "created": _l("Item created"),
    "created_from_case": _l("Item created for a legacy case"),
    "imported": _l("Imported"),
    "link_case": _l("Case linked"),
    "unlink_case": _l("Case unlinked"),
    "in_progress": _l("Work started"),
    "write_off": _l("Written off"),
    "undo_write_off": _l("Write-off undone: a case was reopened"),
    "reopen": _l("Reopened"),
    "update": _l("Item edited"),
}


def item_event_label(action: str) -> str:
    return str(ITEM_EVENT_LABELS.get(action, action))
