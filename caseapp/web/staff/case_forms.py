"""The forms of the staff case page: one per action, each carrying the case version it
was shown, so an action on a changed case is refused (409) with the typed text kept."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from caseapp.labels import DECISION_LABELS
from caseapp.models import Case
from caseapp.models.enums import Satisfaction
from caseapp.services.casework.plans import MAX_MILESTONES
from caseapp.web.forms import MultiCheckboxField
from caseapp.web.parsing import date_range, id_choice, optional_choice
from caseapp.web.public.forms import REQUIRED, choice_list

TEXT = [DataRequired(REQUIRED), Length(max=4000)]


class ActionForm(FlaskForm):
    version = HiddenField()


class DispatchForm(ActionForm):
    department = SelectField(
        _l("Lead department"),
        validators=[InputRequired(REQUIRED), id_choice],
        validate_choice=False,
    )
    assisting = MultiCheckboxField(
        _l("Assisting departments"), validate_choice=False, validators=[id_choice]
    )
    handler = SelectField(
        _l("Handler (optional)"), validate_choice=False, validators=[Optional(), id_choice]
    )


class ForwardForm(ActionForm):
    department = SelectField(
        _l("Child department"),
        validators=[InputRequired(REQUIRED), id_choice],
        validate_choice=False,
    )


class DepartmentReasonForm(ActionForm):
    department = SelectField(
        _l("Department"), validators=[InputRequired(REQUIRED), id_choice], validate_choice=False
    )
    reason = TextAreaField(
        _l("Reason"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 2}
    )


class TextForm(ActionForm):
    text = TextAreaField(_l("Text"), validators=TEXT, render_kw={"rows": 4})


class PublicTextForm(ActionForm):
    text = TextAreaField(_l("Text the citizen will see"), validators=TEXT, render_kw={"rows": 5})
    confirm_public = BooleanField(
        _l("I have checked this text: it goes to the citizen and cannot be changed later."),
        validators=[DataRequired(_l("Please confirm the public text."))],
    )


class RejectForm(PublicTextForm):
    belongs_to = SelectField(
        _l("For petitions: where it belongs"),
        choices=choice_list(
            [
                ("", "—"),
                ("court", _l("People's court")),
                ("arbitration", _l("Arbitration")),
                ("administrative_review", _l("Administrative review")),
                ("discipline_inspection", _l("Discipline inspection")),
            ]
        ),
        validators=[optional_choice()],
    )


class ResolveForm(PublicTextForm):
    attachments = MultipleFileField(
        _l("Photos for the citizen (optional)"),
        description=_l("Up to 5 files: JPEG, PNG or PDF, at most 10 MB each."),
        render_kw={"accept": "image/jpeg,image/png,application/pdf"},
    )
    decision = SelectField(
        _l("Written decision (petitions)"),
        choices=choice_list(
            [("", "—"), *((decision.value, label) for decision, label in DECISION_LABELS.items())]
        ),
        validators=[optional_choice()],
    )


class ComposerForm(ActionForm):
    """The page's one text box (DESIGN §3): each of its buttons posts the text to its own
    action (a public reply, an internal note, a question, the answer that resolves the
    case, a direct answer at intake), where that action's form reads it. This class only
    draws the box; the fields are named as the actions' forms name them."""

    text = TextAreaField(_l("Message"), validators=TEXT, render_kw={"rows": 6})
    attachments = ResolveForm.attachments
    decision = ResolveForm.decision
    confirm_public = PublicTextForm.confirm_public


class NoteForm(ActionForm):
    text = TextAreaField(_l("Note"), validators=TEXT, render_kw={"rows": 3})
    public = BooleanField(_l("Public reply: the citizen sees it"))
    confirm_public = BooleanField(
        _l("I have checked this text: it goes to the citizen and cannot be changed later.")
    )


class SignForm(ActionForm):
    handler = SelectField(_l("Handler"), validate_choice=False, validators=[Optional(), id_choice])


class ContactForm(ActionForm):
    method = RadioField(
        _l("How"),
        choices=choice_list(
            [("call", _l("Phone call")), ("sms", _l("SMS")), ("visit", _l("Visit"))]
        ),
        default="call",
        validators=[InputRequired(REQUIRED)],
    )
    text = TextAreaField(
        _l("Note"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 2}
    )


class ExtensionForm(ActionForm):
    days = IntegerField(
        _l("Days"), validators=[InputRequired(REQUIRED), NumberRange(min=1, max=60)]
    )
    reason = TextAreaField(_l("Reason"), validators=TEXT, render_kw={"rows": 2})


class DecisionForm(ActionForm):
    approve = RadioField(
        _l("Decision"),
        choices=choice_list([("yes", _l("Approve")), ("no", _l("Deny"))]),
        validators=[InputRequired(REQUIRED)],
    )
    note = TextAreaField(
        _l("Note"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 2}
    )


class FollowUpRatingForm(ActionForm):
    solved = RadioField(
        _l("Solved?"), choices=choice_list([("yes", _l("Yes")), ("no", _l("No"))]),
        validators=[InputRequired(REQUIRED)],
    )  # fmt: skip
    satisfaction = RadioField(
        _l("Satisfaction"),
        choices=choice_list(
            [
                (Satisfaction.SATISFIED.value, _l("Satisfied")),
                (Satisfaction.BASICALLY_SATISFIED.value, _l("Basically satisfied")),
                (Satisfaction.UNSATISFIED.value, _l("Unsatisfied")),
            ]
        ),
        validators=[InputRequired(REQUIRED)],
    )
    text = TextAreaField(
        _l("Note of the follow-up call"), validators=[Optional(), Length(max=1000)]
    )


class MergeForm(ActionForm):
    into = StringField(
        _l("Case number it repeats"), validators=[DataRequired(REQUIRED), Length(max=32)]
    )


class LeaderForm(ActionForm):
    leader = SelectField(
        _l("Responsible leader"),
        validators=[InputRequired(REQUIRED), id_choice],
        validate_choice=False,
    )


class MilestoneRowForm(FlaskForm):
    """One row of the case plan's milestones; a blank row is left out by the service,
    which also refuses a row with a date and no text or the other way round."""

    class Meta:
        csrf = False  # part of the plan form, which carries the token

    due_on = DateField(_l("Due date"), validators=[Optional(), date_range()])
    text = StringField(_l("What is to be done"), render_kw={"maxlength": 200})
    done = BooleanField(_l("Done"))


# Rows shown: the plan's milestones and at least one blank row, 5 rows at least.
PLAN_ROWS_MIN = 5


class CasePlanForm(ActionForm):
    plan = TextAreaField(_l("Case plan"), validators=TEXT, render_kw={"rows": 4})
    milestones = FieldList(
        FormField(MilestoneRowForm),
        label=_l("Milestones"),
        min_entries=PLAN_ROWS_MIN,
        max_entries=MAX_MILESTONES,
    )


def case_plan_data(case: Case) -> dict[str, Any]:
    """The plan form's fields filled with the case's plan and milestones, and blank rows
    for new ones."""
    rows: list[dict[str, Any]] = [
        {"due_on": m.due_on, "text": m.text, "done": m.done_on is not None} for m in case.milestones
    ]
    blank = max(PLAN_ROWS_MIN - len(rows), 1 if len(rows) < MAX_MILESTONES else 0)
    return {"plan": case.case_plan, "milestones": rows + [{}] * blank}


class LedgerItemLinkForm(ActionForm):
    item = StringField(
        _l("Ledger item"),
        validators=[DataRequired(REQUIRED), Length(max=100)],
        description=_l("Its code (e.g. SS2021-0001), its number (e.g. #12) or words of its title."),
    )


class LegacyForm(ActionForm):
    """Mark the case legacy: the same matter as an item already in the legacy ledger
    (the items that may be are offered), or a new item of a category, with a target."""

    item = RadioField(
        _l("Is it an item already in the ledger?"),
        validate_choice=False,
        validators=[Optional(), id_choice],
        default="",
    )
    category = SelectField(
        _l("Category in the legacy-issue ledger"),
        validate_choice=False,
        validators=[Optional(), id_choice],
    )
    target_date = DateField(
        _l("Target date (optional)"),
        validators=[Optional(), date_range()],
        description=_l("When the matter should be settled and written off."),
    )

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        # A new item takes its place among the ledger's categories, when it has some.
        if not self.item.data and not self.category.data and len(self.category.choices or []) > 1:
            self.category.errors = [_l("Choose a category, or an item already in the ledger.")]
            return False
        return True


class EmptyForm(ActionForm):
    """Actions that need nothing but a confirmation (sign for self, reveal, mark legacy)."""
