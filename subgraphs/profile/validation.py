"""Validation of profile fields: E.164 phone numbers and text length limits."""

from __future__ import annotations

import re

from shared.errors import BadUserInput

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# Separators people type inside phone numbers; removed before checking E.164.
_SEPARATORS = re.compile(r"[ \-().]")
# Control characters other than tab and newline (NUL cannot even be stored).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

MAX_ADDRESS = 500
MAX_BIO = 1000


def normalize_phone(value: str | None) -> str | None:
    """An E.164 number (`+919876543210`), `None` for an empty value, else BAD_USER_INPUT."""
    if value is None or not value.strip():
        return None
    compact = _SEPARATORS.sub("", value.strip())
    if not E164.fullmatch(compact):
        raise BadUserInput(
            "Phone numbers are E.164: + then country code and number, at most 15 digits",
            field="phone",
        )
    return compact


def clean_text(value: str | None, *, field: str, limit: int) -> str | None:
    """Trimmed text within `limit` characters, `None` for an empty value, else BAD_USER_INPUT."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > limit:
        raise BadUserInput(f"{field} is limited to {limit} characters", field=field)
    if _CONTROL.search(text):
        raise BadUserInput(f"{field} contains control characters", field=field)
    return text
