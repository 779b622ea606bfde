"""Marks service messages for translation without tying services to Flask-Babel.

A service raises ``ValidationFailed`` with ``field_errors`` whose values are fixed English
sentences wrapped in ``N_``; ``make translations`` extracts them and the web layer shows
them through ``gettext``.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark only"
    return message


class Message:
    """A translatable message with parameters: ``str()`` gives the English text, the web
    layer translates ``msgid`` and fills in ``params``."""

    def __init__(self, msgid: str, **params: object) -> None:
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        return self.msgid % self.params if self.params else self.msgid

    def __repr__(self) -> str:
        return f"Message({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __contains__(self, text: str) -> bool:
        return text in str(self)
