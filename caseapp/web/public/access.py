"""Which cases this browser's session may open as their citizen (after a private link or
a one-time code), and as whom: the filer (0) or a follower (their id)."""

from __future__ import annotations

from flask import session

SESSION_KEY = "citizen_cases"
MAX_CASES = 20  # the cookie stays small


def grant(number: str, follower_id: int | None) -> None:
    cases = dict(session.get(SESSION_KEY, {}))
    cases.pop(number, None)
    cases[number] = follower_id or 0
    while len(cases) > MAX_CASES:
        cases.pop(next(iter(cases)))
    session[SESSION_KEY] = cases


def has_access(number: str) -> bool:
    return number in session.get(SESSION_KEY, {})


def follower_of(number: str) -> int | None:
    """None for the filer, else the follower's id. Call only after ``has_access``."""
    return session.get(SESSION_KEY, {}).get(number) or None
