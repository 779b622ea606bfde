"""Forms of the public face. Field names match the service's field errors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    Field,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from caseapp.labels import KIND_LABELS
from caseapp.models import Category
from caseapp.models.enums import CaseKind, NotifyBy, QuestionType, Satisfaction
from caseapp.services.filing.validation import has_control_characters, normalise_phone
from caseapp.web.parsing import id_choice, optional_choice

REQUIRED = _l("This field is required.")


# What a citizen may file on the web (all kinds).
def choice_list(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


KIND_CHOICES = choice_list((k.value, KIND_LABELS[k]) for k in CaseKind)
NOTIFY_CHOICES = choice_list(
    [
        (NotifyBy.SMS.value, _l("By SMS")),
        (NotifyBy.EMAIL.value, _l("By email")),
        (NotifyBy.NONE.value, _l("Do not notify me")),
    ]
)


def no_control_characters(form: FlaskForm, field: Field) -> None:
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise ValidationError(_l("Contains characters that are not allowed."))


def chinese_mobile(form: FlaskForm, field: Field) -> None:
    """Checked here too, so every mistake shows at once (the service checks again)."""
    if field.data and normalise_phone(field.data, mobile_only=True) is None:
        raise ValidationError(_l("Not a valid Chinese mobile number (11 digits, starting with 1)."))


def attachments_field() -> MultipleFileField:
    """Photos or documents sent with a form; checked as a filing's are."""
    return MultipleFileField(
        _l("Photos or documents (optional)"),
        description=_l("Up to 5 files: JPEG, PNG or PDF, at most 10 MB each."),
        render_kw={"accept": "image/jpeg,image/png,application/pdf"},
    )


class RequestForm(FlaskForm):
    """The public request form; ``request_form_for`` adds the category's own questions."""

    kind = RadioField(_l("What kind of request is it?"), choices=KIND_CHOICES, default="help",
                      validators=[InputRequired(REQUIRED)])  # fmt: skip
    title = StringField(
        _l("Title"),
        validators=[DataRequired(REQUIRED), Length(max=200), no_control_characters],
        description=_l("One line, e.g. “The bus stop at the village entrance was removed”."),
    )
    description = TextAreaField(
        _l("What happened, and what would you like done?"),
        validators=[DataRequired(REQUIRED), Length(max=4000), no_control_characters],
        description=_l("Plain text, at most 4,000 characters."),
        render_kw={"rows": 7, "maxlength": 4000},
    )
    district = SelectField(
        _l("District"), choices=[], validators=[Optional(), id_choice], validate_choice=False
    )
    public_location = StringField(
        _l("Road or street"),
        validators=[Optional(), Length(max=120), no_control_characters],
        description=_l("e.g. Shenghui Road. Shown publicly without your house number."),
    )
    address = StringField(
        _l("Exact address or place"),
        validators=[Optional(), Length(max=300), no_control_characters],
        description=_l("Only staff see this."),
    )
    latitude = DecimalField(_l("Latitude (optional)"), places=None, validators=[Optional()],
                            render_kw={"inputmode": "decimal"})  # fmt: skip
    longitude = DecimalField(_l("Longitude (optional)"), places=None, validators=[Optional()],
                             render_kw={"inputmode": "decimal"})  # fmt: skip
    anonymous = BooleanField(_l("File anonymously"))
    citizen_name = StringField(
        _l("Your name"),
        validators=[Length(max=80), no_control_characters],
        render_kw={"autocomplete": "name"},
    )
    citizen_phone = StringField(
        _l("Mobile phone"),
        validators=[Length(max=32), chinese_mobile],
        description=_l("A Chinese mobile number. Staff may call you about the request."),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    citizen_email = StringField(
        _l("Email (optional)"),
        validators=[
            Optional(),
            Length(max=254),
            Email(_l("Not a valid email address."), check_deliverability=False),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    notify_by = RadioField(_l("How should we tell you of progress?"), choices=NOTIFY_CHOICES,
                           default="sms", validators=[InputRequired(REQUIRED)])  # fmt: skip
    consent_privacy = BooleanField(
        _l(
            "I agree that my name and phone are used to handle this request, as the privacy notice says."
        ),
        validators=[DataRequired(_l("Please agree to the privacy notice."))],
    )
    consent_public = BooleanField(
        _l("The text of my request may be shown publicly, without my name or contact.")
    )
    attachments = attachments_field()
    confirm_distinct = BooleanField(_l("My request is a different matter; file it."))
    # A field people never see: bots fill it in.
    website = StringField(
        _l("Leave this field empty"), render_kw={"tabindex": "-1", "autocomplete": "off"}
    )
    category = HiddenField()


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def question_field_name(code: str) -> str:
    return f"q_{code}"


def request_form_for(category: Category, lang: str, **kwargs: Any) -> RequestForm:
    """The request form with ``category``'s own questions as extra fields."""

    class CategoryRequestForm(RequestForm):
        """The request form of one category (its questions are added below)."""

    if not category.anonymous_allowed:
        # Not offered, so not taken from a crafted request either.
        CategoryRequestForm.anonymous = None  # type: ignore[assignment]
    for question in category.questions:
        if question.retired_at is not None:
            continue
        label = question.label(lang)
        validators: list[Any] = [InputRequired(REQUIRED)] if question.required else [Optional()]
        choices = choice_list(question.choice_names(lang))
        field: Field
        # A blank must not slip past a list's choices (test_parsing's rule for selects).
        chosen = [InputRequired(REQUIRED)] if question.required else [optional_choice()]
        if question.datatype is QuestionType.SINGLEVALUELIST:
            field = RadioField(label, choices=choices, validators=chosen)
        elif question.datatype is QuestionType.MULTIVALUELIST:
            field = MultiCheckboxField(label, choices=choices, validators=chosen)
        elif question.datatype is QuestionType.TEXT:
            field = TextAreaField(
                label, validators=[*validators, Length(max=1000), no_control_characters]
            )
        else:
            field = StringField(
                label, validators=[*validators, Length(max=200), no_control_characters]
            )
        setattr(CategoryRequestForm, question_field_name(question.code), field)
    return CategoryRequestForm(**kwargs)


class FollowForm(FlaskForm):
    """Follow an open case instead of filing the same matter again."""

    citizen_name = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=80)])
    citizen_phone = StringField(
        _l("Mobile phone"), validators=[DataRequired(REQUIRED), Length(max=32)]
    )
    citizen_email = StringField(_l("Email (optional)"), validators=[Optional(), Length(max=254)])
    notify_by = RadioField(
        _l("How should we tell you of progress?"), choices=NOTIFY_CHOICES, default="sms"
    )


class TrackForm(FlaskForm):
    number = StringField(_l("Case number"), validators=[DataRequired(REQUIRED), Length(max=32)],
                         description=_l("e.g. YC2026-000123"))  # fmt: skip
    phone = StringField(_l("Mobile phone"), validators=[DataRequired(REQUIRED), Length(max=32)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})  # fmt: skip


class CodeForm(FlaskForm):
    number = HiddenField()
    phone = HiddenField()
    code = StringField(_l("Code from the SMS"), validators=[DataRequired(REQUIRED), Length(min=6, max=6)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})  # fmt: skip


def _message_field(element_id: str, label: Any = None) -> TextAreaField:
    # Each form on the case page gets its own element id, so labels and error links
    # reach the right box.
    return TextAreaField(label or _l("Your message"), id=element_id, render_kw={"rows": 4},
                         validators=[DataRequired(REQUIRED), Length(max=4000), no_control_characters])  # fmt: skip


class TextForm(FlaskForm):
    """Add information to the case."""

    text = _message_field("information-text", _l("More information"))


class ReplyForm(FlaskForm):
    """Answer the question staff asked, with the photos or documents they asked for."""

    text = _message_field("reply-text", _l("Your answer"))
    attachments = attachments_field()


class NoticesForm(FlaskForm):
    """How a follower is told of progress."""

    notify_by = RadioField(
        _l("How should we tell you of progress?"),
        choices=NOTIFY_CHOICES,
        validators=[InputRequired(REQUIRED)],
        id="follower-notify-by",
    )


class UnfollowForm(FlaskForm):
    """Stop following a case (a button)."""


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Why are you withdrawing it?"), validators=[DataRequired(REQUIRED), Length(max=1000)],
                           render_kw={"rows": 2})  # fmt: skip


class RateForm(FlaskForm):
    solved = RadioField(_l("Was the problem solved?"), choices=choice_list([("yes", _l("Yes")), ("no", _l("No"))]),
                        validators=[InputRequired(REQUIRED)])  # fmt: skip
    satisfaction = RadioField(
        _l("How satisfied are you with the answer?"),
        choices=choice_list(
            [
                (Satisfaction.SATISFIED.value, _l("Satisfied")),
                (Satisfaction.BASICALLY_SATISFIED.value, _l("Basically satisfied")),
                (
                    Satisfaction.UNSATISFIED.value,
                    _l("Unsatisfied (the department will work on it again)"),
                ),
            ]
        ),
        validators=[InputRequired(REQUIRED)],
    )
    comment = TextAreaField(
        _l("Comment (optional)"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 3}
    )


class ReviewForm(FlaskForm):
    reason = TextAreaField(_l("Why do you ask for a review?"), validators=[DataRequired(REQUIRED), Length(max=4000)],
                           render_kw={"rows": 4})  # fmt: skip
