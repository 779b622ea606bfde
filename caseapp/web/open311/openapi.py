"""The OpenAPI 3 document describing the API (served at ``/open311/v2/openapi.json``).

Each endpoint is described twice, once per format: the ``.json`` path with the JSON
schema of its answer, the ``.xml`` path as an XML document (``text/xml``) whose elements
carry the same fields. Every 4xx the endpoint can answer is listed with the error list.
"""

from __future__ import annotations

from typing import Any

from caseapp.services.open311 import MAX_REQUESTS
from caseapp.web.open311 import PREFIX

Schema = dict[str, Any]

TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": "string", "nullable": True}
DATETIME = {"type": "string", "format": "date-time"}


def _object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


SCHEMAS: dict[str, Schema] = {
    "Error": _object({"code": {"type": "integer"}, "description": TEXT}),
    "Discovery": _object(
        {
            "changeset": DATETIME,
            "contact": TEXT,
            "key_service": TEXT,
            "endpoints": {
                "type": "array",
                "items": _object(
                    {
                        "specification": TEXT,
                        "url": TEXT,
                        "changeset": DATETIME,
                        "type": {"type": "string", "enum": ["production", "test"]},
                        "formats": {"type": "array", "items": TEXT},
                    }
                ),
            },
        }
    ),
    "Service": _object(
        {
            "service_code": TEXT,
            "service_name": TEXT,
            "description": TEXT,
            "metadata": {"type": "boolean"},
            "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
            "keywords": TEXT,
            "group": TEXT,
        }
    ),
    "ServiceDefinition": _object(
        {
            "service_code": TEXT,
            "attributes": {
                "type": "array",
                "items": _object(
                    {
                        "variable": {"type": "boolean"},
                        "code": TEXT,
                        "datatype": {
                            "type": "string",
                            "enum": [
                                "string",
                                "number",
                                "datetime",
                                "text",
                                "singlevaluelist",
                                "multivaluelist",
                            ],
                        },
                        "required": {"type": "boolean"},
                        "datatype_description": TEXT,
                        "order": {"type": "integer"},
                        "description": TEXT,
                        "values": {
                            "type": "array",
                            "items": _object({"key": TEXT, "name": TEXT}),
                        },
                    }
                ),
            },
        }
    ),
    "ServiceRequest": _object(
        {
            "service_request_id": TEXT,
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": NULLABLE_TEXT,
            "service_name": TEXT,
            "service_code": TEXT,
            "description": TEXT,
            "agency_responsible": NULLABLE_TEXT,
            "service_notice": NULLABLE_TEXT,
            "requested_datetime": DATETIME,
            "updated_datetime": DATETIME,
            "expected_datetime": {**DATETIME, "nullable": True},
            "address": NULLABLE_TEXT,
            "address_id": NULLABLE_TEXT,
            "zipcode": NULLABLE_TEXT,
            "lat": {"type": "number", "nullable": True},
            "long": {"type": "number", "nullable": True},
            "media_url": NULLABLE_TEXT,
        }
    ),
    "Filed": _object(
        {
            "service_request_id": TEXT,
            "token": TEXT,
            "service_notice": TEXT,
            "account_id": NULLABLE_TEXT,
        }
    ),
    "Token": _object({"service_request_id": TEXT, "token": TEXT}),
}

LOCALE = {
    "name": "locale",
    "in": "query",
    "required": False,
    "description": "caseapp's own: `en` for English names and messages; Chinese otherwise.",
    "schema": TEXT,
}

ERROR_TEXT = {
    400: "A parameter is missing or not valid; one error per reason.",
    403: "The api_key is missing, unknown or revoked.",
    404: "No such service, request or token.",
    422: "The Idempotency-Key was sent before with other parameters; nothing was filed.",
    429: "Too many requests from this key or address; try again later.",
}


def _answer(fmt: str, schema: Schema, description: str) -> Schema:
    if fmt == "json":
        return {"description": description, "content": {"application/json": {"schema": schema}}}
    return {
        "description": description + " As an XML document with the same fields.",
        "content": {"text/xml": {"schema": TEXT}},
    }


def _responses(fmt: str, ok: int, schema: Schema, description: str, errors: list[int]) -> Schema:
    responses = {str(ok): _answer(fmt, schema, description)}
    for status in [*errors, 429]:
        responses[str(status)] = _answer(fmt, _list("Error"), ERROR_TEXT[status])
    return responses


def _filing_responses(fmt: str) -> Schema:
    responses = _responses(
        fmt,
        201,
        _list("Filed"),
        "The request was filed (or, under an Idempotency-Key sent before, had been).",
        [400, 403, 422],
    )
    responses["201"]["headers"] = REPLAYED
    return responses


def _path_parameter(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


def _query(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or TEXT,
    }


FILING_FIELDS: dict[str, Schema] = {
    "api_key": {**TEXT, "description": "The key an administrator issued (or in the query)."},
    "service_code": {**TEXT, "description": "The service (category) to file in."},
    "description": {**TEXT, "maxLength": 4000, "description": "What the citizen asks."},
    "lat": {"type": "number", "description": "Latitude (WGS 84); with long."},
    "long": {"type": "number", "description": "Longitude (WGS 84); with lat."},
    "address_string": {**TEXT, "description": "The place, if no lat and long; kept private."},
    "address_id": TEXT,
    "email": TEXT,
    "first_name": TEXT,
    "last_name": TEXT,
    "phone": {**TEXT, "description": "The citizen's mobile number (11 digits)."},
    "device_id": TEXT,
    "account_id": TEXT,
    "media_url": {**TEXT, "description": "A photo's address, kept as a link."},
    "consent_public": {
        "type": "boolean",
        "description": "caseapp's own: the citizen agrees to show the request's text publicly.",
    },
    "locale": TEXT,
}
FILING_NOTE = (
    "Answers to the service's attributes go in `attribute[code]` fields (repeated, or "
    "`attribute[code][]`, for a multivaluelist). Parameters not listed are ignored.\n\n"
    "**Retrying safely.** A client may send an `Idempotency-Key` header, e.g. a UUID "
    "made for this filing. If the answer is lost (a timeout, a dropped connection), "
    "send the same filing again with the same key: the first filing's answer comes back "
    "(201, the same `service_request_id`, `token` and `service_notice`, with the header "
    "`Idempotent-Replayed: true`) and nothing is filed again, even when the retry "
    "arrives while the first is still being filed. A key belongs to the API key that "
    "sent it and is kept as long as the request. The same parameters in another order "
    "are the same filing (the api_key and parameters not listed do not count); other "
    "parameters under a key already used are refused with 422. A filing refused with a "
    "4xx does not use its key."
)
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "caseapp's own: 1 to 100 printable ASCII characters (space to tilde) naming this "
        "filing, so that a retry under it files nothing twice; anything else is a 400."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[ -~]+$"},
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the answer of an earlier filing under the "
        "same Idempotency-Key (nothing was filed now).",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _operations(fmt: str) -> dict[str, Schema]:
    ids_note = "With it, the other filters are ignored."
    return {
        f"{PREFIX}/discovery.{fmt}": {
            "get": {
                "summary": "Service discovery",
                "operationId": f"discovery_{fmt}",
                "responses": _responses(fmt, 200, _ref("Discovery"), "The endpoints.", []),
            }
        },
        f"{PREFIX}/services.{fmt}": {
            "get": {
                "summary": "The services (categories) one may file in",
                "operationId": f"services_{fmt}",
                "parameters": [LOCALE],
                "responses": _responses(fmt, 200, _list("Service"), "The services.", []),
            }
        },
        f"{PREFIX}/services/{{service_code}}.{fmt}": {
            "get": {
                "summary": "A service's definition: the attributes it asks for",
                "operationId": f"service_definition_{fmt}",
                "parameters": [_path_parameter("service_code", "The service's code."), LOCALE],
                "responses": _responses(
                    fmt, 200, _ref("ServiceDefinition"), "The definition.", [404]
                ),
            }
        },
        f"{PREFIX}/requests.{fmt}": {
            "get": {
                "summary": f"Public service requests, newest first, at most {MAX_REQUESTS}",
                "description": (
                    "Petitions and reports are never listed; a description, answer and "
                    "media link only where the citizen agreed; no personal data."
                ),
                "operationId": f"requests_{fmt}",
                "parameters": [
                    _query("service_request_id", "Comma-separated ids. " + ids_note),
                    _query("service_code", "Comma-separated service codes."),
                    _query(
                        "start_date",
                        "Earliest requested_datetime (ISO 8601 with offset).",
                        DATETIME,
                    ),
                    _query(
                        "end_date",
                        "Latest requested_datetime; at most 90 days after start_date. "
                        "Without either date, the last 90 days.",
                        DATETIME,
                    ),
                    _query("status", "open, closed, or both comma-separated."),
                    LOCALE,
                ],
                "responses": _responses(fmt, 200, _list("ServiceRequest"), "The requests.", [400]),
            },
            "post": {
                "summary": "File a service request for a citizen",
                "description": FILING_NOTE,
                "operationId": f"create_request_{fmt}",
                "parameters": [_query("api_key", "The key, if not in the body."), IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": True,
                    "content": {
                        media: {
                            "schema": {
                                "type": "object",
                                "properties": FILING_FIELDS,
                                "required": ["service_code"],
                                "additionalProperties": True,
                            }
                        }
                        for media in ("application/x-www-form-urlencoded", "multipart/form-data")
                    },
                },
                "responses": _filing_responses(fmt),
            },
        },
        f"{PREFIX}/requests/{{service_request_id}}.{fmt}": {
            "get": {
                "summary": "One public service request",
                "operationId": f"request_{fmt}",
                "parameters": [
                    _path_parameter("service_request_id", "The request's id (case number)."),
                    LOCALE,
                ],
                "responses": _responses(
                    fmt, 200, _list("ServiceRequest"), "The request, as a list of one.", [404]
                ),
            }
        },
        f"{PREFIX}/tokens/{{token_id}}.{fmt}": {
            "get": {
                "summary": "The service request a token stands for",
                "operationId": f"token_{fmt}",
                "parameters": [_path_parameter("token_id", "The token a filing returned.")],
                "responses": _responses(fmt, 200, _list("Token"), "The request's id.", [404]),
            }
        },
    }


def openapi_document() -> Schema:
    """The whole document; the server is wherever the API is reached."""
    paths: dict[str, Schema] = {}
    for fmt in ("json", "xml"):
        paths.update(_operations(fmt))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "caseapp Open311 GeoReport v2",
            "version": "2",
            "description": (
                "Service requests of the city (急难愁盼) through Open311 GeoReport v2. "
                "JSON answers are bare arrays (the discovery and a service definition are "
                "objects); XML answers use the specification's elements."
            ),
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
