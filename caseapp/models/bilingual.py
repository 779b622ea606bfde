"""Rows named in both of the city's languages."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Mapped

T = TypeVar("T")


def in_language(lang: str, zh: T, en: T) -> T:
    """``en`` for a reader of English, ``zh`` otherwise: the one place the city's two
    languages are chosen between (names, labels, a column to select)."""
    return en if lang == "en" else zh


class BilingualName:
    """A row with ``name_zh`` and ``name_en`` columns, shown in the reader's language.

    The columns stay on each model (their lengths differ); declared here only for the
    type checker, so that the mixin adds no column of its own.
    """

    if TYPE_CHECKING:
        name_zh: Mapped[str]
        name_en: Mapped[str]

    def name(self, lang: str) -> str:
        """The name in ``lang``: English for ``"en"``, Chinese otherwise."""
        return in_language(lang, self.name_zh, self.name_en)
