"""Fixtures for the Open311 API's tests: the demo city, a key, and a few cases."""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree import ElementTree

import pytest
from flask import Flask

from caseapp.extensions import db
from caseapp.models.enums import CaseKind, CaseStatus
from caseapp.services.admin import api_keys
from tests.factories import case_in

API = "/open311/v2"


@pytest.fixture
def api_key(app: Flask, demo_base: None) -> Iterator[str]:
    """A key in use, as the API's caller sends it."""
    with app.app_context():
        _row, raw = api_keys.create_key("区便民服务App", None)
        db.session.remove()
    yield raw


@pytest.fixture
def city_cases(app: Flask, demo_base: None) -> dict[str, str]:
    """Case numbers by what they are: a new request, one in progress, one answered and
    shown publicly, a petition, and a report."""
    with app.app_context():
        numbers = {
            "new": case_in(CaseStatus.NEW).number,
            "in_progress": case_in(CaseStatus.IN_PROGRESS).number,
            "closed_public": case_in(
                CaseStatus.CLOSED,
                consent_public=True,
                latitude=35.026412,
                longitude=111.007283,
                address="红旗西街25号院3单元",
            ).number,
            "petition": case_in(CaseStatus.IN_PROGRESS, kind=CaseKind.PETITION).number,
            "report": case_in(CaseStatus.NEW, kind=CaseKind.REPORT).number,
        }
        db.session.remove()
    return numbers


def parse_xml(data: bytes) -> ElementTree.Element:
    """The answer's root element; the document must declare UTF-8."""
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return ElementTree.fromstring(data)


def children(element: ElementTree.Element) -> list[str]:
    return [child.tag for child in element]
