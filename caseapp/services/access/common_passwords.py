"""Common passwords: the 30,000 most used ones that zxcvbn ships (from leaked password
sets), and a few more that Chinese users and this app's own demo make common.

Nothing is fetched at run time: both lists are in the installed code.
"""

from __future__ import annotations

import re
from functools import cache

# Bases and whole passwords common in China that zxcvbn's English-leaning list lacks,
# and the demo accounts' password, which the README publishes.
EXTRA = frozenset(
    {
        "demo-password",
        "changeme",
        "wodemima",
        "mima",
        "mima123456",
        "woaini1314",
        "woaini520",
        "zhengfu",
        "zhengwu",
        "root",
        "admin@123",
        "1qaz@wsx",
        "1qaz!qaz",
        "qwe!@#123",
    }
)

# What people add to a common word to pass a length rule: digits and symbols at the end.
_ADDED_TAIL = re.compile(r"[\W\d_]+$")
_SHORTEST_BASE = 4


@cache
def _known() -> frozenset[str]:
    # Imported here: the module holds about 100,000 words, needed only when a password
    # is chosen.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | EXTRA


def is_common(password: str) -> bool:
    """True for a listed password, ignoring case, or a listed one with only digits or
    symbols added at the end (``Password2024!``)."""
    known = _known()
    lowered = password.lower()
    if lowered in known:
        return True
    base = _ADDED_TAIL.sub("", lowered)
    return len(base) >= _SHORTEST_BASE and base in known
