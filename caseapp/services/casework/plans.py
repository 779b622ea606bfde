"""The dated steps of a plan (一案一策) as a form gives them, and the check they pass:
the same for a case's plan and for a ledger item's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from caseapp.services.errors import ValidationFailed
from caseapp.services.filing.validation import clean_text, has_control_characters
from caseapp.services.messages import N_

MAX_MILESTONES = 10
MILESTONE_TEXT_MAX = 200


@dataclass(frozen=True)
class Milestone:
    """A dated step of a plan as a form gives it. A row with neither a date nor a text
    is left out; one with only one of them is refused."""

    due_on: date | None
    text: str
    done: bool = False


def checked_milestones(rows: Sequence[Milestone]) -> list[Milestone]:
    """The rows that are milestones, cleaned; every reason a row is refused, by its index
    among ``rows`` and field: ``{"milestones": {index: {field: reason}}}``."""
    kept: list[Milestone] = []
    errors: dict[int, dict[str, str]] = {}
    for index, row in enumerate(rows):
        text = clean_text(row.text)
        if row.due_on is None and not text:
            continue
        reasons: dict[str, str] = {}
        if row.due_on is None:
            reasons["due_on"] = N_("This field is required.")
        if not text:
            reasons["text"] = N_("This field is required.")
        elif len(text) > MILESTONE_TEXT_MAX:
            reasons["text"] = N_("At most 200 characters.")
        elif has_control_characters(text) or "\n" in text:
            reasons["text"] = N_("Contains characters that are not allowed.")
        if reasons:
            errors[index] = reasons
        else:
            kept.append(Milestone(row.due_on, text, bool(row.done)))
    if errors:
        raise ValidationFailed("a milestone is incomplete", {"milestones": errors})
    if len(kept) > MAX_MILESTONES:
        raise ValidationFailed("too many milestones", {"milestones": N_("At most 10 milestones.")})
    return kept
