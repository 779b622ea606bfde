"""Checks shared by the web form, staff intake and the API."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from caseapp.models.types import ID_MAX

# C0/C1 control characters other than tab, newline and carriage return; and U+FFFD, which
# stands for bytes that were not UTF-8 (Werkzeug decodes a request's text with
# replacement): text damaged on its way is refused, not stored with holes in it.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
# Line ends other than LF that a browser or a client may send: CR alone and the Unicode
# line and paragraph separators. Text is stored with LF only, so that one check ("\n" in
# it) finds a line break wherever one line is expected.
_LINE_ENDS = re.compile("\r\n?|[\u2028\u2029]")
_PHONE_CHARACTERS = re.compile(r"[0-9+\-() .]+")


# Bidirectional embeddings, overrides and isolates: they make a title or a name read
# differently from what it holds (an RLO turns "gpj.exe" round).
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Characters that render as nothing or as blank space, beyond the categories below.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a control character (tab and line ends aside) or the
    replacement character of bytes that were not UTF-8."""
    return bool(_CONTROL.search(text))


def has_bidi_controls(text: str) -> bool:
    """Whether ``text`` holds a bidirectional embedding, override or isolate."""
    return bool(_BIDI_CONTROLS.search(text))


def has_visible_characters(text: str) -> bool:
    """Whether ``text`` shows anything: not only spaces, zero-width and other format
    characters, or combining marks with nothing to combine with."""
    return any(
        unicodedata.category(c) not in _INVISIBLE_CATEGORIES and c not in _BLANK_LETTERS
        for c in text
    )


# The longest text read as a number (ID_MAX has 10 digits); also keeps int() away from
# Python's limit on long digit strings.
MAX_DIGITS = 18


def parse_int(raw: object, *, minimum: int, maximum: int) -> int | None:
    """The integer ``raw`` spells in ASCII digits (an optional leading minus), if it lies
    in ``minimum .. maximum``; else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, str):
        text = raw.strip()
        digits = text[1:] if text.startswith("-") else text
        if not (0 < len(digits) <= MAX_DIGITS and digits.isascii() and digits.isdigit()):
            return None
        number = int(text)
    else:
        return None
    return number if minimum <= number <= maximum else None


def parse_id(raw: object) -> int | None:
    """The row id ``raw`` names (1 .. ``ID_MAX``), else None."""
    return parse_int(raw, minimum=1, maximum=ID_MAX)


def parse_ids(values: Iterable[object]) -> list[int]:
    """The ids among ``values``, in order, without repeats; the rest are left out."""
    found: list[int] = []
    for value in values:
        number = parse_id(value)
        if number is not None and number not in found:
            found.append(number)
    return found


# Dates any input may name (report periods, targets, milestones, filters, imported
# ledgers): far enough either way for the city's records, near enough that no date
# arithmetic overflows. Narrower rules (a filing date) are the services' own.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def clean_text(text: str | None) -> str:
    """Trimmed text with every line end (CRLF, CR, U+2028, U+2029) made LF."""
    return _LINE_ENDS.sub("\n", text or "").strip()


def normalise_phone(raw: str, *, mobile_only: bool) -> str | None:
    """A Chinese phone number in national digits (e.g. 13812345678, 03592345678), or
    None if it is not a valid one (not a mobile number, when ``mobile_only``)."""
    raw = (raw or "").strip()
    # Digits and the usual separators only: phonenumbers would read letters as keypad
    # digits ("138abcd5678" is not a phone number a citizen can be called on).
    if not raw or len(raw) > 32 or not _PHONE_CHARACTERS.fullmatch(raw):
        return None
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    kind = phonenumbers.number_type(number)
    mobile_kinds = {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
    if mobile_only and kind not in mobile_kinds:
        return None
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.sub(r"\D", "", national)


def normalise_email(raw: str) -> str | None:
    """The address in normal form, or None if it is not a valid one (no DNS look-up)."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def mask_phone(phone: str) -> str:
    """138****1234: the first three and last four digits."""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def mask_name(name: str) -> str:
    """王** / 王*明: the family name (and last character of long names) only."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
