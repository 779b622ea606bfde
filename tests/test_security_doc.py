"""docs/security.md, the ASVS 5.0 level-2 map (issue 20, point 6), stays true to the
suite: every test it names (`tests/…py::name`) exists as a test function of that file,
and it has a section for each of the seventeen chapters."""

from __future__ import annotations

import ast
import re
from functools import cache

from tests.conftest import ROOT

DOC = ROOT / "docs" / "security.md"
CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
CHAPTERS = [
    "V1 Encoding and Sanitization",
    "V2 Validation and Business Logic",
    "V3 Web Frontend Security",
    "V4 API and Web Service",
    "V5 File Handling",
    "V6 Authentication",
    "V7 Session Management",
    "V8 Authorization",
    "V9 Self-contained Tokens",
    "V10 OAuth and OIDC",
    "V11 Cryptography",
    "V12 Secure Communication",
    "V13 Configuration",
    "V14 Data Protection",
    "V15 Secure Coding and Architecture",
    "V16 Security Logging and Error Handling",
    "V17 WebRTC",
]


def citations() -> list[tuple[str, str]]:
    return sorted(set(CITED.findall(DOC.read_text(encoding="utf-8"))))


@cache
def functions_in(path: str) -> frozenset[str]:
    """The test functions of a file: at module level or in a Test… class."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test_"
        ):
            names.add(node.name)
    return frozenset(names)


def test_every_test_the_map_names_exists() -> None:
    cited = citations()
    assert len(cited) > 100, "the map names too few tests to be a map"
    missing = [
        f"{path}::{name}"
        for path, name in cited
        if not (ROOT / path).is_file() or name not in functions_in(path)
    ]
    assert not missing, "docs/security.md names tests that do not exist:\n" + "\n".join(missing)


def test_every_chapter_has_its_section() -> None:
    headings = re.findall(r"^## (.+)$", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert [h for h in headings if re.match(r"V\d+ ", h)] == CHAPTERS


def test_the_check_finds_a_test_that_is_not_there() -> None:
    # The pattern and the look-up would miss nothing: a made-up name is caught.
    line = "`tests/test_security_doc.py::test_no_such_test_anywhere`"
    ((path, name),) = CITED.findall(line)
    assert name not in functions_in(path)
    assert "test_every_test_the_map_names_exists" in functions_in(path)
