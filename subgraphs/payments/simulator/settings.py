"""Simulator settings: the product's Razorpay variables plus the simulator's own knobs.

Environment names are the product's (`RAZORPAY_KEY_ID`, `RAZORPAY_KEY_SECRET`,
`RAZORPAY_WEBHOOK_SECRET`) plus `RAZORPAY_WEBHOOK_URLS` (comma-separated) and `RAZORPAY_SIM_*`.
Tests pass the field names as keyword arguments instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The example MFE in development (`make dev`, MFE_PORT 4020).
DEFAULT_CORS_ORIGINS = ("http://localhost:4020", "http://127.0.0.1:4020")

Quirk = Literal["notes_dict", "empty_error_strings", "extra_fields", "drop_optional"]


class ConfigurationError(RuntimeError):
    """The simulator cannot start with this configuration; the message names the variable."""


def _env(name: str, env: str, default: Any = None, **constraints: Any) -> Any:
    if "default_factory" not in constraints:
        constraints["default"] = default
    return Field(validation_alias=AliasChoices(name, env), **constraints)


def _sim(name: str, default: Any = None, **constraints: Any) -> Any:
    return _env(name, f"RAZORPAY_SIM_{name.upper()}", default, **constraints)


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    app_env: str = _env("app_env", "APP_ENV", "development")
    key_id: str = _env("key_id", "RAZORPAY_KEY_ID", "rzp_test_simulator")
    key_secret: SecretStr | None = _env("key_secret", "RAZORPAY_KEY_SECRET")
    webhook_secret: SecretStr | None = _env("webhook_secret", "RAZORPAY_WEBHOOK_SECRET")
    webhook_urls: Annotated[list[str], NoDecode] = _env(
        "webhook_urls", "RAZORPAY_WEBHOOK_URLS", default_factory=list
    )
    # Browser origins allowed to call the simulated Checkout (the MFE's origin; comma-separated).
    cors_origins: Annotated[list[str], NoDecode] = _sim(
        "cors_origins", default_factory=lambda: list(DEFAULT_CORS_ORIGINS)
    )
    host: str = _sim("host", "127.0.0.1")
    port: int = _sim("port", 4010, ge=0, le=65535)
    # The `account_id` every webhook carries (Razorpay's merchant account id).
    account_id: str = _sim("account_id", "acc_Simulator00001")
    # Orders, payments, refunds and idempotency keys survive a restart when this is set.
    state_file: Path | None = _sim("state_file")
    # What an order created without `payment_capture` does (Razorpay's account-level setting).
    auto_capture: bool = _sim("auto_capture", True)

    # Retry policy. Razorpay retries a non-2xx answer or no answer within 5 s with exponential
    # backoff for 24 hours; here the backoff is base * 2**(attempt - 1), capped, and bounded.
    webhook_timeout_s: float = _sim("webhook_timeout_s", 5.0, gt=0)
    webhook_max_attempts: int = _sim("webhook_max_attempts", 8, ge=1)
    webhook_backoff_base_s: float = _sim("webhook_backoff_base_s", 1.0, ge=0)
    webhook_backoff_max_s: float = _sim("webhook_backoff_max_s", 60.0, ge=0)

    # Delivery habits for every event unless a /_sim request overrides them.
    webhook_duplicate: bool = _sim("webhook_duplicate", False)
    webhook_reorder: bool = _sim("webhook_reorder", False)
    webhook_delay_ms: int = _sim("webhook_delay_ms", 0, ge=0)
    webhook_fail_first: int = _sim("webhook_fail_first", 0, ge=0)
    webhook_quirks: Annotated[list[Quirk], NoDecode] = _sim("webhook_quirks", default_factory=list)

    @field_validator("webhook_urls", "webhook_quirks", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def require_secrets(self) -> tuple[str, str]:
        """The key secret and the webhook secret, or a ConfigurationError naming what is wrong."""
        if self.app_env.strip().lower() == "production":
            raise ConfigurationError("the Razorpay simulator is for development and tests only")
        missing = [
            env
            for env, value in (
                ("RAZORPAY_KEY_SECRET", self.key_secret),
                ("RAZORPAY_WEBHOOK_SECRET", self.webhook_secret),
            )
            if value is None or not value.get_secret_value().strip()
        ]
        if missing or self.key_secret is None or self.webhook_secret is None:
            raise ConfigurationError(f"{', '.join(missing)} must be set for the Razorpay simulator")
        return self.key_secret.get_secret_value(), self.webhook_secret.get_secret_value()
