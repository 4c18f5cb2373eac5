"""The preferences schema and its validation."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import BadUserInput
from subgraphs.admin.config import DEFAULTS
from subgraphs.profile.preferences import (
    CURRENCIES,
    PREFERENCES_SCHEMA,
    merge_preferences,
    validate_preferences,
)
from subgraphs.profile.validation import clean_text, normalize_phone

FULL = {
    "theme": "dark",
    "language": "en-IN",
    "notifications": {"email": True, "sms": False, "push": True},
    "currency": "INR",
}


def test_a_complete_document_is_valid() -> None:
    assert validate_preferences(FULL) == FULL
    assert validate_preferences({}) == {}
    for language in ("en", "hi", "fil", "es-419", "pt-BR"):
        assert validate_preferences({"language": language}) == {"language": language}


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"colour": "red"}, "preferences.colour"),
        ({"theme": "blue"}, "preferences.theme"),
        ({"theme": None}, "preferences.theme"),
        ({"language": "english"}, "preferences.language"),
        ({"language": "en_IN"}, "preferences.language"),
        ({"language": 7}, "preferences.language"),
        ({"notifications": {"fax": True}}, "preferences.notifications.fax"),
        ({"notifications": {"email": "yes"}}, "preferences.notifications.email"),
        ({"notifications": True}, "preferences.notifications"),
        ({"currency": "JPY"}, "preferences.currency"),
        ([], "preferences"),
        ("dark", "preferences"),
    ],
)
def test_invalid_documents_name_the_field(value: Any, field: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        validate_preferences(value)
    assert caught.value.extensions["field"] == field


def test_merge_replaces_removes_and_merges_channels() -> None:
    current = {"theme": "dark", "language": "en", "notifications": {"email": True, "sms": True}}
    merged = merge_preferences(
        current, {"theme": "light", "language": None, "notifications": {"sms": None, "push": True}}
    )
    assert merged == {"theme": "light", "notifications": {"email": True, "push": True}}
    assert current["theme"] == "dark"  # not mutated
    assert merge_preferences({}, {"notifications": {"email": False}}) == {
        "notifications": {"email": False}
    }
    with pytest.raises(BadUserInput):
        merge_preferences({}, ["theme"])
    with pytest.raises(BadUserInput):
        merge_preferences(current, {"notifications": {"fax": True}})


def test_schema_document_matches_the_validator() -> None:
    schema = PREFERENCES_SCHEMA
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"theme", "language", "notifications", "currency"}
    assert schema["properties"]["currency"]["enum"] == list(CURRENCIES)
    assert sorted(CURRENCIES) == sorted(DEFAULTS["payments.enabled_currencies"])


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("+919876543210", "+919876543210"),
        ("+91 98765-43210", "+919876543210"),
        ("+1 (415) 555.2671", "+14155552671"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_phone_numbers_are_stored_in_e164(raw: str | None, stored: str | None) -> None:
    assert normalize_phone(raw) == stored


@pytest.mark.parametrize(
    "raw", ["9876543210", "+0123456", "+1234567890123456", "+91abc", "++91987", "+1"]
)
def test_non_e164_numbers_are_refused(raw: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        normalize_phone(raw)
    assert caught.value.extensions["field"] == "phone"


def test_text_limits_and_control_characters() -> None:
    assert clean_text("  hi\n there ", field="bio", limit=10) == "hi\n there"
    assert clean_text("x" * 10, field="bio", limit=10) == "x" * 10
    with pytest.raises(BadUserInput, match="10 characters"):
        clean_text("x" * 11, field="bio", limit=10)
    with pytest.raises(BadUserInput, match="control"):
        clean_text("a\x00b", field="address", limit=10)
