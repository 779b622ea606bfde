"""Helpers shared by the forms of every face."""

from __future__ import annotations

from flask_babel import gettext
from flask_wtf import FlaskForm

from caseapp.services.errors import DomainError
from caseapp.services.messages import Message


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
    reason without a field at the top of the form."""
    for name, message in error.field_errors.items():
        field = getattr(form, name, None)
        text = translated(message)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors), text]
        else:
            form.form_errors.append(text)
    if not error.field_errors and error.message:
        form.form_errors.append(gettext(error.message))
