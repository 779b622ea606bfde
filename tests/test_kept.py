"""Figures kept a while by each process (caseapp.kept): computed once per key and
age, again when older, never kept at 0, the oldest key let go first."""

from __future__ import annotations

import pytest

from caseapp.kept import Keeper

pytestmark = pytest.mark.database_free


def test_an_answer_is_kept_for_its_age_then_computed_again() -> None:
    ticks = [1000.0]
    calls: list[str] = []
    keeper: Keeper[str] = Keeper(size=2, clock=lambda: ticks[0])

    def compute(key: str) -> str:
        calls.append(key)
        return f"{key}@{ticks[0]}"

    assert keeper.get("a", 300, lambda: compute("a")) == "a@1000.0"
    ticks[0] += 300
    assert keeper.get("a", 300, lambda: compute("a")) == "a@1000.0"  # still young enough
    ticks[0] += 1
    assert keeper.get("a", 300, lambda: compute("a")) == "a@1301.0"
    assert keeper.get("a", 0, lambda: compute("a")) == "a@1301.0"  # 0: computed every time
    assert calls == ["a", "a", "a"]


def test_the_oldest_key_goes_first() -> None:
    keeper: Keeper[int] = Keeper(size=2, clock=lambda: 0.0)
    keeper.get("a", 60, lambda: 1)
    keeper.get("b", 60, lambda: 2)
    keeper.get("a", 60, lambda: 99)  # a used again: b is now the oldest
    keeper.get("c", 60, lambda: 3)
    assert keeper.get("a", 60, lambda: 100) == 1
    assert keeper.get("b", 60, lambda: 200) == 200
