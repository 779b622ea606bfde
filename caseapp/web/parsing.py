"""One place that turns request text into ids, integers and dates, with bounds.

Every number a request carries ends up in a query or a column; a number beyond what the
column holds raises OverflowError on SQLite and "integer out of range" on PostgreSQL,
and a date far from today overflows the arithmetic done with it. So request text is read
here, and anything out of range is no value at all: a 404 for a path, a field error for
a form, a 400 for a query parameter; never a 500.

- ``<int:...>`` in every route is ``IdConverter``: 0 .. ``ID_MAX``, else no route matches.
- ``id_arg`` / ``int_arg`` for query parameters (a 400 when out of range);
  ``parse_id`` / ``parse_ids`` / ``parse_int`` for select values and other text
  (they live in ``services.validation``, for the services that read ids from text too).
- ``id_choice``, ``int_range`` and ``date_range`` are the WTForms validators for selects of
  ids, integer fields and date fields.
- ``init_app`` refuses a request with a NUL anywhere in its path, query string or form
  (PostgreSQL cannot store or compare text holding one) with a clear 400.
- ``Request`` reads a query string and a URL-encoded body as a multipart body is read:
  bytes that are not UTF-8 become U+FFFD, which every text check refuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import IO, Any
from urllib.parse import parse_qsl

from flask import Flask, abort, current_app, request
from flask import Request as FlaskRequest
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter, Map, ValidationError
from werkzeug.utils import cached_property
from wtforms import Field
from wtforms.validators import Optional, StopValidation
from wtforms.validators import ValidationError as FieldError

from caseapp.models.types import ID_MAX
from caseapp.services.filing.validation import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_DIGITS,
    parse_id,
    parse_ids,
    parse_int,
)

__all__ = [
    "MAX_PAGE",
    "IdConverter",
    "date_range",
    "id_arg",
    "id_choice",
    "init_app",
    "int_arg",
    "int_range",
    "optional_choice",
    "parse_id",
    "parse_ids",
    "parse_int",
]

# The highest page number of a paged list (its offset stays far inside 64 bits).
MAX_PAGE = 1_000_000


class IdConverter(IntegerConverter):
    """``<int:...>`` bounded to the id columns' range (32-bit on PostgreSQL), so a
    larger number matches no route (404) instead of reaching a query."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(
            map,
            fixed_digits=fixed_digits,
            min=0 if min is None else min,
            max=ID_MAX if max is None else max,
            signed=signed,
        )

    def to_python(self, value: str) -> Any:
        if len(value) > MAX_DIGITS or not value.lstrip("-").isascii():
            raise ValidationError()
        return super().to_python(value)


def id_arg(name: str) -> int | None:
    """The id in query parameter ``name``: None if it is absent or empty; a 400 if it is
    not an id (the page would name nothing)."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    found = parse_id(raw)
    if found is None:
        abort(400)
    return found


def int_arg(name: str, default: int, *, minimum: int, maximum: int) -> int:
    """The integer in query parameter ``name`` (``default`` if absent or empty); a 400
    if it is not one in ``minimum .. maximum``."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    found = parse_int(raw, minimum=minimum, maximum=maximum)
    if found is None:
        abort(400)
    return found


def optional_choice() -> Optional:
    """``Optional()`` for a select or radio field: only an empty value is "not given".

    A plain ``Optional()`` also takes a blank (" ") for empty, and then clears the
    field's own "Not a valid choice", so the blank reached the view (``CaseStatus(" ")``,
    ``int(" ")``: a 500)."""
    return Optional(strip_whitespace=False)


def id_choice(form: Any, field: Field) -> None:
    """WTForms validator for a select (or multi-select) of ids: empty, or ids in range.
    Whether the row exists and may be chosen is the service's question."""
    values = field.data if isinstance(field.data, list) else [field.data]
    for value in values:
        if value not in (None, "") and parse_id(value) is None:
            raise FieldError(_l("Not a valid choice."))


class int_range:  # noqa: N801 - used like the validators of wtforms.validators
    """WTForms validator: an integer field's value lies in ``minimum .. maximum``.

    Unlike ``NumberRange`` both ends are required, so no integer field goes unbounded.
    """

    def __init__(self, minimum: int, maximum: int) -> None:
        if not -ID_MAX <= minimum <= maximum <= ID_MAX:
            raise ValueError("an integer field's range must lie within the columns' range")
        self.minimum = minimum
        self.maximum = maximum

    def __call__(self, form: Any, field: Field) -> None:
        value = field.data
        if value is None:
            return
        if not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            raise StopValidation(
                _l(
                    "Enter a whole number from %(minimum)s to %(maximum)s.",
                    minimum=self.minimum,
                    maximum=self.maximum,
                )
            )


class date_range:  # noqa: N801 - used like the validators of wtforms.validators
    """WTForms validator: a date field's day lies in ``earliest .. latest`` (by default
    the years any date in the app may name)."""

    def __init__(self, earliest: date = EARLIEST_DATE, latest: date = LATEST_DATE) -> None:
        self.earliest = earliest
        self.latest = latest

    def __call__(self, form: Any, field: Field) -> None:
        value = field.data
        if value is None:
            return
        if not self.earliest <= value <= self.latest:
            raise StopValidation(
                _l(
                    "Enter a date from %(earliest)s to %(latest)s.",
                    earliest=self.earliest.isoformat(),
                    latest=self.latest.isoformat(),
                )
            )


API_BLUEPRINT = "open311"


def _text_pairs(raw: bytes) -> list[tuple[str, str]]:
    """The pairs of a query string or URL-encoded body; bytes that are not UTF-8, sent
    raw or %XX-escaped, read as U+FFFD."""
    return parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, errors="replace")


class TextFormDataParser(FormDataParser):
    """Werkzeug keeps an escaped byte that is not UTF-8 as its ``%XX`` text (valid text,
    stored as typed: ``%FF``), and drops a whole body holding a raw one."""

    def _parse_urlencoded(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: Any
    ) -> tuple[IO[bytes], MultiDict[str, str], MultiDict[str, Any]]:
        # The stream is already limited to MAX_FORM_BODY (limit_form_body).
        return stream, self.cls(_text_pairs(stream.read())), self.cls()


class Request(FlaskRequest):
    """The app's request (``create_app`` sets it): damaged text reads as U+FFFD in a
    query string and a URL-encoded body, as Werkzeug already reads it in a multipart
    one. Werkzeug's own query string parser raises UnicodeDecodeError on a raw byte that
    is not UTF-8, a 500 even for the error page (the locale is read from ``lang``), under
    a WSGI server that passes such bytes on (gunicorn refuses them with its own 400, and
    Werkzeug's development server escapes them)."""

    form_data_parser_class = TextFormDataParser

    @cached_property
    def args(self) -> MultiDict[str, str]:  # type: ignore[override]
        return self.parameter_storage_class(_text_pairs(self.query_string))


class NulInRequest(BadRequest):
    """A NUL character in a request's path, query string or form."""

    description = "The request contains a NUL character."


def _holds_nul(pairs: Iterable[tuple[str | None, str | None]]) -> bool:
    # A malformed multipart part may come without a name.
    return any("\x00" in (key or "") or "\x00" in (value or "") for key, value in pairs)


def refuse_nul() -> None:
    """Before every request: a NUL anywhere a view could read text from is a 400.

    PostgreSQL refuses NUL in text (a 500 wherever a view passes it on), and no form or
    address of the app has a use for one; other control characters are the fields'
    business (a field error).

    The API is left to itself: it ignores parameters it does not know (Open311), and
    answers NUL in those it knows with its own error list."""
    if request.blueprint == API_BLUEPRINT:
        return
    if "\x00" in request.path:
        raise NulInRequest()
    if _holds_nul(request.args.items(multi=True)):
        raise NulInRequest()
    if request.method in ("POST", "PUT", "PATCH") and (
        _holds_nul(request.form.items(multi=True))
        or any("\x00" in (f.filename or "") for _, f in request.files.items(multi=True))
    ):
        raise NulInRequest()


def limit_form_body() -> None:
    """Before every request: a body that is not multipart (a form without files, an
    Open311 filing) may be at most ``MAX_FORM_BODY`` bytes, read or not (a 413 beyond).
    ``MAX_CONTENT_LENGTH`` is sized for five photos, and Werkzeug's per-field limits hold
    only in multipart bodies: a URL-encoded body of 55 MB was read and parsed whole."""
    if request.mimetype != "multipart/form-data":
        request.max_content_length = current_app.config["MAX_FORM_BODY"]


def init_body_limit(app: Flask) -> None:
    """The form body's limit, before anything reads the body (call it before CSRF
    protection, which reads the form, is set up)."""
    app.before_request(limit_form_body)


def init_app(app: Flask) -> None:
    """Bounded ``<int:...>`` in every route, and the NUL guard. Call before any
    blueprint is registered: a rule takes its converter when it is added."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)
