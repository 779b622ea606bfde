"""Forms of the ledger item pages. Field names match the ledger services' field errors;
the milestone rows are the case plan's."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from caseapp.models import LedgerItem
from caseapp.services.casework.plans import MAX_MILESTONES, Milestone
from caseapp.services.ledgers.items import ItemFields
from caseapp.web.parsing import date_range, id_choice, parse_id
from caseapp.web.public.forms import REQUIRED
from caseapp.web.staff.case_forms import PLAN_ROWS_MIN, MilestoneRowForm


class LedgerItemForm(FlaskForm):
    """An item's fields and its plan (一案一策). ``seen`` carries when the item last
    changed as the editor saw it, so an edit over someone else's change is refused."""

    seen = HiddenField()
    title = StringField(
        _l("Title"),
        validators=[DataRequired(REQUIRED), Length(max=300)],
        render_kw={"maxlength": 300},
    )
    category_id = SelectField(
        _l("Category"), validate_choice=False, validators=[Optional(), id_choice]
    )
    owner_department_id = SelectField(
        _l("Owner department"), validate_choice=False, validators=[Optional(), id_choice]
    )
    responsible_leader_id = SelectField(
        _l("Responsible leader"), validate_choice=False, validators=[Optional(), id_choice]
    )
    target_date = DateField(
        _l("Target date"),
        validators=[Optional(), date_range()],
        description=_l("The item is late after this day until it is written off."),
    )
    plan_text = TextAreaField(
        _l("Case plan"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 4}
    )
    milestones = FieldList(
        FormField(MilestoneRowForm),
        label=_l("Milestones"),
        min_entries=PLAN_ROWS_MIN,
        max_entries=MAX_MILESTONES,
    )

    def fields(self) -> ItemFields:
        """The item as the form gives it, for the service to check."""
        return ItemFields(
            title=self.title.data or "",
            category_id=parse_id(self.category_id.data),
            owner_department_id=parse_id(self.owner_department_id.data),
            responsible_leader_id=parse_id(self.responsible_leader_id.data),
            target_date=self.target_date.data,
            plan_text=self.plan_text.data or "",
            milestones=[
                Milestone(row.due_on.data, row.text.data or "", bool(row.done.data))
                for row in self.milestones
            ],
        )


class NewLedgerItemForm(LedgerItemForm):
    code = StringField(
        _l("Code (optional)"),
        validators=[Optional(), Length(max=40)],
        description=_l("The number the ledger gives it, e.g. SS2021-0001."),
    )


def item_form_data(item: LedgerItem) -> dict[str, Any]:
    """The edit form's fields filled from the item, with blank rows for new milestones."""
    rows: list[dict[str, Any]] = [
        {"due_on": m.due_date, "text": m.title, "done": m.done_at is not None}
        for m in item.milestones
    ]
    blank = max(PLAN_ROWS_MIN - len(rows), 1 if len(rows) < MAX_MILESTONES else 0)
    return {
        "seen": item.updated_at.isoformat(),
        "title": item.title,
        "category_id": str(item.category_id or ""),
        "owner_department_id": str(item.owner_department_id or ""),
        "responsible_leader_id": str(item.responsible_leader_id or ""),
        "target_date": item.target_date,
        "plan_text": item.plan_text,
        "milestones": rows + [{}] * blank,
    }


class NoteForm(FlaskForm):
    """Write off or reopen an item, or unlink a case: the note saying why is required."""

    note = TextAreaField(
        _l("Note"), validators=[DataRequired(REQUIRED), Length(max=4000)], render_kw={"rows": 3}
    )
