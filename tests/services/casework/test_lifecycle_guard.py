"""Only the lifecycle's one function sets a case's status (DESIGN §3, STYLE habit 4)."""

from __future__ import annotations

import re

from tests.conftest import ROOT

ASSIGNS_STATUS = re.compile(r"\b(case|into|review|survivor|target_case)\.status\s*=[^=]")


def test_no_code_but_apply_action_sets_a_case_status() -> None:
    offenders = []
    the_one_place = ROOT / "caseapp" / "services" / "casework" / "lifecycle.py"
    assert the_one_place.exists()
    for path in (ROOT / "caseapp").rglob("*.py"):
        if path == the_one_place:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ASSIGNS_STATUS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_guard_would_catch_an_assignment() -> None:
    assert ASSIGNS_STATUS.search("        case.status = CaseStatus.CLOSED")
    assert not ASSIGNS_STATUS.search("if case.status == CaseStatus.CLOSED:")
