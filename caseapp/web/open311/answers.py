"""Writing the API's answers as the specification shapes them: JSON as bare arrays (the
discovery and a service definition as objects), XML with a root element named for the
list and one element per item (``services/service``, ``service_requests/request``,
``errors/error``), nested lists likewise (``attributes/attribute``, ``values/value``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from flask import Response, request
from flask_babel import force_locale
from werkzeug.exceptions import HTTPException

from caseapp.services.messages import Message
from caseapp.services.open311 import language_of
from caseapp.web.forms import translated

JSON = "json"
XML = "xml"
CONTENT_TYPES = {JSON: "application/json; charset=utf-8", XML: "text/xml; charset=utf-8"}

# The element each item of a nested list is written as, in XML.
ITEM_TAGS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}

# Characters XML 1.0 cannot carry at all.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Record = Mapping[str, Any]


def requested_format(path: str) -> str:
    """The format a request asked for by its path's ending (JSON unless ``.xml``)."""
    view_args = request.view_args or {}
    if view_args.get("fmt") in (JSON, XML):
        return str(view_args["fmt"])
    return XML if path.endswith(".xml") else JSON


def api_locale() -> str:
    """The language of the answer's names and messages: ``locale=en`` or Chinese."""
    if not request:
        return language_of("")
    try:
        given = request.values.get("locale", "")
    except HTTPException:
        # The body could not be read (over MAX_CONTENT_LENGTH or a parser's limit, or cut
        # short): the answer being made is that error's, and reading the body again here
        # would raise it again, out of the error handler (a 500).
        given = request.args.get("locale", "")
    return language_of(given)


def _plain(value: Any) -> Any:
    """A value as JSON carries it: times in ISO 8601 with their offset, messages
    translated."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Message):
        return translated(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _element(parent: ElementTree.Element, tag: str, value: Any) -> None:
    node = ElementTree.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _element(node, key, item)
    elif isinstance(value, list | tuple):
        for item in value:
            _element(node, ITEM_TAGS.get(tag, "item"), item)
    else:
        node.text = _text(value)


def to_xml(root: str, item: str | None, body: Record | Sequence[Record]) -> bytes:
    """``body`` as an XML document: a list under ``root`` as ``item`` elements, or one
    record as ``root`` itself."""
    top = ElementTree.Element(root)
    if isinstance(body, Mapping):
        for key, value in body.items():
            _element(top, key, value)
    else:
        for record in body:
            _element(top, item or "item", record)
    return ElementTree.tostring(top, encoding="UTF-8", xml_declaration=True)


def respond(
    fmt: str,
    root: str,
    item: str | None,
    body: Record | Sequence[Record],
    status: int = 200,
) -> Response:
    """The answer in ``fmt``; messages in it are translated to the answer's language."""
    with force_locale(api_locale()):
        plain = _plain(body)
    if fmt == XML:
        payload = to_xml(root, item, plain)
    else:
        payload = json.dumps(plain, ensure_ascii=False).encode("utf-8")
    return Response(payload, status=status, content_type=CONTENT_TYPES[fmt])


def error_answer(status: int, descriptions: Iterable[str | Message], fmt: str) -> Response:
    """The specification's error list: one ``error`` (code, description) per reason."""
    with force_locale(api_locale()):
        errors = [{"code": status, "description": translated(d)} for d in descriptions]
    return respond(fmt, "errors", "error", errors, status)
