"""User preferences: the published schema and its validation.

`PREFERENCES_SCHEMA` is a JSON Schema (draft 2020-12) document, served by the `preferencesSchema`
query and documented in docs/profile.md; `validate_preferences` enforces exactly that schema
(written out by hand: the shapes are small and errors must name the offending key). Unknown keys,
anywhere, are BAD_USER_INPUT with `field` naming the key's path (`preferences.notifications.fax`).

`updatePreferences` merges: given keys replace stored ones (`notifications` merges per channel),
a key given as `null` is removed, keys not given stay.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from shared.errors import BadUserInput

THEMES = ("light", "dark", "system")
CHANNELS = ("email", "sms", "push")
# The currencies payments are enabled in (admin's `payments.enabled_currencies` seed; a test
# keeps them equal). A later issue follows `admin:config:updated` events instead.
CURRENCIES = ("INR", "USD", "EUR", "GBP")
# BCP 47 short tags: a 2-3 letter language, optionally a region (`en`, `hi`, `en-IN`, `es-419`).
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-(?:[A-Z]{2}|[0-9]{3}))?")

PREFERENCES_SCHEMA: Mapping[str, Any] = MappingProxyType(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:payments-bff:profile:preferences:v1",
        "title": "User preferences",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "theme": {"enum": list(THEMES)},
            "language": {
                "type": "string",
                "pattern": f"^{LANGUAGE.pattern}$",
                "description": "BCP 47 short tag, e.g. en, hi, en-IN",
            },
            "notifications": {
                "type": "object",
                "additionalProperties": False,
                "properties": {channel: {"type": "boolean"} for channel in CHANNELS},
            },
            "currency": {"enum": list(CURRENCIES)},
        },
    }
)

FIELD = "preferences"


def _fail(message: str, path: str) -> BadUserInput:
    return BadUserInput(message, field=f"{FIELD}.{path}" if path else FIELD)


def _validate_notifications(value: Any) -> dict[str, bool]:
    if not isinstance(value, dict):
        raise _fail("notifications must be an object", "notifications")
    for channel, enabled in value.items():
        if channel not in CHANNELS:
            raise _fail(
                f"Unknown notification channel {channel[:32]!r}", f"notifications.{channel}"
            )
        if not isinstance(enabled, bool):
            raise _fail(
                f"notifications.{channel} must be true or false", f"notifications.{channel}"
            )
    return dict(value)


def validate_preferences(value: Any) -> dict[str, Any]:
    """A complete preferences document, checked against PREFERENCES_SCHEMA."""
    if not isinstance(value, dict):
        raise _fail("Preferences must be a JSON object", "")
    for key, item in value.items():
        if key == "theme":
            if item not in THEMES:
                raise _fail(f"theme must be one of {', '.join(THEMES)}", key)
        elif key == "language":
            if not isinstance(item, str) or not LANGUAGE.fullmatch(item):
                raise _fail("language must be a BCP 47 short tag such as en or en-IN", key)
        elif key == "notifications":
            _validate_notifications(item)
        elif key == "currency":
            if item not in CURRENCIES:
                raise _fail(f"currency must be one of {', '.join(CURRENCIES)}", key)
        else:
            raise _fail(f"Unknown preference {str(key)[:32]!r}", str(key)[:64])
    return dict(value)


def merge_preferences(current: Mapping[str, Any], changes: Any) -> dict[str, Any]:
    """`current` updated with `changes` (null removes a key), validated as a whole."""
    if not isinstance(changes, dict):
        raise _fail("Preferences must be a JSON object", "")
    merged = dict(current)
    for key, item in changes.items():
        if item is None:
            merged.pop(key, None)
        elif key == "notifications" and isinstance(item, dict):
            existing = merged.get("notifications")
            channels = dict(existing) if isinstance(existing, dict) else {}
            for channel, enabled in item.items():
                if enabled is None:
                    channels.pop(channel, None)
                else:
                    channels[channel] = enabled
            merged["notifications"] = channels
        else:
            merged[key] = item
    return validate_preferences(merged)
