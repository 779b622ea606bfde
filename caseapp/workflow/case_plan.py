"""The case plan's milestones (一案一策): which of them are late. Pure functions of dates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol, TypeVar


class DatedStep(Protocol):
    """A milestone as the rule reads it (a ``CaseMilestone`` row, for one)."""

    @property
    def due_on(self) -> date: ...

    @property
    def done_on(self) -> date | None: ...


Step = TypeVar("Step", bound=DatedStep)


def late_milestones(milestones: Iterable[Step], today: date) -> list[Step]:
    """The milestones not done whose day has passed; ``today`` is the city's local date,
    so a milestone due today is not late until tomorrow."""
    return [m for m in milestones if m.done_on is None and m.due_on < today]
