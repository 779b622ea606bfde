"""The domain errors (services.errors): one base class a view catches, four kinds it maps
to 400/403/404/409, each carrying its message and the reasons by form field."""

from __future__ import annotations

import pytest

from caseapp.services.errors import (
    DomainError,
    NotAllowed,
    NotFound,
    StaleVersion,
    ValidationFailed,
)

KINDS = [ValidationFailed, NotAllowed, NotFound, StaleVersion]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_every_kind_is_a_domain_error_and_no_other_kind(kind: type[DomainError]) -> None:
    error = kind("refused")
    assert isinstance(error, DomainError) and isinstance(error, Exception)
    assert [other for other in KINDS if isinstance(error, other)] == [kind]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_a_domain_error_is_caught_as_such_and_keeps_its_message(kind: type[DomainError]) -> None:
    with pytest.raises(DomainError, match="no case YC2026-000001") as caught:
        raise kind("no case YC2026-000001")
    assert type(caught.value) is kind
    assert caught.value.message == str(caught.value) == "no case YC2026-000001"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_reasons_by_field_default_to_none_and_are_not_shared(kind: type[DomainError]) -> None:
    first, second = kind("a"), kind()
    assert first.field_errors == {} and second.field_errors == {} and second.message == ""
    first.field_errors["title"] = "This field is required."
    assert second.field_errors == {}
    assert kind().field_errors == {}


def test_the_reasons_given_are_kept_as_given() -> None:
    reasons = {"title": "This field is required.", "milestones": {0: {"text": "Too long"}}}
    error = ValidationFailed("the request was not filed", reasons)
    assert error.field_errors == reasons
    assert error.message == "the request was not filed"
