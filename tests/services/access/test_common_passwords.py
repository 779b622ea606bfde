"""``access.common_passwords``: a password is common when it is on zxcvbn's list of
leaked passwords or the app's own additions (``EXTRA``), ignoring case, or when it is a
listed word of at least four letters with only digits or symbols added at its end."""

from __future__ import annotations

import pytest

from caseapp.services.access import common_passwords
from caseapp.services.access.common_passwords import EXTRA, _known, is_common


@pytest.mark.parametrize("password", sorted(EXTRA))
def test_every_extra_password_is_common_in_any_case(password: str) -> None:
    assert password in _known()
    assert is_common(password)
    assert is_common(password.upper())


@pytest.mark.parametrize(
    "password",
    ["Password2024!", "iloveyou!!", "dragon_2026", "Mima@@@123", "sunshine#1", "zhengfu888"],
)
def test_a_listed_word_with_digits_or_symbols_added_at_the_end_is_common(password: str) -> None:
    assert is_common(password)


@pytest.mark.parametrize(
    "password",
    [
        "2024password",  # added in front, not at the end
        "pass-word",  # a symbol inside the word
        "dragonfly-orbit",  # a listed word followed by letters
        "tram orchard 42",
        "xh7-pq2-mw9-kt4",
    ],
)
def test_words_changed_otherwise_are_not_common(password: str) -> None:
    assert not is_common(password)


def test_a_base_shorter_than_four_letters_is_not_stretched_to_the_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(common_passwords, "_known", lambda: frozenset({"abc", "mima"}))
    assert is_common("ABC")  # listed whole
    assert not is_common("abc-98765!")  # too short a base to judge by
    assert is_common("mima2024!")  # four letters are enough


def test_a_tail_only_password_is_judged_whole() -> None:
    # Nothing remains once the tail goes: only the list itself can call it common.
    assert is_common("123456")
    assert not is_common("!9@8#7$6%5^4&3")


def test_the_list_is_read_once() -> None:
    assert _known() is _known()
