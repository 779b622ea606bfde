"""The queue's filter form: a GET form, so a filtered list is an address to share."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from caseapp.labels import CHANNEL_LABELS, KIND_LABELS, STATUS_LABELS
from caseapp.models.enums import CaseKind, CaseStatus, Channel
from caseapp.services.pages.queue import QUEUE_STATUSES, DeadlineState, FilterOptions, QueueFilters
from caseapp.web.parsing import date_range, optional_choice

DEADLINE_LABELS = {
    DeadlineState.DUE_TODAY: _l("Due today"),
    DeadlineState.DUE_SOON: _l("Due soon"),
    DeadlineState.OVERDUE: _l("Overdue"),
    DeadlineState.SUPERVISED: _l("Supervised"),
}

ANY = ("", _l("Any"))


def _choice(**kwargs: Any) -> SelectField:
    return SelectField(default="", validators=[optional_choice()], **kwargs)


class QueueFilterForm(FlaskForm):
    """Every filter is optional; an empty one means "any"."""

    class Meta:
        csrf = False  # a search changes nothing

    q = StringField(
        _l("Search"),
        validators=[Optional(), Length(max=100)],
        description=_l(
            "A case number, a mobile phone number, or words from the title or description."
        ),
    )
    status = _choice(label=_l("Status"))
    kind = _choice(label=_l("Kind"))
    category = _choice(label=_l("Category"))
    department = _choice(label=_l("Department"))
    handler = _choice(label=_l("Handler"))
    channel = _choice(label=_l("Channel"))
    deadline = _choice(label=_l("Deadline"))
    legacy = _choice(label=_l("Legacy issue"))
    received_from = DateField(_l("Received from"), validators=[Optional(), date_range()])
    received_to = DateField(_l("Received to"), validators=[Optional(), date_range()])

    # The query parameters this form reads (with ``view``, they make a queue's address).
    PARAMETERS = (
        "q",
        "status",
        "kind",
        "category",
        "department",
        "handler",
        "channel",
        "deadline",
        "legacy",
        "received_from",
        "received_to",
    )

    def __init__(self, formdata: Any, options: FilterOptions, lang: str) -> None:
        super().__init__(formdata=formdata)
        self.status.choices = [ANY] + [(s.value, STATUS_LABELS[s]) for s in QUEUE_STATUSES]
        self.kind.choices = [ANY] + [(k.value, KIND_LABELS[k]) for k in CaseKind]
        self.category.choices = [ANY] + [(str(c.id), c.name(lang)) for c in options.categories]
        self.department.choices = [ANY] + [(str(d.id), d.name(lang)) for d in options.departments]
        self.handler.choices = [ANY] + [(str(u.id), u.display_name) for u in options.handlers]
        self.channel.choices = [ANY] + [(c.value, CHANNEL_LABELS[c]) for c in Channel]
        self.deadline.choices = [ANY] + [(d.value, label) for d, label in DEADLINE_LABELS.items()]
        self.legacy.choices = [
            ANY,
            ("yes", _l("Legacy issues only")),
            ("no", _l("No legacy issues")),
        ]

    def validate_received_to(self, field: DateField) -> None:
        if field.data and self.received_from.data and field.data < self.received_from.data:
            raise ValidationError(_l("The end of the range is before its start."))

    def any_filter(self) -> bool:
        """Whether something beyond the search box is set (the filters open up)."""
        return any(self[name].data for name in self.PARAMETERS if name != "q")

    def to_filters(self) -> QueueFilters:
        """The validated form as the service's value object."""

        def number(field: SelectField) -> int | None:
            return int(field.data) if field.data else None

        return QueueFilters(
            status=CaseStatus(self.status.data) if self.status.data else None,
            kind=CaseKind(self.kind.data) if self.kind.data else None,
            category_id=number(self.category),
            department_id=number(self.department),
            handler_id=number(self.handler),
            channel=Channel(self.channel.data) if self.channel.data else None,
            deadline=DeadlineState(self.deadline.data) if self.deadline.data else None,
            legacy={"yes": True, "no": False}.get(self.legacy.data or ""),
            received_from=self.received_from.data,
            received_to=self.received_to.data,
            q=(self.q.data or "").strip(),
        )
