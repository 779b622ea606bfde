"""Translatable service messages (services.messages): ``N_`` marks a fixed sentence and
returns it unchanged; a ``Message`` keeps its msgid and parameters for the web layer and
reads, compares and hashes as its English text."""

from __future__ import annotations

import pytest

from caseapp.services.messages import N_, Message

DAY = "The date received cannot be before %(day)s."


@pytest.mark.parametrize("text", ["This field is required.", "", "含中文 %(day)s"])
def test_n_marks_and_returns_the_text_itself(text: str) -> None:
    assert N_(text) is text


def test_a_message_keeps_its_msgid_and_params_for_the_translation() -> None:
    message = Message(DAY, day="2000-01-01")
    assert message.msgid == DAY
    assert message.params == {"day": "2000-01-01"}


def test_str_fills_the_parameters_in() -> None:
    assert str(Message(DAY, day="2000-01-01")) == "The date received cannot be before 2000-01-01."
    assert repr(Message(DAY, day="2000-01-01")) == (
        "Message('The date received cannot be before 2000-01-01.')"
    )


def test_without_parameters_a_percent_sign_stays_as_written() -> None:
    """No %-formatting without params: a literal "%" must not raise or be eaten."""
    assert str(Message("At most 100% of the period.")) == "At most 100% of the period."
    assert str(Message(DAY)) == DAY


def test_a_message_equals_its_english_text_and_hashes_as_it() -> None:
    message = Message(DAY, day="2000-01-01")
    text = "The date received cannot be before 2000-01-01."
    assert message == text and message == Message(DAY, day="2000-01-01")
    assert message != Message(DAY, day="2001-01-01") and message != DAY
    assert hash(message) == hash(text)
    assert {message, Message(DAY, day="2000-01-01"), text} == {text}


def test_in_looks_for_text_inside_the_filled_in_message() -> None:
    message = Message(DAY, day="2000-01-01")
    assert "2000-01-01" in message and "cannot be before" in message
    assert "%(day)s" not in message and "2001" not in message


def test_field_errors_compare_equal_to_plain_sentences() -> None:
    """Tests and views compare ``field_errors`` with the English sentence."""
    assert {"received_at": Message(DAY, day="2000-01-01")} == {
        "received_at": "The date received cannot be before 2000-01-01."
    }
