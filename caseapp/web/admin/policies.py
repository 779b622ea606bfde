"""Admin: deadline policies (DESIGN §4): the list, and one form to add or edit a policy
with a row per term and optional rows for one kind of case."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import FieldList, Form, FormField, IntegerField, SelectField, StringField
from wtforms.validators import Length, Optional

from caseapp.labels import CLOCK_LABELS, KIND_LABELS
from caseapp.models.enums import CaseKind, PolicyTerm, TimeUnit
from caseapp.services.admin import policies as admin_policies
from caseapp.services.admin.policies import PolicyFields, TermFields
from caseapp.services.errors import ValidationFailed
from caseapp.web.admin import bp
from caseapp.web.forms import apply_field_errors
from caseapp.web.parsing import int_range
from caseapp.web.public.forms import choice_list

TERM_LABELS: dict[str, Any] = {
    **CLOCK_LABELS,
    "extension_cap": _l("Extension cap"),
    "return_window": _l("Return window"),
    "review_window": _l("Review window"),
}
UNIT_LABELS: dict[str, Any] = {
    TimeUnit.WORKING_DAYS: _l("Working days"),
    TimeUnit.CALENDAR_DAYS: _l("Calendar days"),
    TimeUnit.HOURS: _l("Hours"),
}
EXTRA_ROWS = 4  # blank rows for values that apply to one kind of case
# What a new policy starts from: the typical values of DESIGN §4.
NEW_POLICY_TERMS = [
    TermFields("accept", unit="working_days", value=1, urgent_unit="hours", urgent_value=2),
    TermFields("sign", unit="working_days", value=1, urgent_unit="hours", urgent_value=2),
    TermFields("first_response", unit="working_days", value=1, urgent_unit="hours", urgent_value=2),
    TermFields("resolve", unit="working_days", value=5),
    TermFields("reply_window", unit="working_days", value=10),
    TermFields("feedback", unit="calendar_days", value=7),
    TermFields("extension_cap", unit="working_days", value=10),
    TermFields("return_window", unit="working_days", value=2),
    TermFields("review_window", unit="calendar_days", value=30),
]


def term_label(term: str) -> str:
    return str(TERM_LABELS.get(term, term))


def unit_label(unit: str) -> str:
    return str(UNIT_LABELS.get(unit, unit)) if unit else ""


TERM_RANGE = int_range(1, admin_policies.MAX_VALUE)
# 0 is an extension cap that allows none; the service refuses 0 for every other term.
VALUE_RANGE = int_range(0, admin_policies.MAX_VALUE)


class TermRowForm(Form):
    """One term: for all kinds of case (kind empty) or for one kind."""

    term = SelectField(_l("Term"), validate_choice=False)
    kind = SelectField(_l("For kind"), validate_choice=False)
    unit = SelectField(_l("Unit"), validate_choice=False)
    value = IntegerField(
        _l("Value"), validators=[Optional(), VALUE_RANGE], render_kw={"inputmode": "numeric"}
    )
    urgent_unit = SelectField(_l("Urgent unit"), validate_choice=False)
    urgent_value = IntegerField(
        _l("Urgent value"), validators=[Optional(), TERM_RANGE], render_kw={"inputmode": "numeric"}
    )


class PolicyForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[Length(max=40)],
        description=_l("Lower-case letters, digits and hyphens, e.g. quick-repair."),
    )
    name_zh = StringField(_l("Name (Chinese)"), validators=[Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=160)])
    terms = FieldList(FormField(TermRowForm), label=_l("Terms"))

    def fields(self) -> PolicyFields:
        return PolicyFields(
            code=self.code.data or "",
            name_zh=self.name_zh.data or "",
            name_en=self.name_en.data or "",
            terms=[
                TermFields(
                    term=row.term.data or "",
                    kind=row.kind.data or "",
                    unit=row.unit.data or "",
                    value=row.value.data,
                    urgent_unit=row.urgent_unit.data or "",
                    urgent_value=row.urgent_value.data,
                )
                for row in self.terms
            ],
        )


def _fill_choices(form: PolicyForm) -> None:
    terms = choice_list((t.value, TERM_LABELS[t.value]) for t in PolicyTerm)
    kinds = choice_list([("", _("All kinds")), *((k.value, KIND_LABELS[k]) for k in CaseKind)])
    units = choice_list((u.value, UNIT_LABELS[u]) for u in TimeUnit)
    urgent_units = choice_list(
        [("", _("Same unit")), *((u.value, UNIT_LABELS[u]) for u in TimeUnit)]
    )
    for row in form.terms:
        row.term.choices = terms
        row.kind.choices = kinds
        row.unit.choices = units
        row.urgent_unit.choices = urgent_units


def _form_data(code: str, name_zh: str, name_en: str, rows: list[TermFields]) -> dict[str, Any]:
    blank = {"term": "resolve", "kind": "", "unit": "working_days", "value": None,
             "urgent_unit": "", "urgent_value": None}  # fmt: skip
    return {
        "code": code,
        "name_zh": name_zh,
        "name_en": name_en,
        "terms": [vars(row) for row in rows] + [dict(blank) for _ in range(EXTRA_ROWS)],
    }


def _render(form: PolicyForm, policy: Any = None, status: int = 200) -> tuple[str, int]:
    _fill_choices(form)
    return render_template("admin/policies_form.html", form=form, policy=policy), status


@bp.route("/policies")
def policies() -> str:
    return render_template(
        "admin/policies.html",
        policies=admin_policies.list_policies(),
        in_use=admin_policies.categories_using,
        term_label=term_label,
        unit_label=unit_label,
        kind_labels=KIND_LABELS,
    )


@bp.route("/policies/new", methods=["GET", "POST"])
def new_policy() -> Response | tuple[str, int]:
    form = PolicyForm()
    if not form.is_submitted():
        form = PolicyForm(formdata=None, data=_form_data("", "", "", NEW_POLICY_TERMS))
        return _render(form)
    if form.validate():
        try:
            policy = admin_policies.create_policy(current_user, form.fields())
        except ValidationFailed as error:
            apply_field_errors(form, error)
        else:
            flash(_("The policy %(code)s was saved.", code=policy.code), "success")
            return redirect(url_for("admin.policies"))
    return _render(form, status=400)


@bp.route("/policies/<int:policy_id>", methods=["GET", "POST"])
def edit_policy(policy_id: int) -> Response | tuple[str, int]:
    policy = admin_policies.get_policy(policy_id)
    form = PolicyForm()
    if not form.is_submitted():
        data = _form_data(
            policy.code, policy.name_zh, policy.name_en, admin_policies.term_fields(policy)
        )
        return _render(PolicyForm(formdata=None, data=data), policy)
    form.code.data = policy.code  # the code names the policy and does not change
    if form.validate():
        try:
            admin_policies.update_policy(current_user, policy.id, form.fields())
        except ValidationFailed as error:
            apply_field_errors(form, error)
        else:
            flash(_("The policy %(code)s was saved.", code=policy.code), "success")
            return redirect(url_for("admin.policies"))
    return _render(form, policy, status=400)
