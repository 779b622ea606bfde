"""Admin: deadline policies (DESIGN §4) and the working-day calendar's overrides.

A case copies its policy's terms when it is filed (``Case.policy_terms``), so editing a
policy changes new cases only. Calendar overrides apply to deadlines computed after the
change; ``calendar_years.recompute_deadlines`` moves the running clocks of open cases on
request. Every change is written to the audit log in its own transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.models import CalendarOverride, Category, DeadlinePolicy, User
from caseapp.models.catalog import DeadlineTerm
from caseapp.models.enums import CalendarDayKind, CaseKind, PolicyTerm, TimeUnit
from caseapp.services.admin import audit
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.filing.validation import clean_text, has_control_characters
from caseapp.services.messages import N_

CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
MAX_VALUE = 999
DAY_UNITS = (TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS)
ALL_UNITS = (*DAY_UNITS, TimeUnit.HOURS)
# Which units each term may be counted in. Extensions are asked for in days, and the
# windows that bound a citizen's or a petitioner's time are days in law and practice.
UNITS_FOR_TERM: dict[PolicyTerm, tuple[TimeUnit, ...]] = {
    PolicyTerm.ACCEPT: ALL_UNITS,
    PolicyTerm.SIGN: ALL_UNITS,
    PolicyTerm.FIRST_RESPONSE: ALL_UNITS,
    PolicyTerm.RESOLVE: ALL_UNITS,
    PolicyTerm.REPLY_WINDOW: DAY_UNITS,
    PolicyTerm.FEEDBACK: DAY_UNITS,
    PolicyTerm.EXTENSION_CAP: DAY_UNITS,
    PolicyTerm.RETURN_WINDOW: ALL_UNITS,
    PolicyTerm.REVIEW_WINDOW: DAY_UNITS,
}
POLICY_FIELDS = ("code", "name_zh", "name_en", "retired_at")
OVERRIDE_FIELDS = ("day", "kind", "note")


# --- deadline policies --------------------------------------------------------------------


@dataclass(frozen=True)
class TermFields:
    """One row of a policy form: ``kind`` "" is the default for every kind of case."""

    term: str
    kind: str = ""
    unit: str = ""
    value: int | None = None
    urgent_unit: str = ""
    urgent_value: int | None = None


@dataclass(frozen=True)
class PolicyFields:
    code: str
    name_zh: str
    name_en: str
    terms: list[TermFields] = field(default_factory=list)


def list_policies() -> Sequence[DeadlinePolicy]:
    """Every policy, active ones first, with its terms."""
    return db.session.scalars(
        sa.select(DeadlinePolicy).order_by(
            DeadlinePolicy.retired_at.is_not(None), DeadlinePolicy.code
        )
    ).all()


def get_policy(policy_id: int) -> DeadlinePolicy:
    policy = db.session.get(DeadlinePolicy, policy_id)
    if policy is None:
        raise NotFound("no such policy")
    return policy


def categories_using(policy: DeadlinePolicy) -> int:
    """How many categories name the policy."""
    return (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Category).where(Category.policy_id == policy.id)
        )
        or 0
    )


def term_fields(policy: DeadlinePolicy) -> list[TermFields]:
    """The policy's rows as a form shows them: defaults first, in the order of the terms."""
    return [
        TermFields(
            term=t["term"],
            kind=t["kind"],
            unit=t["unit"],
            value=t["value"],
            urgent_unit=t["urgent_unit"],
            urgent_value=t["urgent_value"],
        )
        for t in _terms_json(policy.terms)
    ]


def policy_snapshot(policy: DeadlinePolicy) -> dict[str, Any]:
    """The policy's names and terms, as the audit log keeps them."""
    data = audit.snapshot(policy, POLICY_FIELDS)
    data["terms"] = _terms_json(policy.terms)
    return data


def _terms_json(rows: Sequence[DeadlineTerm]) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "term": str(row.term),
                "kind": str(row.kind) if row.kind else "",
                "unit": str(row.unit),
                "value": row.value,
                "urgent_unit": str(row.urgent_unit) if row.urgent_unit else "",
                "urgent_value": row.urgent_value,
            }
            for row in rows
        ),
        key=lambda t: (list(PolicyTerm).index(PolicyTerm(t["term"])), t["kind"]),
    )


@dataclass(frozen=True)
class _CleanTerm:
    term: PolicyTerm
    kind: CaseKind | None
    unit: TimeUnit
    value: int
    urgent_unit: TimeUnit | None
    urgent_value: int | None


def _check_value(value: int | None, required: bool, minimum: int = 1) -> str | None:
    if value is None:
        return N_("This field is required.") if required else None
    if value < minimum:
        return N_("Enter a whole number greater than zero.")
    if value > MAX_VALUE:
        return N_("Enter a number of at most 999.")
    return None


def _clean_terms(rows: Sequence[TermFields]) -> tuple[list[_CleanTerm], dict[int, dict[str, str]]]:
    """Check each row; rows with neither a unit nor a value are blank and skipped."""
    clean: list[_CleanTerm] = []
    errors: dict[int, dict[str, str]] = {}
    seen: set[tuple[PolicyTerm, CaseKind | None]] = set()
    for index, row in enumerate(rows):
        if row.value is None and row.urgent_value is None and not row.urgent_unit:
            continue  # a blank row
        reasons: dict[str, str] = {}
        term = _enum(PolicyTerm, row.term)
        kind = _enum(CaseKind, row.kind) if row.kind else None
        unit = _enum(TimeUnit, row.unit)
        urgent_unit = _enum(TimeUnit, row.urgent_unit) if row.urgent_unit else None
        if term is None:
            reasons["term"] = N_("Choose one of the options.")
        if row.kind and kind is None:
            reasons["kind"] = N_("Choose one of the options.")
        if unit is None:
            reasons["unit"] = N_("Choose one of the options.")
        elif term is not None and unit not in UNITS_FOR_TERM[term]:
            reasons["unit"] = N_("This term is counted in days only.")
        if row.urgent_unit and urgent_unit is None:
            reasons["urgent_unit"] = N_("Choose one of the options.")
        elif (
            urgent_unit is not None and term is not None and urgent_unit not in UNITS_FOR_TERM[term]
        ):
            reasons["urgent_unit"] = N_("This term is counted in days only.")
        # An extension cap of 0 allows no extension (petition reviews: the law gives none).
        minimum = 0 if term is PolicyTerm.EXTENSION_CAP else 1
        if (reason := _check_value(row.value, required=True, minimum=minimum)) is not None:
            reasons["value"] = reason
        if (reason := _check_value(row.urgent_value, required=False)) is not None:
            reasons["urgent_value"] = reason
        if urgent_unit is not None and row.urgent_value is None:
            reasons["urgent_value"] = N_("Give the urgent value with its unit.")
        if term is not None and (term, kind) in seen:
            reasons["kind"] = N_("This term is already set for this kind of case.")
        if reasons:
            errors[index] = reasons
            continue
        assert term is not None and unit is not None and row.value is not None
        seen.add((term, kind))
        clean.append(_CleanTerm(term, kind, unit, row.value, urgent_unit, row.urgent_value))
    return clean, errors


def _enum(enum_type: Any, value: str) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        return None


def _validate_policy(fields: PolicyFields, policy: DeadlinePolicy | None) -> list[_CleanTerm]:
    """The policy's terms, checked; ValidationFailed with the reasons by field."""
    errors: dict[str, Any] = {}
    if policy is None:
        code = fields.code.strip()
        if not code:
            errors["code"] = N_("This field is required.")
        elif len(code) > 40 or not CODE_RE.fullmatch(code):
            errors["code"] = N_("Use lower-case letters, digits and hyphens (at most 40).")
        elif db.session.scalar(sa.select(DeadlinePolicy.id).where(DeadlinePolicy.code == code)):
            errors["code"] = N_("This code is already taken.")
    for name, limit in (("name_zh", 120), ("name_en", 160)):
        text = clean_text(getattr(fields, name))
        if not text:
            errors[name] = N_("This field is required.")
        elif len(text) > limit or has_control_characters(text):
            errors[name] = N_("The text is too long or holds characters that are not allowed.")
    terms, row_errors = _clean_terms(fields.terms)
    if row_errors:
        errors["terms"] = row_errors
    else:
        missing = [t for t in PolicyTerm if not any(c.term is t and c.kind is None for c in terms)]
        if missing:
            errors["term_defaults"] = N_("Every term needs a value for all kinds of case.")
    if errors:
        raise ValidationFailed(N_("The policy was not saved."), errors)
    return terms


def _apply_terms(policy: DeadlinePolicy, terms: list[_CleanTerm]) -> None:
    """Update the policy's rows in place, keyed by (term, kind): a row deleted and
    inserted again in one flush would trip the unique constraint."""
    by_key = {(row.term, row.kind): row for row in policy.terms}
    wanted = {(t.term, t.kind) for t in terms}
    for key, row in list(by_key.items()):
        if key not in wanted:
            policy.terms.remove(row)
    db.session.flush()
    for t in terms:
        row = by_key.get((t.term, t.kind))
        if row is None:
            row = DeadlineTerm(term=t.term, kind=t.kind)
            policy.terms.append(row)
        row.unit = t.unit
        row.value = t.value
        row.urgent_unit = t.urgent_unit
        row.urgent_value = t.urgent_value


def create_policy(actor: User, fields: PolicyFields, now: datetime | None = None) -> DeadlinePolicy:
    """Add a policy; it needs a value of every term for all kinds of case."""
    with audit.audited(actor, "deadline_policy", "create", policy_snapshot, now) as change:
        terms = _validate_policy(fields, None)
        policy = DeadlinePolicy(
            code=fields.code.strip(),
            name_zh=clean_text(fields.name_zh),
            name_en=clean_text(fields.name_en),
            terms=[],
        )
        db.session.add(policy)
        change.track(policy, new=True)
        _apply_terms(policy, terms)
    return policy


def update_policy(
    actor: User, policy_id: int, fields: PolicyFields, now: datetime | None = None
) -> DeadlinePolicy:
    """Change a policy's names and terms. Cases filed before keep the terms they copied."""
    with audit.audited(actor, "deadline_policy", "update", policy_snapshot, now) as change:
        policy = get_policy(policy_id)
        terms = _validate_policy(fields, policy)
        change.track(policy)
        policy.name_zh = clean_text(fields.name_zh)
        policy.name_en = clean_text(fields.name_en)
        _apply_terms(policy, terms)
    return policy


# --- calendar overrides -------------------------------------------------------------------


def overrides_for_year(year: int) -> Sequence[CalendarOverride]:
    """The overrides of one year, by date."""
    return db.session.scalars(
        sa.select(CalendarOverride)
        .where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
        .order_by(CalendarOverride.day)
    ).all()


def override_years() -> list[int]:
    """The years that have overrides."""
    days = db.session.scalars(sa.select(CalendarOverride.day)).all()
    return sorted({day.year for day in days})


def add_override(
    actor: User,
    day: date | None,
    kind: str,
    note: str = "",
    now: datetime | None = None,
) -> CalendarOverride:
    """Declare ``day`` a holiday or a working day (调休); one override per date."""
    errors: dict[str, str] = {}
    note = clean_text(note)
    day_kind = _enum(CalendarDayKind, kind or "")
    if day is None:
        errors["day"] = N_("Enter a date as YYYY-MM-DD.")
    elif not 1990 <= day.year <= 2199:
        errors["day"] = N_("Enter a date between 1990 and 2199.")
    elif (
        existing := db.session.scalar(
            sa.select(CalendarOverride).where(CalendarOverride.day == day)
        )
    ) is not None:
        errors["day"] = (
            N_("This date comes from the imported official schedule.")
            if existing.calendar_year is not None
            else N_("This date already has an override; remove it first.")
        )
    if day_kind is None:
        errors["kind"] = N_("Choose one of the options.")
    if len(note) > 200 or has_control_characters(note):
        errors["note"] = N_("The text is too long or holds characters that are not allowed.")
    if errors:
        raise ValidationFailed(N_("The date was not saved."), errors)
    assert day is not None
    with audit.audited(actor, "calendar_override", "create", _override_snapshot, now) as change:
        row = CalendarOverride(day=day, kind=day_kind, note=note, created_by_id=actor.id)
        db.session.add(row)
        change.track(row, new=True)
    return row


def remove_override(actor: User, override_id: int, now: datetime | None = None) -> date:
    """Remove an override; the package's calendar (or Monday–Friday) applies again."""
    with audit.audited(actor, "calendar_override", "delete", _override_snapshot, now) as change:
        row = db.session.get(CalendarOverride, override_id)
        if row is None:
            raise NotFound("no such date")
        if row.calendar_year is not None:
            # A year counts as covered only with all of its official schedule.
            raise ValidationFailed(
                N_("This date comes from the imported official schedule; import a corrected "
                   "schedule to change it."),
                {"day": N_("This date comes from the imported official schedule.")},
            )  # fmt: skip
        change.track(row)
        change.record_as(change.before, None)
        day = row.day
        db.session.delete(row)
    return day


def _override_snapshot(row: CalendarOverride) -> dict[str, Any]:
    return audit.snapshot(row, OVERRIDE_FIELDS)
