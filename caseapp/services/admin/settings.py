"""Settings an admin changes at run time: the scorecard weights (DESIGN §6)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal, InvalidOperation

from caseapp.extensions import db
from caseapp.models import Setting, User
from caseapp.models.types import utcnow
from caseapp.reports.scorecards import WEIGHTS_SETTING, Weights, weights
from caseapp.services.admin import audit
from caseapp.services.errors import ValidationFailed
from caseapp.services.messages import N_

WEIGHT_NAMES = ("response", "resolution", "satisfaction")


def scorecard_weights() -> Weights:
    """The weights the scorecards use now (the defaults until an admin sets them)."""
    return weights()


def _whole_percent(value: object) -> int | None:
    """``value`` as a whole number 0–100, or None."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value() or not 0 <= number <= 100:
        return None
    return int(number)


def save_scorecard_weights(
    values: dict[str, object], actor: User | None, now: datetime | None = None
) -> Weights:
    """Set the composite score's weights: whole percents 0–100 that add up to 100, so
    the score reads as a share of the rates (a weight of 0 leaves a rate out)."""
    errors: dict[str, str] = {}
    chosen: dict[str, int] = {}
    for name in WEIGHT_NAMES:
        percent = _whole_percent(values.get(name))
        if percent is None:
            errors[name] = N_("Enter a whole number from 0 to 100.")
        else:
            chosen[name] = percent
    if not errors and sum(chosen.values()) != 100:
        errors["total"] = N_("The three weights must add up to 100.")
    if errors:
        raise ValidationFailed("the weights were not saved", errors)
    now = now or utcnow()
    with audit.audited(actor, "setting", "update", _weights_of, now) as change:
        before = asdict(weights())
        row = db.session.get(Setting, WEIGHTS_SETTING)
        if row is None:
            row = Setting(key=WEIGHTS_SETTING, value=chosen, updated_at=now)
            db.session.add(row)
        change.track(row, new=True)
        change.record_as(before, chosen)
        row.value = chosen
        row.updated_at = now
    return Weights(**chosen)


def _weights_of(row: Setting) -> dict[str, int]:
    return dict(row.value)
