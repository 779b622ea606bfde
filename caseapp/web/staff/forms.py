"""Forms of the staff side. Field names match the services' field errors."""

from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from caseapp.i18n import city_timezone
from caseapp.labels import CHANNEL_LABELS
from caseapp.models.enums import CaseKind, Channel, NotifyBy, Priority
from caseapp.services.filing import catalog
from caseapp.services.filing.cases import NewCase
from caseapp.web.parsing import date_range
from caseapp.web.public.forms import KIND_CHOICES, REQUIRED, choice_list, no_control_characters

# --- filing a request for a citizen (帮办代办) ------------------------------------------

# The channels a clerk files from; web and API filings are the citizen's own.
STAFF_CHANNELS = (Channel.WINDOW, Channel.PHONE, Channel.LETTER, Channel.VISIT)
# A letter's date received is a day; the time is put at the start of office hours.
LETTER_TIME = time(9, 0)

CHANNEL_CHOICES = choice_list((c.value, CHANNEL_LABELS[c]) for c in STAFF_CHANNELS)
PRIORITY_CHOICES = choice_list(
    [(Priority.NORMAL.value, _l("Normal")), (Priority.URGENT.value, _l("Urgent"))]
)
STAFF_NOTIFY_CHOICES = choice_list(
    [
        (NotifyBy.SMS.value, _l("By SMS")),
        (NotifyBy.EMAIL.value, _l("By email")),
        (NotifyBy.NONE.value, _l("Do not notify")),
    ]
)
# Each language named in itself, so both readers find theirs.
LANGUAGE_CHOICES = choice_list([("zh_CN", "中文"), ("en", "English")])


def category_choices(lang: str) -> list[SelectChoice]:
    """Every active category, in an <optgroup> per group, after an empty first choice."""
    choices = [SelectChoice("", _l("Choose a category"))]
    for group in catalog.public_category_groups(lang):
        choices.extend(
            SelectChoice(c.service_code, c.name(lang), optgroup=group.name)
            for c in group.categories
        )
    return choices


def local_today() -> date:
    return datetime.now(city_timezone()).date()


def received_at_of(day: date | None) -> datetime | None:
    """The moment a request was received on ``day``: None (now) for today or no day, so
    the clocks start from the filing; 09:00 local for an earlier (or a future) day, which
    the service then accepts or refuses."""
    if day is None or day == local_today():
        return None
    return datetime.combine(day, LETTER_TIME, tzinfo=city_timezone())


class IntakeOnBehalfForm(FlaskForm):
    """A clerk files a request received at the window, by phone, by letter or on a visit.

    The rules (a landline, or no phone with a postal address; the date received) are the
    filing service's, so every mistake shows at once; the form only reads the input.
    """

    channel = RadioField(_l("How did the request come in?"), choices=CHANNEL_CHOICES,
                         default=Channel.WINDOW.value, validators=[InputRequired(REQUIRED)])  # fmt: skip
    received_at = DateField(
        _l("Date received"),
        validators=[Optional(), date_range()],
        description=_l("For a letter, the day it arrived. Today for a visit or a call."),
    )
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default=CaseKind.HELP.value)
    category = SelectField(_l("Category"), choices=[], render_kw={"required": True})
    priority = RadioField(_l("Priority"), choices=PRIORITY_CHOICES, default=Priority.NORMAL.value,
                          validators=[InputRequired(REQUIRED)])  # fmt: skip
    title = StringField(
        _l("Title"),
        validators=[Length(max=200), no_control_characters],
        render_kw={"required": True},
    )
    description = TextAreaField(
        _l("What happened, and what does the citizen want done?"),
        validators=[Length(max=4000), no_control_characters],
        render_kw={"rows": 7, "maxlength": 4000, "required": True},
    )
    public_location = StringField(
        _l("Road or street"),
        validators=[Length(max=120), no_control_characters],
        description=_l("e.g. Shenghui Road. Shown publicly without the house number."),
    )
    address = StringField(
        _l("Exact address or place"),
        validators=[Length(max=300), no_control_characters],
        description=_l("Only staff see this."),
    )
    anonymous = BooleanField(
        _l("The citizen does not give their name"),
        description=_l("Only for categories that take anonymous requests."),
    )
    citizen_name = StringField(
        _l("Citizen's name"), validators=[Length(max=80), no_control_characters]
    )
    citizen_phone = StringField(
        _l("Phone"),
        validators=[Length(max=32)],
        description=_l("A mobile or a landline with its area code, e.g. 0359-2021234."),
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    citizen_postal_address = StringField(
        _l("Postal address"),
        validators=[Length(max=300), no_control_characters],
        description=_l("Needed when the citizen has no phone: written answers go there."),
    )
    citizen_email = StringField(
        _l("Email (optional)"),
        validators=[Length(max=254)],
        render_kw={"inputmode": "email", "autocomplete": "off"},
    )
    language = RadioField(_l("The citizen's language"), choices=LANGUAGE_CHOICES, default="zh_CN",
                          validators=[InputRequired(REQUIRED)])  # fmt: skip
    notify_by = RadioField(_l("How should the citizen be told of progress?"),
                           choices=STAFF_NOTIFY_CHOICES, default=NotifyBy.SMS.value,
                           validators=[InputRequired(REQUIRED)])  # fmt: skip
    consent_public = BooleanField(
        _l("The citizen agrees that the text may be shown publicly, without name or contact.")
    )
    legacy = BooleanField(
        _l("This is a legacy issue"),
        description=_l("The case is added to the legacy-issue ledger when it is filed."),
    )

    def new_case(self) -> NewCase:
        """The filing this form describes."""
        return NewCase(
            kind=CaseKind(self.kind.data),
            category_code=self.category.data or "",
            title=self.title.data or "",
            description=self.description.data or "",
            channel=Channel(self.channel.data),
            priority=Priority(self.priority.data),
            address=self.address.data or "",
            public_location=self.public_location.data or "",
            anonymous=bool(self.anonymous.data),
            citizen_name=self.citizen_name.data or "",
            citizen_phone=self.citizen_phone.data or "",
            citizen_email=self.citizen_email.data or "",
            citizen_postal_address=self.citizen_postal_address.data or "",
            notify_by=NotifyBy(self.notify_by.data),
            consent_public=bool(self.consent_public.data),
            language=self.language.data or "zh_CN",
            received_at=received_at_of(self.received_at.data),
        )
