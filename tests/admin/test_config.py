"""The typed system configuration keys."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import BadUserInput
from subgraphs.admin.config import DEFAULTS, config_type, validate_config

GOOD_LIMITS = {"minimum": "1.00", "perTransaction": "10.00", "daily": "10.00", "monthly": "20"}


def test_defaults_are_valid() -> None:
    for key, value in DEFAULTS.items():
        assert validate_config(key, value) == value
        assert config_type(key).description


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("payments.enabled_currencies", [], "value"),
        ("payments.enabled_currencies", ["INR", "INR"], "value"),
        ("payments.enabled_currencies", ["inr"], "value"),
        ("payments.enabled_currencies", "INR", "value"),
        ("payments.limits.INR", {**GOOD_LIMITS, "minimum": 1.0}, "value"),
        ("payments.limits.INR", {**GOOD_LIMITS, "minimum": "1e2"}, "value"),
        ("payments.limits.INR", {**GOOD_LIMITS, "extra": "1"}, "value"),
        ("payments.limits.INR", {**GOOD_LIMITS, "minimum": "0"}, "value"),
        ("payments.limits.INR", {**GOOD_LIMITS, "daily": "5.00"}, "value"),
        ("payments.limits.INR", [], "value"),
        ("payments.limits.inr", GOOD_LIMITS, "key"),
        ("feature.flags", {}, "key"),
    ],
)
def test_bad_values_are_refused(key: str, value: Any, field: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        validate_config(key, value)
    assert caught.value.extensions["field"] == field
