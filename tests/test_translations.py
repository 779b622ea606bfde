"""Every user-visible string has its Chinese, its English holds no Chinese, and the
compiled catalogue is current."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import ROOT

PO = ROOT / "caseapp/translations/zh/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")

# CJK ideographs, CJK punctuation and full-width forms.
HAN = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
# English that names Chinese on purpose: the status words a ledger file may hold.
CHINESE_NAMED = {
    "%(value)s is not a status: write open, in_progress or written_off (in Chinese 未启动, 推进中 or 已销号).",
    "open, in_progress or written_off (in Chinese 未启动, 推进中 or 已销号); open when empty.",
}  # fmt: skip


def _extract(tmp_path: Path) -> set[str]:
    pot = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-k", "N_", "--omit-header", "--ignore-dirs", ".* __pycache__", "-o", str(pot),
         "caseapp", "templates", "config.py"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_every_string_in_the_code_has_a_translation(tmp_path: Path) -> None:
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    in_code = _extract(tmp_path)
    # One from Python, one from a page, one from a macro under templates/_macros/.
    assert {"Case queue", "Tell the city what needs fixing", "There is a problem"} <= in_code
    missing = in_code - translated
    assert not missing, f"run `make translations` and translate: {sorted(missing)}"


def test_compiled_catalogue_matches_the_po_file() -> None:
    with PO.open("rb") as fh:
        po = {m.id: m.string for m in read_po(fh) if m.id and not m.fuzzy}
    with MO.open("rb") as fh:
        mo = {m.id: m.string for m in read_mo(fh) if m.id}
    assert mo == po, "run `make translations` to recompile messages.mo"


def test_the_english_of_every_string_holds_no_chinese(tmp_path: Path) -> None:
    """The English interface shows the strings as the code writes them: a Chinese term
    added as a gloss is Chinese on an English page (the crawl of
    tests/web/test_one_language.py reaches only some pages; this reads them all)."""
    in_code = {" ".join(m) if isinstance(m, tuple) else m for m in _extract(tmp_path)}
    chinese = {s for s in in_code if HAN.search(s)} - CHINESE_NAMED
    assert not chinese, f"write these in English only: {sorted(chinese)}"
