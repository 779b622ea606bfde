"""Schemathesis, in-process, against the OpenAPI document the API serves: every
operation in both formats, with the checks the issue names.

The schema is built from the same function that serves ``openapi.json`` (the served
document is compared with it in test_endpoints), so pytest collects one test per
operation; the calls go to the Flask app itself through WSGI."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from xml.etree import ElementTree

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from caseapp.web.open311.openapi import openapi_document
from tests.web.open311.conftest import API

pytestmark = pytest.mark.long

# Examples per operation. Derandomized, so a run repeats the last one and a failure
# replays; CASEAPP_FUZZ_EXAMPLES=1000 CASEAPP_FUZZ_RANDOM=1 for a longer, fresh hunt.
FUZZ_EXAMPLES = int(os.environ.get("CASEAPP_FUZZ_EXAMPLES", "60"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schemathesis.deserializer("text/xml")
def _xml(_ctx: schemathesis.DeserializationContext, response: schemathesis.Response) -> str:
    """XML answers are documented as documents (strings); parsing them here makes any
    malformed one a failure. Their elements are checked one by one in test_endpoints."""
    ElementTree.fromstring(response.content)
    return response.content.decode("utf-8")


# A filing that passes every check, for the fuzzed ones to borrow fields from.
GOOD_FILING = {
    "service_code": "road-damage",
    "description": "红旗西街人行道砖块松动，老人容易绊倒。",
    "lat": 35.0264,
    "long": 111.0073,
    "first_name": "秀英",
    "last_name": "张",
    "phone": "13812345678",
}


@dataclass(frozen=True)
class Known:
    """Real values to put in place of generated ones, so the fuzzing reaches the answers
    of services, requests and tokens that exist, not only their 404s."""

    key: str
    service_codes: tuple[str, ...]
    request_ids: tuple[str, ...]
    tokens: tuple[str, ...]


@pytest.fixture
def known(
    app: Flask, api_key: str, city_cases: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Known:
    """The app with a key, a few cases (one filed through the API), and limits generous
    enough that the fuzzing reaches the endpoints rather than the limiter (the limits
    have their own tests)."""
    for name in ("READ", "POST_KEY", "POST_ADDRESS"):
        monkeypatch.setitem(app.config, f"RATELIMIT_OPEN311_{name}", "100000 per hour")
    client = app.test_client()
    filed = client.post(f"{API}/requests.json", data={**GOOD_FILING, "api_key": api_key}).json
    return Known(
        key=api_key,
        service_codes=("water", "bus-stop", "road-damage"),
        request_ids=(*city_cases.values(), filed[0]["service_request_id"]),
        tokens=(filed[0]["token"],),
    )


def _steer(case: schemathesis.Case, known: Known) -> None:
    """Replace some generated values by real ones (decided by the case itself, so a
    failing example replays the same way)."""
    pick = random.Random(repr((case.path_parameters, case.query, case.body)))
    real = {
        "service_code": known.service_codes,
        "service_request_id": known.request_ids,
        "token_id": known.tokens,
    }
    for name, values in real.items():
        if case.path_parameters and name in case.path_parameters and pick.random() < 0.5:
            case.path_parameters[name] = pick.choice(values)
    if case.method == "POST" and isinstance(case.body, dict):
        if pick.random() < 0.7:
            case.body["api_key"] = known.key
        for name, value in GOOD_FILING.items():
            if name not in case.body or pick.random() < 0.5:
                case.body[name] = value


schema = schemathesis.openapi.from_dict(openapi_document())


def test_the_fuzzed_document_covers_every_endpoint() -> None:
    operations = {(o.method.upper(), o.path) for o in _operations()}
    assert len(operations) == 14
    for fmt in ("json", "xml"):
        assert ("POST", f"{API}/requests.{fmt}") in operations
        assert ("GET", f"{API}/tokens/{{token_id}}.{fmt}") in operations


def _operations() -> list[schemathesis.APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("CASEAPP_FUZZ_RANDOM") != "1",
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(
    case: schemathesis.Case, app: Flask, known: Known
) -> None:
    _steer(case, known)
    case.call_and_validate(app=app, checks=CHECKS)
