"""Helpers shared by the forms of every face."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import FieldList, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from caseapp.services.errors import DomainError
from caseapp.services.messages import Message


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (no Ctrl-click), shown with the ``choices`` macro."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def translated(message: str | Message) -> str:
    """A service message in the reader's language (its ``reason`` too, if it has one)."""
    if isinstance(message, Message):
        params = dict(message.params)
        if isinstance(params.get("reason"), str):
            params["reason"] = gettext(params["reason"])
        return gettext(message.msgid, **params)
    return gettext(message)


def apply_field_errors(form: FlaskForm, error: DomainError) -> None:
    """Show a service's reasons beside the fields they concern (translated), and any
    reason without a field at the top of the form. Reasons for the rows of a list of
    subforms come as ``{name: {row index: {subfield: reason}}}``."""
    for name, message in error.field_errors.items():
        field = getattr(form, name, None)
        if isinstance(message, dict):
            if not (isinstance(field, FieldList) and _apply_row_errors(field, message)):
                form.form_errors.append(gettext(error.message))
            continue
        text = translated(message)
        if field is not None and hasattr(field, "errors") and not isinstance(field, FieldList):
            field.errors = [*list(field.errors), text]
        else:
            form.form_errors.append(text)
    if not error.field_errors and error.message:
        form.form_errors.append(gettext(error.message))


def _apply_row_errors(rows: FieldList, reasons: dict[int, dict[str, Any]]) -> bool:
    """Show each row's reasons beside its subfields; False if a row or subfield named is
    not on the form."""
    shown = True
    for index, by_field in reasons.items():
        entry = rows.entries[index] if 0 <= index < len(rows.entries) else None
        for name, message in by_field.items():
            subfield = getattr(entry.form, name, None) if entry is not None else None
            if subfield is None:
                shown = False
                continue
            subfield.errors = [*list(subfield.errors), translated(message)]
    # The list's own errors are what the error summary and the row fieldsets read.
    rows.errors = [entry.errors for entry in rows.entries]
    return shown
