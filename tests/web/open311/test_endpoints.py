"""The Open311 GeoReport v2 endpoints through HTTP: every answer's shape in JSON and in
XML (checked element by element), the public rule of GET requests, filing through POST,
tokens, the error lists, the rate limits, and the journey from a filing through the
staff queue to a closed request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from caseapp.extensions import db
from caseapp.models import (
    ApiFiling,
    ApiKey,
    Case,
    Category,
    CategoryQuestion,
    OutboxMessage,
)
from caseapp.models.enums import CaseKind, CaseStatus, Channel, OutboxChannel
from caseapp.models.types import utcnow
from caseapp.services.admin import api_keys
from caseapp.services.casework import handling as casework
from caseapp.services.casework import intake
from caseapp.web.open311.openapi import openapi_document
from tests.factories import case_in, department, new_case, staff
from tests.web.open311.conftest import API, children, parse_xml

FORMATS = pytest.mark.parametrize("fmt", ["json", "xml"])
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
CITY = ZoneInfo("Asia/Shanghai")

DISCOVERY_FIELDS = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT_FIELDS = ["specification", "url", "changeset", "type", "formats"]
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
FILED_FIELDS = ["service_request_id", "token", "service_notice", "account_id"]
TOKEN_FIELDS = ["service_request_id", "token"]
ERROR_FIELDS = ["code", "description"]

# What city_cases' citizen gave that no public answer may carry.
CITIZEN_NAME = "张秀英"
CITIZEN_PHONE = "13812345678"
PRIVATE_ADDRESS = "红旗西街25号院3单元"
ROAD_DAMAGE_ZH = "道路破损与井盖"
ZJJ_ZH = "市住房和城乡建设局"

# A filing that passes every check, unlike any of city_cases.
FILING = {
    "service_code": "road-damage",
    "description": "解放路井盖缺失，夜间行人容易踩空。",
    "lat": "35.0301",
    "long": "111.0102",
    "first_name": "秀英",
    "last_name": "张",
    "phone": CITIZEN_PHONE,
}


# --- reading answers ----------------------------------------------------------------------


def _flat(value: Any) -> str:
    """A JSON value as the XML answer writes it, so both formats compare alike."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _leaf_texts(element: ElementTree.Element) -> dict[str, str]:
    """The texts of an element whose children are all leaves."""
    for child in element:
        assert len(child) == 0, f"{element.tag}/{child.tag} is not a leaf"
    return {child.tag: child.text or "" for child in element}


def records(
    response: TestResponse, fmt: str, root: str, item: str, fields: list[str]
) -> list[dict[str, str]]:
    """The records of a list answer, each as {field: text}: JSON as a bare array of
    objects with exactly ``fields`` in order; XML as ``root`` with one ``item`` per
    record whose children are exactly ``fields`` in order."""
    assert response.content_type == CONTENT_TYPES[fmt]
    if fmt == "json":
        body = json.loads(response.data)
        assert isinstance(body, list)
        for record in body:
            assert isinstance(record, dict)
            assert list(record) == fields
        return [{name: _flat(value) for name, value in record.items()} for record in body]
    top = parse_xml(response.data)
    assert top.tag == root
    assert top.text is None or not top.text.strip()
    found = []
    for element in top:
        assert element.tag == item
        assert children(element) == fields
        found.append(_leaf_texts(element))
    return found


def request_records(response: TestResponse, fmt: str) -> list[dict[str, str]]:
    assert response.status_code == 200, response.data
    return records(response, fmt, "service_requests", "request", REQUEST_FIELDS)


def error_list(response: TestResponse, fmt: str) -> list[tuple[int, str]]:
    """The specification's error list, as (code, description) pairs; every code is the
    answer's status."""
    if fmt == "json":
        for error in json.loads(response.data):
            assert isinstance(error["code"], int)
    found = [
        (int(e["code"]), e["description"])
        for e in records(response, fmt, "errors", "error", ERROR_FIELDS)
    ]
    assert found
    assert {code for code, _ in found} == {response.status_code}
    return found


def ids(found: list[dict[str, str]]) -> list[str]:
    return [record["service_request_id"] for record in found]


def by_id(found: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {record["service_request_id"]: record for record in found}


def get(client: FlaskClient, path: str, fmt: str, **params: str) -> TestResponse:
    return client.get(f"{API}/{path}.{fmt}", query_string=params)


def list_requests(client: FlaskClient, fmt: str, **params: str) -> list[dict[str, str]]:
    return request_records(get(client, "requests", fmt, **params), fmt)


def one_request(client: FlaskClient, number: str, fmt: str) -> dict[str, str]:
    found = request_records(get(client, f"requests/{number}", fmt), fmt)
    assert len(found) == 1
    return found[0]


def post(client: FlaskClient, key: str | None, fmt: str = "json", **changes: str) -> TestResponse:
    """POST requests: FILING with ``changes`` (an empty value drops the field)."""
    data = {**FILING, **changes}
    if key is not None:
        data["api_key"] = key
    data = {name: value for name, value in data.items() if value != ""}
    return client.post(f"{API}/requests.{fmt}", data=data)


def filed(response: TestResponse, fmt: str = "json") -> dict[str, str]:
    assert response.status_code == 201, response.data
    found = records(response, fmt, "service_requests", "request", FILED_FIELDS)
    assert len(found) == 1
    return found[0]


@contextmanager
def database(app: Flask) -> Iterator[None]:
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def case_count(app: Flask) -> int:
    with database(app):
        return db.session.scalar(sa.select(sa.func.count(Case.id))) or 0


def case_named(number: str) -> Case:
    found = db.session.scalar(sa.select(Case).where(Case.number == number))
    assert found is not None, number
    return found


def city_time(moment: datetime) -> str:
    return moment.astimezone(CITY).isoformat(timespec="seconds")


# --- discovery ----------------------------------------------------------------------------


@FORMATS
def test_discovery_names_the_endpoint_and_both_formats(client: FlaskClient, fmt: str) -> None:
    """JSON: one object; XML: ``discovery/endpoints/endpoint/formats/format``."""
    response = get(client, "discovery", fmt)
    assert response.status_code == 200
    assert response.content_type == CONTENT_TYPES[fmt]
    endpoints: list[dict[str, str]] = []
    formats: list[list[str]] = []
    if fmt == "json":
        body = json.loads(response.data)
        assert isinstance(body, dict)
        assert list(body) == DISCOVERY_FIELDS
        assert isinstance(body["endpoints"], list)
        top = {name: _flat(value) for name, value in body.items() if name != "endpoints"}
        for endpoint in body["endpoints"]:
            assert list(endpoint) == ENDPOINT_FIELDS
            endpoints.append({k: _flat(v) for k, v in endpoint.items() if k != "formats"})
            formats.append(endpoint["formats"])
    else:
        root = parse_xml(response.data)
        assert root.tag == "discovery"
        assert children(root) == DISCOVERY_FIELDS
        top = {child.tag: child.text or "" for child in root if child.tag != "endpoints"}
        endpoints_element = root[3]
        for element in endpoints_element:
            assert element.tag == "endpoint"
            assert children(element) == ENDPOINT_FIELDS
            formats_element = element[4]
            for format_element in formats_element:
                assert format_element.tag == "format"
                assert len(format_element) == 0
            leaves = [child for child in element if child.tag != "formats"]
            assert all(len(child) == 0 for child in leaves)
            endpoints.append({child.tag: child.text or "" for child in leaves})
            formats.append([f.text or "" for f in formats_element])
    assert top["contact"] and top["key_service"]
    assert datetime.fromisoformat(top["changeset"]).tzinfo is not None
    assert len(endpoints) == 1
    assert endpoints[0]["url"].endswith("/open311/v2")
    assert endpoints[0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoints[0]["type"] in ("production", "test")
    assert datetime.fromisoformat(endpoints[0]["changeset"]).tzinfo is not None
    assert formats == [["text/xml", "application/json"]]


# --- services -----------------------------------------------------------------------------


def services(client: FlaskClient, fmt: str, **params: str) -> dict[str, dict[str, str]]:
    response = get(client, "services", fmt, **params)
    assert response.status_code == 200
    found = records(response, fmt, "services", "service", SERVICE_FIELDS)
    return {service["service_code"]: service for service in found}


@FORMATS
def test_services_list_the_categories_with_the_specs_fields(
    client: FlaskClient, demo_base: None, fmt: str
) -> None:
    listed = services(client, fmt)
    assert {"water", "bus-stop", "road-damage"} <= set(listed)
    water = listed["water"]
    assert water["service_name"] == "供水报装与维修"
    assert water["type"] == "realtime"
    assert water["keywords"] == "供水,自来水,水表,报装"
    assert water["group"] == "水电气暖"
    assert water["description"]


@FORMATS
def test_metadata_says_whether_a_service_has_attributes(
    client: FlaskClient, demo_base: None, fmt: str
) -> None:
    listed = services(client, fmt)
    assert listed["water"]["metadata"] == "true"
    assert listed["bus-stop"]["metadata"] == "true"
    assert listed["road-damage"]["metadata"] == "false"
    if fmt == "json":
        body = json.loads(get(client, "services", fmt).data)
        assert {s["service_code"]: s["metadata"] for s in body}["road-damage"] is False


@FORMATS
def test_locale_en_gives_english_names(client: FlaskClient, demo_base: None, fmt: str) -> None:
    water = services(client, fmt, locale="en")["water"]
    assert water["service_name"] == "Water connections and repairs"
    assert water["group"] == "Water, power and gas"


@FORMATS
def test_a_retired_category_is_neither_listed_nor_defined(
    app: Flask, client: FlaskClient, demo_base: None, fmt: str
) -> None:
    with database(app):
        water = db.session.scalar(sa.select(Category).where(Category.service_code == "water"))
        assert water is not None
        water.retired_at = utcnow()
        db.session.commit()
    listed = services(client, fmt)
    assert "water" not in listed
    assert "road-damage" in listed
    response = get(client, "services/water", fmt)
    assert response.status_code == 404
    error_list(response, fmt)


# --- service definitions ------------------------------------------------------------------


def definition(response: TestResponse, fmt: str) -> tuple[str, list[dict[str, Any]]]:
    """A service definition as (service_code, attributes), each attribute {field: text}
    with its values as [(key, name)]: JSON as an object, XML as
    ``service_definition/attributes/attribute/values/value``, element by element."""
    assert response.status_code == 200, response.data
    assert response.content_type == CONTENT_TYPES[fmt]
    attributes: list[dict[str, Any]] = []
    if fmt == "json":
        body = json.loads(response.data)
        assert isinstance(body, dict)
        assert list(body) == ["service_code", "attributes"]
        assert isinstance(body["attributes"], list)
        for attribute in body["attributes"]:
            assert list(attribute) == ATTRIBUTE_FIELDS
            assert isinstance(attribute["variable"], bool)
            assert isinstance(attribute["required"], bool)
            assert isinstance(attribute["order"], int)
            for value in attribute["values"]:
                assert list(value) == ["key", "name"]
            flat = {k: _flat(v) for k, v in attribute.items() if k != "values"}
            flat["values"] = [(v["key"], v["name"]) for v in attribute["values"]]
            attributes.append(flat)
        return body["service_code"], attributes
    root = parse_xml(response.data)
    assert root.tag == "service_definition"
    assert children(root) == ["service_code", "attributes"]
    code_element, attributes_element = list(root)
    for element in attributes_element:
        assert element.tag == "attribute"
        assert children(element) == ATTRIBUTE_FIELDS
        values_element = element.find("values")
        assert values_element is not None
        values = []
        for value in values_element:
            assert value.tag == "value"
            assert children(value) == ["key", "name"]
            texts = _leaf_texts(value)
            values.append((texts["key"], texts["name"]))
        flat = {child.tag: child.text or "" for child in element if child.tag != "values"}
        for child in element:
            if child.tag != "values":
                assert len(child) == 0
        flat["values"] = values
        attributes.append(flat)
    return code_element.text or "", attributes


@FORMATS
def test_the_definition_of_water_lists_its_pipe_question(
    client: FlaskClient, demo_base: None, fmt: str
) -> None:
    code, attributes = definition(get(client, "services/water", fmt), fmt)
    assert code == "water"
    assert attributes == [
        {
            "variable": "true",
            "code": "pipe",
            "datatype": "singlevaluelist",
            "required": "false",
            "datatype_description": "",
            "order": "1",
            "description": "管径",
            "values": [("lt100", "DN100以下（免收表务费）"), ("ge100", "DN100及以上")],
        }
    ]


@FORMATS
def test_a_definition_in_english(client: FlaskClient, demo_base: None, fmt: str) -> None:
    _code, water = definition(get(client, "services/water", fmt, locale="en"), fmt)
    assert water[0]["description"] == "Pipe diameter"
    assert water[0]["values"] == [
        ("lt100", "Below DN100 (no meter fee)"),
        ("ge100", "DN100 or larger"),
    ]
    _code, bus = definition(get(client, "services/bus-stop", fmt, locale="en"), fmt)
    assert [(a["code"], a["datatype"], a["description"]) for a in bus] == [
        ("route", "string", "Bus route")
    ]
    assert bus[0]["datatype_description"] == "At most 200 characters."
    assert bus[0]["values"] == []


@FORMATS
def test_a_service_without_questions_has_no_attributes(
    client: FlaskClient, demo_base: None, fmt: str
) -> None:
    assert definition(get(client, "services/road-damage", fmt), fmt) == ("road-damage", [])


@FORMATS
def test_an_unknown_service_code_is_404(client: FlaskClient, demo_base: None, fmt: str) -> None:
    response = get(client, "services/no-such-service", fmt)
    assert response.status_code == 404
    assert error_list(response, fmt) == [(404, "没有这个服务、诉求或凭据。")]
    response = get(client, "services/no-such-service", fmt, locale="en")
    assert error_list(response, fmt) == [(404, "No such service, request or token.")]


# --- GET requests: the public rule --------------------------------------------------------


@FORMATS
def test_requests_list_public_cases_never_petitions_or_reports(
    client: FlaskClient, city_cases: dict[str, str], fmt: str
) -> None:
    listed = ids(list_requests(client, fmt))
    assert sorted(listed) == sorted(
        [city_cases["new"], city_cases["in_progress"], city_cases["closed_public"]]
    )
    for hidden in ("petition", "report"):
        assert list_requests(client, fmt, service_request_id=city_cases[hidden]) == []
        assert city_cases[hidden] not in ids(list_requests(client, fmt, service_code="road-damage"))


@FORMATS
def test_a_petition_or_report_is_not_found_by_id(
    client: FlaskClient, city_cases: dict[str, str], fmt: str
) -> None:
    for hidden in ("petition", "report"):
        response = get(client, f"requests/{city_cases[hidden]}", fmt)
        assert response.status_code == 404
        assert len(error_list(response, fmt)) == 1


@FORMATS
def test_status_is_open_while_worked_and_closed_after(
    client: FlaskClient, city_cases: dict[str, str], fmt: str
) -> None:
    found = by_id(list_requests(client, fmt))
    assert found[city_cases["new"]]["status"] == "open"
    assert found[city_cases["in_progress"]]["status"] == "open"
    assert found[city_cases["closed_public"]]["status"] == "closed"


@FORMATS
def test_service_notice_is_the_stage_in_the_answers_language(
    client: FlaskClient, city_cases: dict[str, str], fmt: str
) -> None:
    assert one_request(client, city_cases["new"], fmt)["service_notice"] == "待受理"
    english = request_records(
        get(client, f"requests/{city_cases['closed_public']}", fmt, locale="en"), fmt
    )
    assert english[0]["service_notice"] == "Closed"
    assert english[0]["service_name"] == "Broken roads and manholes"


@FORMATS
def test_text_and_answer_are_shown_only_with_the_citizens_consent(
    app: Flask, client: FlaskClient, city_cases: dict[str, str], fmt: str
) -> None:
    """A closed case without consent shows neither its text nor its answer."""
    with database(app):
        private = case_in(CaseStatus.CLOSED).number
    found = by_id(list_requests(client, fmt))
    shown = found[city_cases["closed_public"]]
    assert shown["description"] == "红旗西街人行道砖块松动，老人容易绊倒。"
    assert shown["status_notes"] == "已修复。"
    for number in (private, city_cases["new"], city_cases["in_progress"]):
        assert found[number]["description"] == ROAD_DAMAGE_ZH
        assert found[number]["status_notes"] == ""
    assert found[private]["status"] == "closed"


@FORMATS
def test_coordinates_are_rounded_to_three_decimals(
    client: FlaskClient, city_cases: dict[str, str], fmt: str
) -> None:
    record = one_request(client, city_cases["closed_public"], fmt)
    assert (record["lat"], record["long"]) == ("35.026", "111.007")
    assert record["address"] == "红旗西街"
    assert (record["address_id"], record["zipcode"]) == ("", "")
    assert one_request(client, city_cases["new"], fmt)["lat"] == ""


@FORMATS
def test_datetimes_are_iso_8601_in_the_citys_offset(
    client: FlaskClient, city_cases: dict[str, str], fmt: str
) -> None:
    for record in list_requests(client, fmt):
        for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
            moment = datetime.fromisoformat(record[name])
            assert moment.utcoffset() == timedelta(hours=8), (name, record[name])
        requested = datetime.fromisoformat(record["requested_datetime"])
        assert requested <= datetime.fromisoformat(record["updated_datetime"])
        assert abs(requested - datetime.now(UTC)) < timedelta(hours=1)


@FORMATS
def test_agency_responsible_is_the_lead_department_once_dispatched(
    client: FlaskClient, city_cases: dict[str, str], fmt: str
) -> None:
    found = by_id(list_requests(client, fmt))
    assert found[city_cases["new"]]["agency_responsible"] == ""
    assert found[city_cases["in_progress"]]["agency_responsible"] == ZJJ_ZH
    assert found[city_cases["closed_public"]]["agency_responsible"] == ZJJ_ZH


def test_json_values_have_the_specs_types(client: FlaskClient, city_cases: dict[str, str]) -> None:
    """Numbers as numbers, fields the city does not keep as null."""
    body = json.loads(get(client, "requests", "json").data)
    found = {record["service_request_id"]: record for record in body}
    shown = found[city_cases["closed_public"]]
    assert shown["lat"] == 35.026 and shown["long"] == 111.007
    assert shown["address_id"] is None and shown["zipcode"] is None
    assert shown["media_url"] is None
    new = found[city_cases["new"]]
    assert new["status_notes"] is None
    assert new["agency_responsible"] is None
    assert new["lat"] is None and new["long"] is None


def test_no_personal_data_in_any_get_answer(
    client: FlaskClient, api_key: str, city_cases: dict[str, str]
) -> None:
    """Neither the citizens' name, phone nor exact address, nor the key, in any answer:
    not for the web's cases nor for one filed through the API with consent to show it."""
    api = filed(
        post(
            client,
            api_key,
            address_string=PRIVATE_ADDRESS,
            email="zhang.xiuying@example.com",
            consent_public="true",
        )
    )
    numbers = [*city_cases.values(), api["service_request_id"]]
    paths = [
        ("discovery", {}),
        ("services", {}),
        ("services/water", {}),
        ("requests", {}),
        ("requests", {"service_request_id": ",".join(numbers)}),
        ("requests", {"status": "closed"}),
        (f"tokens/{api['token']}", {}),
        *[(f"requests/{number}", {}) for number in numbers],
    ]
    secrets = [CITIZEN_NAME, CITIZEN_PHONE, PRIVATE_ADDRESS, "zhang.xiuying", api_key]
    seen = 0
    for path, params in paths:
        for fmt in ("json", "xml"):
            for locale in ("zh_CN", "en"):
                response = get(client, path, fmt, locale=locale, **params)
                assert response.status_code in (200, 404), path
                seen += response.status_code == 200
                for secret in secrets:
                    assert secret.encode() not in response.data, (path, fmt, secret)
    assert seen > 40
    assert api["service_request_id"] in ids(list_requests(client, "json"))


# --- GET requests: filters ----------------------------------------------------------------


@FORMATS
def test_filter_by_service_code(
    app: Flask, client: FlaskClient, city_cases: dict[str, str], fmt: str
) -> None:
    with database(app):
        water = new_case(
            category="water", title="自来水管漏水", description="楼下水管漏水。"
        ).number
    assert ids(list_requests(client, fmt, service_code="water")) == [water]
    both = ids(list_requests(client, fmt, service_code="water,road-damage"))
    assert sorted(both) == sorted(
        [water, city_cases["new"], city_cases["in_progress"], city_cases["closed_public"]]
    )
    assert list_requests(client, fmt, service_code="bus-stop") == []


STATUS_FILTERS = {
    "open": ["new", "in_progress"],
    "closed": ["closed_public"],
    "Open, CLOSED": ["new", "in_progress", "closed_public"],
    "": ["new", "in_progress", "closed_public"],
}


@FORMATS
def test_filter_by_status(client: FlaskClient, city_cases: dict[str, str], fmt: str) -> None:
    for status, expected in STATUS_FILTERS.items():
        found = ids(list_requests(client, fmt, status=status))
        assert sorted(found) == sorted(city_cases[name] for name in expected), status


@pytest.fixture
def old_case(app: Flask, city_cases: dict[str, str]) -> str:
    """A request received 100 days ago, outside the default window."""
    with database(app):
        return new_case(now=utcnow() - timedelta(days=100)).number


@FORMATS
def test_the_default_window_is_the_last_90_days(
    client: FlaskClient, old_case: str, city_cases: dict[str, str], fmt: str
) -> None:
    listed = ids(list_requests(client, fmt))
    assert old_case not in listed
    assert city_cases["new"] in listed


@FORMATS
def test_start_and_end_date_choose_the_window(
    client: FlaskClient, old_case: str, city_cases: dict[str, str], fmt: str
) -> None:
    now = utcnow()
    start = city_time(now - timedelta(days=105))
    end = city_time(now - timedelta(days=95))
    assert ids(list_requests(client, fmt, start_date=start, end_date=end)) == [old_case]
    # One date alone: the other is 90 days away.
    assert ids(list_requests(client, fmt, end_date=end)) == [old_case]
    assert ids(list_requests(client, fmt, start_date=start)) == [old_case]
    recent = ids(list_requests(client, fmt, start_date=city_time(now - timedelta(hours=1))))
    assert old_case not in recent and city_cases["new"] in recent


@FORMATS
def test_the_window_includes_both_ends_whatever_the_offset(
    app: Flask, client: FlaskClient, demo_base: None, fmt: str
) -> None:
    """Dates in +08:00 or Z name the same instants as the stored UTC times."""
    received = (utcnow() - timedelta(days=10)).replace(microsecond=0)
    with database(app):
        number = new_case(now=received).number
    second = timedelta(seconds=1)
    zulu = received.isoformat().replace("+00:00", "Z")
    assert ids(list_requests(client, fmt, start_date=city_time(received))) == [number]
    assert ids(list_requests(client, fmt, start_date=zulu)) == [number]
    assert ids(list_requests(client, fmt, start_date=city_time(received + second))) == []
    assert ids(list_requests(client, fmt, end_date=city_time(received))) == [number]
    assert ids(list_requests(client, fmt, end_date=zulu)) == [number]
    assert ids(list_requests(client, fmt, end_date=city_time(received - second))) == []


@FORMATS
def test_service_request_id_ignores_the_other_parameters(
    client: FlaskClient, old_case: str, city_cases: dict[str, str], fmt: str
) -> None:
    """Named ids are answered whatever the window, status and service code say (and an
    unknown id is passed over)."""
    wanted = [city_cases["new"], old_case, "YC1999-999999", city_cases["closed_public"]]
    found = list_requests(
        client,
        fmt,
        service_request_id=" , ".join(wanted),
        status="closed",
        service_code="water",
        start_date="2000-01-01T00:00:00+08:00",
        end_date="2000-01-02T00:00:00+08:00",
    )
    assert sorted(ids(found)) == sorted([city_cases["new"], old_case, city_cases["closed_public"]])


@FORMATS
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2026-11-01T00:00:00"}, "start_date"),
        ({"end_date": "2026-11-01"}, "end_date"),
        (
            {"start_date": "2026-11-02T00:00:00+08:00", "end_date": "2026-11-01T00:00:00+08:00"},
            "end_date",
        ),
        (
            {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-04-02T00:00:00+08:00"},
            "end_date",
        ),
        ({"status": "foo"}, "status"),
    ],
    ids=["not-a-date", "no-offset", "date-only", "end-before-start", "over-90-days", "status"],
)
def test_a_bad_query_is_400_with_one_error(
    client: FlaskClient, fmt: str, params: dict[str, str], field: str
) -> None:
    """The query is checked before anything is read, so no data is needed."""
    response = get(client, "requests", fmt, **params)
    assert response.status_code == 400
    ((_code, description),) = error_list(response, fmt)
    assert description.startswith(f"{field}: ")


def test_a_query_error_is_in_english_with_locale_en(client: FlaskClient) -> None:
    response = get(client, "requests", "xml", status="foo", locale="en")
    assert error_list(response, "xml") == [(400, "status: The status is open, closed, or both.")]


@FORMATS
def test_at_most_1000_requests_newest_first(
    app: Flask, client: FlaskClient, demo_base: None, fmt: str
) -> None:
    """1,001 rows written directly: the newest thousand are answered, newest first."""
    with database(app):
        category_id = db.session.scalar(
            sa.select(Category.id).where(Category.service_code == "road-damage")
        )
        now = utcnow()
        db.session.add_all(
            Case(
                number=f"T1999-{n:06d}",
                number_year=1999,
                number_seq=n,
                kind=CaseKind.HELP,
                category_id=category_id,
                channel=Channel.WEB,
                status=CaseStatus.NEW,
                title="路面破损",
                description="测试用诉求",
                received_at=now - timedelta(minutes=n),
                created_at=now,
                updated_at=now,
            )
            for n in range(1, 1002)
        )
        db.session.commit()
    found = list_requests(client, fmt)
    assert len(found) == 1000
    assert ids(found) == [f"T1999-{n:06d}" for n in range(1, 1001)]
    requested = [datetime.fromisoformat(r["requested_datetime"]) for r in found]
    assert requested == sorted(requested, reverse=True)


# --- POST requests ------------------------------------------------------------------------


@FORMATS
@pytest.mark.parametrize("encoding", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_filing_is_201_with_id_token_and_notice(
    app: Flask, client: FlaskClient, api_key: str, fmt: str, encoding: str
) -> None:
    response = client.post(
        f"{API}/requests.{fmt}",
        data={**FILING, "api_key": api_key, "locale": "en"},
        content_type=encoding,
    )
    answer = filed(response, fmt)
    number = answer["service_request_id"]
    assert answer["token"]
    assert answer["account_id"] == ""
    assert answer["service_notice"].startswith(
        f"Received as {number}; it will be accepted or refused by "
    )
    assert "may repeat" not in answer["service_notice"]
    with database(app):
        case = case_named(number)
        assert case.description == FILING["description"]
        assert case.citizen_name == CITIZEN_NAME
        assert case.citizen_phone == CITIZEN_PHONE
        assert (case.latitude, case.longitude) == (35.0301, 111.0102)
        assert case.language == "en"


def test_a_json_filing_answer_has_null_account_id(client: FlaskClient, api_key: str) -> None:
    body = json.loads(post(client, api_key).data)
    assert body[0]["account_id"] is None
    assert isinstance(body[0]["service_notice"], str)


def test_the_api_key_may_come_in_the_query_string(
    app: Flask, client: FlaskClient, api_key: str
) -> None:
    response = client.post(
        f"{API}/requests.xml", query_string={"api_key": api_key}, data=dict(FILING)
    )
    number = filed(response, "xml")["service_request_id"]
    with database(app):
        filing = db.session.scalar(
            sa.select(ApiFiling)
            .join(Case, Case.id == ApiFiling.case_id)
            .where(Case.number == number)
        )
        assert filing is not None
        assert filing.api_key.key_hash == api_keys.hash_key(api_key)


@FORMATS
@pytest.mark.parametrize("which", ["missing", "wrong", "revoked"])
def test_a_filing_without_a_valid_key_is_403_and_saves_nothing(
    app: Flask, client: FlaskClient, api_key: str, fmt: str, which: str
) -> None:
    key: str | None = api_key
    if which == "missing":
        key = None
    elif which == "wrong":
        key = api_key[:-4] + "xxxx"
    else:
        with database(app):
            row = db.session.scalar(
                sa.select(ApiKey).where(ApiKey.key_hash == api_keys.hash_key(api_key))
            )
            assert row is not None
            api_keys.revoke_key(row.id, None)
    before = case_count(app)
    response = post(client, key, fmt)
    assert response.status_code == 403
    assert len(error_list(response, fmt)) == 1
    assert case_count(app) == before


def test_a_missing_key_is_explained_in_the_answers_language(
    client: FlaskClient, demo_base: None
) -> None:
    assert error_list(post(client, None), "json") == [(403, "提交诉求须提供 api_key。")]
    assert error_list(post(client, None, locale="en"), "json") == [
        (403, "An api_key is required to file a request.")
    ]


@FORMATS
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service_code": "no-such-service"}, "service_code"),
        ({"lat": "", "long": ""}, "lat"),
        ({"lat": "north"}, "lat"),
        ({"lat": "95"}, "lat"),
        ({"description": ""}, "description"),
        ({"phone": "03592345678"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": "", "last_name": ""}, "first_name"),
        ({"service_code": "water", "attribute[pipe]": "bogus"}, "attribute[pipe]"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
    ],
    ids=[
        "unknown-service",
        "no-location",
        "lat-not-a-number",
        "lat-out-of-range",
        "no-description",
        "not-a-mobile",
        "bad-email",
        "no-name",
        "bad-attribute-value",
        "javascript-media-url",
    ],
)
def test_an_invalid_filing_is_400_with_one_error_and_saves_nothing(
    app: Flask,
    client: FlaskClient,
    api_key: str,
    fmt: str,
    changes: dict[str, str],
    field: str,
) -> None:
    before = case_count(app)
    response = post(client, api_key, fmt, **changes)
    assert response.status_code == 400
    ((_code, description),) = error_list(response, fmt)
    assert description.startswith(f"{field}: "), description
    assert case_count(app) == before


def test_every_reason_is_one_error_in_english(client: FlaskClient, api_key: str) -> None:
    response = post(
        client,
        api_key,
        "xml",
        lat="north",
        media_url="javascript:alert(1)",
        service_code="no-such-service",
        locale="en",
    )
    assert response.status_code == 400
    assert sorted(error_list(response, "xml")) == [
        (400, "lat: Not a number."),
        (400, "media_url: Give an http or https address of at most 500 characters."),
        (400, "service_code: No such service."),
    ]


def test_a_filing_with_an_address_and_no_coordinates_is_taken(
    client: FlaskClient, api_key: str
) -> None:
    filed(post(client, api_key, lat="", long="", address_string="解放路12号门口"))


@FORMATS
def test_a_required_attribute_must_be_answered(
    app: Flask, client: FlaskClient, api_key: str, fmt: str
) -> None:
    with database(app):
        question = db.session.scalar(
            sa.select(CategoryQuestion)
            .join(Category, Category.id == CategoryQuestion.category_id)
            .where(Category.service_code == "bus-stop", CategoryQuestion.code == "route")
        )
        assert question is not None
        question.required = True
        db.session.commit()
    _code, attributes = definition(get(client, "services/bus-stop", fmt), fmt)
    assert attributes[0]["required"] == "true"
    before = case_count(app)
    response = post(client, api_key, fmt, service_code="bus-stop", locale="en")
    assert response.status_code == 400
    assert error_list(response, fmt) == [(400, "attribute[route]: This field is required.")]
    assert case_count(app) == before
    filed(post(client, api_key, fmt, service_code="bus-stop", **{"attribute[route]": "3路"}), fmt)


def test_unknown_parameters_are_ignored(app: Flask, client: FlaskClient, api_key: str) -> None:
    response = post(
        client,
        api_key,
        device_id="device-42",
        account_id="account-7",
        favourite_colour="blue",
        **{"attribute[nothing]": "x", "attribute[": "y"},
    )
    number = filed(response)["service_request_id"]
    with database(app):
        assert case_named(number).answers == {}


def test_an_attribute_answer_is_kept_on_the_case(
    app: Flask, client: FlaskClient, api_key: str
) -> None:
    response = post(
        client,
        api_key,
        service_code="water",
        description="新建住宅楼申请自来水报装。",
        **{"attribute[pipe]": "lt100"},
    )
    number = filed(response)["service_request_id"]
    with database(app):
        assert case_named(number).answers == {"pipe": "lt100"}


@FORMATS
def test_the_media_url_is_kept_and_shown_only_with_consent(
    app: Flask, client: FlaskClient, api_key: str, fmt: str
) -> None:
    photo = "https://img.example.com/p/42.jpg"
    shown = filed(post(client, api_key, media_url=photo, consent_public="true"))
    hidden = filed(
        post(client, api_key, media_url=photo, description="建设路井盖破损，车辆经过响声很大。")
    )
    with database(app):
        for answer in (shown, hidden):
            filing = db.session.scalar(
                sa.select(ApiFiling.media_url).where(ApiFiling.token == answer["token"])
            )
            assert filing == photo
    found = by_id(list_requests(client, fmt))
    assert found[shown["service_request_id"]]["media_url"] == photo
    assert found[shown["service_request_id"]]["description"] == FILING["description"]
    assert found[hidden["service_request_id"]]["media_url"] == ""
    assert found[hidden["service_request_id"]]["description"] == ROAD_DAMAGE_ZH


def test_a_filed_case_came_by_api_awaits_acceptance_and_has_its_receipt(
    app: Flask, client: FlaskClient, api_key: str
) -> None:
    number = filed(post(client, api_key))["service_request_id"]
    with database(app):
        case = case_named(number)
        assert case.channel is Channel.API
        assert case.status is CaseStatus.NEW
        assert case.kind is CaseKind.HELP
        assert case.next_deadline_at is not None
        assert case.next_deadline_at > utcnow()
        outbox = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.case_id == case.id)
        ).all()
        assert [(m.template, m.channel, m.recipient) for m in outbox] == [
            ("receipt", OutboxChannel.SMS, CITIZEN_PHONE)
        ]
        assert outbox[0].params["number"] == number


def test_a_filing_like_an_open_request_names_it(
    client: FlaskClient, api_key: str, city_cases: dict[str, str]
) -> None:
    """Same category, nearly the same text and road as city_cases["new"]."""
    response = post(
        client,
        api_key,
        lat="",
        long="",
        address_string="红旗西街",
        description="红旗西街人行道砖块松动了，老人很容易绊倒。",
        locale="en",
    )
    notice = filed(response)["service_notice"]
    assert "It may repeat the open request" in notice
    assert city_cases["new"] in notice
    assert city_cases["petition"] not in notice and city_cases["report"] not in notice


# --- tokens -------------------------------------------------------------------------------


@FORMATS
def test_a_token_names_its_request(client: FlaskClient, api_key: str, fmt: str) -> None:
    answer = filed(post(client, api_key))
    response = get(client, f"tokens/{answer['token']}", fmt)
    assert response.status_code == 200
    found = records(response, fmt, "service_requests", "request", TOKEN_FIELDS)
    assert found == [{"service_request_id": answer["service_request_id"], "token": answer["token"]}]


@FORMATS
def test_an_unknown_token_is_404(client: FlaskClient, api_key: str, fmt: str) -> None:
    filed(post(client, api_key))
    for token in ("no-such-token", "x" * 41):
        response = get(client, f"tokens/{token}", fmt)
        assert response.status_code == 404
        assert len(error_list(response, fmt)) == 1


# --- the journey --------------------------------------------------------------------------


@pytest.mark.parametrize("consent", [True, False], ids=["consented", "not-consented"])
def test_a_filing_reaches_staff_and_closes_in_the_api(
    app: Flask, client: FlaskClient, intake_client: FlaskClient, api_key: str, consent: bool
) -> None:
    """The issue's "done when": filed through the API, seen in the intake queue,
    dispatched, signed for and answered; the API follows each step."""
    changes = {"consent_public": "true"} if consent else {}
    number = filed(post(client, api_key, **changes))["service_request_id"]

    page = intake_client.get("/staff/queue")
    assert page.status_code == 200
    assert number in page.get_data(as_text=True)

    with database(app):
        intake.dispatch_case(
            case_named(number), staff("intake"), department("zjj").id, version=None
        )
    for fmt in ("json", "xml"):
        record = one_request(client, number, fmt)
        assert (record["status"], record["agency_responsible"]) == ("open", ZJJ_ZH)
        assert record["status_notes"] == ""

    with database(app):
        case = case_named(number)
        casework.sign_for_case(case, staff("handler"), version=None)
        casework.resolve_case(case, staff("handler"), "井盖已补装。", version=None)
    for fmt in ("json", "xml"):
        record = one_request(client, number, fmt)
        assert record["status"] == "closed"
        assert record["agency_responsible"] == ZJJ_ZH
        assert record["status_notes"] == ("井盖已补装。" if consent else "")
        assert record["description"] == (FILING["description"] if consent else ROAD_DAMAGE_ZH)
        assert number in ids(list_requests(client, fmt, status="closed"))


@FORMATS
def test_a_petition_filed_on_the_web_never_appears(
    app: Flask, client: FlaskClient, demo_base: None, fmt: str
) -> None:
    with database(app):
        petition = new_case(kind=CaseKind.PETITION).number
        public = new_case(title="建设路路灯不亮", description="建设路路灯晚上不亮。").number
    assert ids(list_requests(client, fmt)) == [public]
    assert list_requests(client, fmt, service_request_id=petition) == []
    assert petition not in ids(list_requests(client, fmt, service_code="road-damage"))
    assert get(client, f"requests/{petition}", fmt).status_code == 404


# --- rate limits --------------------------------------------------------------------------


@FORMATS
def test_reads_past_the_limit_are_429(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_OPEN311_READ", "3 per minute")
    for _ in range(3):
        assert get(client, "discovery", fmt).status_code == 200
    response = get(client, "discovery", fmt)
    assert response.status_code == 429
    assert len(error_list(response, fmt)) == 1


def test_head_requests_spend_the_read_limit_too(
    app: Flask, client: FlaskClient, demo_base: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEAD runs the same view as GET (the whole query, its answer then dropped), so once
    the limit is spent it must be refused as well."""
    monkeypatch.setitem(app.config, "RATELIMIT_OPEN311_READ", "3 per minute")
    for _ in range(3):
        assert get(client, "requests", "json").status_code == 200
    assert get(client, "requests", "json").status_code == 429
    assert client.head(f"{API}/requests.json").status_code == 429


@pytest.fixture
def second_key(app: Flask, api_key: str) -> str:
    with database(app):
        _row, raw = api_keys.create_key("街道网格App", None)
    return raw


def test_filings_are_limited_per_key(
    app: Flask,
    client: FlaskClient,
    api_key: str,
    second_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_OPEN311_POST_KEY", "2 per hour")
    filed(post(client, api_key))
    filed(post(client, api_key))
    before = case_count(app)
    response = post(client, api_key, "xml")
    assert response.status_code == 429
    assert len(error_list(response, "xml")) == 1
    assert case_count(app) == before
    filed(post(client, second_key))


def test_filings_are_limited_per_address_whatever_the_key(
    app: Flask,
    client: FlaskClient,
    api_key: str,
    second_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_OPEN311_POST_ADDRESS", "2 per hour")
    filed(post(client, api_key))
    filed(post(client, api_key))
    before = case_count(app)
    response = post(client, second_key)
    assert response.status_code == 429
    assert len(error_list(response, "json")) == 1
    assert case_count(app) == before


# --- other paths, methods and the OpenAPI document ----------------------------------------


def test_an_unknown_path_is_a_404_error_list_in_xml(client: FlaskClient) -> None:
    response = client.get(f"{API}/nothing.xml")
    assert response.status_code == 404
    assert len(error_list(response, "xml")) == 1


def test_an_unknown_format_is_a_404_error_list(client: FlaskClient) -> None:
    response = client.get(f"{API}/services.html")
    assert response.status_code == 404
    assert len(error_list(response, "json")) == 1


def test_a_method_not_allowed_is_a_405_error_list_in_json(client: FlaskClient) -> None:
    response = client.delete(f"{API}/requests.json")
    assert response.status_code == 405
    assert len(error_list(response, "json")) == 1


def test_the_openapi_document_is_served_as_built(client: FlaskClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.content_type == CONTENT_TYPES["json"]
    document = json.loads(response.data)
    assert document == openapi_document()
    for fmt in ("json", "xml"):
        posted = document["paths"][f"{API}/requests.{fmt}"]["post"]["responses"]
        assert {"201", "400", "403", "429"} <= set(posted)
