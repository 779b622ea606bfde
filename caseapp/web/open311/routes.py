"""The API's endpoints: parse the parameters, call one service, answer in the format the
path asks for. Every error answers as the specification's error list."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Response, current_app, request, url_for
from flask_babel import force_locale, gettext
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

from caseapp.extensions import limiter
from caseapp.labels import status_label
from caseapp.models.types import utcnow
from caseapp.services import open311
from caseapp.services.access import security_log
from caseapp.services.admin import api_keys
from caseapp.services.errors import NotAllowed, NotFound, ValidationFailed
from caseapp.services.messages import N_, Message
from caseapp.web.forms import translated
from caseapp.web.open311 import bp
from caseapp.web.open311.answers import (
    CONTENT_TYPES,
    JSON,
    XML,
    api_locale,
    error_answer,
    requested_format,
    respond,
)
from caseapp.web.open311.openapi import openapi_document

FORMAT = "<any(json, xml):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's shape last changed (the discovery's changeset); move it on with it.
CHANGESET = "2026-12-05T00:00:00+08:00"
# Set on the answer to a retried filing (an Idempotency-Key sent before): nothing filed.
REPLAYED_HEADER = "Idempotent-Replayed"


def _read_limit() -> str:
    return current_app.config["RATELIMIT_OPEN311_READ"]


def _post_key_limit() -> str:
    return current_app.config["RATELIMIT_OPEN311_POST_KEY"]


def _post_address_limit() -> str:
    return current_app.config["RATELIMIT_OPEN311_POST_ADDRESS"]


def _given_key() -> str:
    return (request.form.get("api_key") or request.args.get("api_key") or "").strip()


def _key_bucket() -> str:
    """Filings are counted per key (by its digest, never the key itself)."""
    given = _given_key()
    if not given:
        return "open311-no-key:" + get_remote_address()
    return "open311-key:" + hashlib.sha256(given.encode()).hexdigest()[:32]


read_limit = limiter.limit(_read_limit, methods=["GET", "HEAD"])
post_limits = (
    limiter.limit(_post_key_limit, key_func=_key_bucket, methods=["POST"]),
    limiter.limit(_post_address_limit, methods=["POST"]),
)


@contextmanager
def _answer_language() -> Iterator[str]:
    lang = api_locale()
    with force_locale(lang):
        yield lang


# --- discovery and services ---------------------------------------------------------------


@bp.route(f"/discovery.{FORMAT}")
@read_limit
def discovery(fmt: str) -> Response:
    config = current_app.config
    endpoint = {
        "specification": SPECIFICATION,
        "url": url_for("open311.discovery", fmt=fmt, _external=True).rsplit("/", 1)[0],
        "changeset": CHANGESET,
        "type": "production",
        "formats": [CONTENT_TYPES[XML].split(";")[0], CONTENT_TYPES[JSON].split(";")[0]],
    }
    body = {
        "changeset": CHANGESET,
        "contact": config["OPEN311_CONTACT"],
        "key_service": config["OPEN311_KEY_SERVICE"],
        "endpoints": [endpoint],
    }
    return respond(fmt, "discovery", None, body)


@bp.route(f"/services.{FORMAT}")
@read_limit
def services(fmt: str) -> Response:
    with _answer_language() as lang:
        listed = open311.list_services(lang)
    body = [
        {
            "service_code": s.service_code,
            "service_name": s.service_name,
            "description": s.description,
            "metadata": s.metadata,
            "type": s.type,
            "keywords": s.keywords,
            "group": s.group,
        }
        for s in listed
    ]
    return respond(fmt, "services", "service", body)


@bp.route(f"/services/<service_code>.{FORMAT}")
@read_limit
def service_definition(service_code: str, fmt: str) -> Response:
    with _answer_language() as lang:
        definition = open311.service_definition(service_code, lang)
        body = {
            "service_code": definition.service_code,
            "attributes": [
                {
                    "variable": a.variable,
                    "code": a.code,
                    "datatype": a.datatype,
                    "required": a.required,
                    "datatype_description": gettext(a.datatype_description)
                    if a.datatype_description
                    else "",
                    "order": a.order,
                    "description": a.description,
                    "values": [{"key": v.key, "name": v.name} for v in a.values],
                }
                for a in definition.attributes
            ],
        }
    return respond(fmt, "service_definition", None, body)


# --- requests -----------------------------------------------------------------------------


def _request_record(found: open311.PublicRequest) -> dict[str, Any]:
    return {
        "service_request_id": found.service_request_id,
        "status": found.status,
        "status_notes": found.status_notes,
        "service_name": found.service_name,
        "service_code": found.service_code,
        "description": found.description,
        "agency_responsible": found.agency_responsible,
        "service_notice": str(status_label(found.stage)),
        "requested_datetime": found.requested_datetime,
        "updated_datetime": found.updated_datetime,
        "expected_datetime": found.expected_datetime,
        "address": found.address,
        "address_id": found.address_id,
        "zipcode": found.zipcode,
        "lat": found.lat,
        "long": found.long,
        "media_url": found.media_url,
    }


@bp.route(f"/requests.{FORMAT}", methods=["GET"])
@read_limit
def list_requests(fmt: str) -> Response:
    query = open311.request_query(request.args, utcnow())
    with _answer_language() as lang:
        body = [_request_record(r) for r in open311.find_requests(query, lang)]
    return respond(fmt, "service_requests", "request", body)


@bp.route(f"/requests/<service_request_id>.{FORMAT}")
@read_limit
def show_request(service_request_id: str, fmt: str) -> Response:
    with _answer_language() as lang:
        body = [_request_record(open311.request_by_id(service_request_id, lang))]
    return respond(fmt, "service_requests", "request", body)


@bp.route(f"/requests.{FORMAT}", methods=["POST"])
@post_limits[0]
@post_limits[1]
def create_request(fmt: str) -> Response:
    given = _given_key()
    key = api_keys.key_for(given) if given else None
    if key is None:
        security_log.record_api_key_refused(given)
        raise NotAllowed(
            N_("The api_key is not valid, or has been revoked.")
            if given
            else N_("An api_key is required to file a request.")
        )
    filing = open311.ApiRequest.from_params(request.form.items(multi=True))
    filed = open311.file_request(
        filing, key, idempotency_key=request.headers.get(open311.IDEMPOTENCY_KEY_FIELD)
    )
    body = [
        {
            "service_request_id": filed.service_request_id,
            "token": filed.token,
            "service_notice": filed.service_notice,
            "account_id": filed.account_id,
        }
    ]
    # A retry under an Idempotency-Key gets the first answer, status included; the
    # header tells a client that cares that nothing was filed this time.
    answer = respond(fmt, "service_requests", "request", body, status=201)
    if filed.replayed:
        answer.headers[REPLAYED_HEADER] = "true"
    return answer


@bp.route(f"/tokens/<token_id>.{FORMAT}")
@read_limit
def token(token_id: str, fmt: str) -> Response:
    service_request_id, found = open311.request_for_token(token_id)
    return respond(
        fmt,
        "service_requests",
        "request",
        [{"service_request_id": service_request_id, "token": found}],
    )


@bp.route("/openapi.json")
@read_limit
def openapi() -> Response:
    return respond(JSON, "openapi", None, openapi_document())


# --- errors -------------------------------------------------------------------------------


@bp.errorhandler(ValidationFailed)
def bad_request(error: ValidationFailed) -> Response:
    reasons = [_field_reason(name, reason) for name, reason in error.field_errors.items()] or [
        error.message
    ]
    return error_answer(400, reasons, requested_format(request.path))


def _field_reason(name: str, reason: Any) -> str:
    with force_locale(api_locale()):
        return f"{name}: {translated(reason)}"


@bp.errorhandler(NotAllowed)
def forbidden(error: NotAllowed) -> Response:
    return error_answer(403, [error.message], requested_format(request.path))


@bp.errorhandler(open311.IdempotencyKeyReused)
def key_reused(error: open311.IdempotencyKeyReused) -> Response:
    return error_answer(422, [error.reason or error.message], requested_format(request.path))


@bp.errorhandler(NotFound)
def not_found(error: NotFound) -> Response:
    reason = N_("No such service, request or token.")
    return error_answer(404, [reason], requested_format(request.path))


@bp.errorhandler(RateLimitExceeded)
def too_many(error: RateLimitExceeded) -> Response:
    reason = Message(
        N_("Too many requests (at most %(limit)s); try again later."), limit=str(error.limit.limit)
    )
    return error_answer(429, [reason], requested_format(request.path))
