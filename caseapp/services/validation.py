"""Checks shared by the web form, staff intake and the API."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# C0/C1 control characters other than tab, newline and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_PHONE_CHARACTERS = re.compile(r"[0-9+\-() .]+")


def has_control_characters(text: str) -> bool:
    return bool(_CONTROL.search(text))


def clean_text(text: str | None) -> str:
    """Trimmed text with Windows line ends made plain."""
    return (text or "").replace("\r\n", "\n").strip()


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
