"""The scorecards' period form: a GET form, so a period is an address to share."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from caseapp.models import Department
from caseapp.reports.scorecards import (
    MAX_CUSTOM_DAYS,
    PeriodKind,
    ReportPeriod,
    custom_period,
    period_containing,
)
from caseapp.web.parsing import date_range, optional_choice
from caseapp.web.public.forms import choice_list

PERIOD_LABELS = {
    PeriodKind.WEEK: _l("Week"),
    PeriodKind.MONTH: _l("Month"),
    PeriodKind.QUARTER: _l("Quarter"),
    PeriodKind.CUSTOM: _l("Custom dates"),
}


class ScorecardPeriodForm(FlaskForm):
    """Week, month or quarter holding a day (today by default), or custom dates."""

    class Meta:
        csrf = False  # a report changes nothing

    period = SelectField(
        _l("Period"),
        choices=choice_list((kind.value, label) for kind, label in PERIOD_LABELS.items()),
        default=PeriodKind.MONTH.value,
    )
    day = DateField(
        _l("Containing the day"),
        validators=[Optional(), date_range()],
        description=_l("The week, month or quarter that holds this day."),
    )
    first = DateField(_l("From"), validators=[Optional(), date_range()])
    last = DateField(_l("To"), validators=[Optional(), date_range()])
    department = SelectField(_l("Trend of"), default="", validators=[optional_choice()])

    PARAMETERS = ("period", "day", "first", "last", "department")

    def __init__(self, formdata: Any, departments: list[Department], lang: str) -> None:
        super().__init__(formdata=formdata)
        self.department.choices = choice_list(
            [("", _l("All departments"))] + [(str(d.id), d.name(lang)) for d in departments]
        )

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields, then a custom period's two dates together (an empty optional
        field stops its own validators, so this check lives here)."""
        valid = super().validate(extra_validators)
        if valid and self.period.data == PeriodKind.CUSTOM.value:
            problem = self._custom_problem()
            if problem is not None:
                self.last.errors = [*self.last.errors, problem]
                valid = False
        return valid

    def _custom_problem(self) -> Any:
        first, last = self.first.data, self.last.data
        if not first or not last:
            return _l("Give both dates of a custom period.")
        if last < first:
            return _l("The end of the range is before its start.")
        if (last - first).days >= MAX_CUSTOM_DAYS:
            return _l("A period is at most a year.")
        return None

    def to_period(self, today: date) -> ReportPeriod:
        """The validated form as a period."""
        kind = PeriodKind(self.period.data)
        if kind is PeriodKind.CUSTOM:
            assert self.first.data is not None and self.last.data is not None
            return custom_period(self.first.data, self.last.data)
        return period_containing(kind, self.day.data or today)

    def department_id(self) -> int | None:
        return int(self.department.data) if self.department.data else None

    def args(self) -> dict[str, str]:
        """The form's values as query parameters, for links and the export."""
        values = {name: self[name].raw_data[0] for name in self.PARAMETERS if self[name].raw_data}
        return {name: value for name, value in values.items() if value}
