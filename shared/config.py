"""One settings class for every service, specialised per service.

Values come from the environment (names are the contract's). Secrets have no defaults and are
`SecretStr`, so they never print. In `production` the process refuses to start when a secret it
needs is missing or a placeholder, or when a Razorpay test key is configured.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

_PLACEHOLDER = re.compile(r"^(|changeme|change-me|xxx.*|your[-_].*|todo|placeholder|secret)$", re.I)


class AppEnv(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ConfigurationError(RuntimeError):
    """Raised at start-up when the configuration cannot be used; the message names the variable."""


def is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip()))


class Settings(BaseSettings):
    """Settings every service reads. Subclasses name the secrets they cannot run without."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", frozen=True, populate_by_name=True
    )

    # Secrets (by env var name) the service refuses to start without in production.
    required_secrets: ClassVar[tuple[str, ...]] = ("router_hmac_secret",)

    app_env: AppEnv = AppEnv.DEVELOPMENT
    service_name: str = "bff"
    host: str = "127.0.0.1"
    port: int = 0

    database_url: str | None = None
    redis_url: str | None = None
    db_pool_size: int = 10
    data_dir: Path = REPO_ROOT / ".data"

    log_level: str = "INFO"
    log_json: bool = True

    # Tokens (issued by auth, verified everywhere).
    jwt_issuer: str = "payments-bff-auth"
    jwt_audience: str = "payments-bff"
    auth_jwks_url: str = "http://127.0.0.1:4001/.well-known/jwks.json"

    # The router signs what it sends upstream (Hive Gateway HMAC upstream signature).
    router_hmac_secret: SecretStr | None = None
    require_router_signature: bool = True

    razorpay_key_id: str | None = None
    razorpay_key_secret: SecretStr | None = None
    razorpay_webhook_secret: SecretStr | None = None
    razorpay_api_base_url: str | None = None

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.app_env is not AppEnv.PRODUCTION:
            return self
        problems: list[str] = []
        for name in self.required_secrets:
            value = getattr(self, name)
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            if raw is None or is_placeholder(str(raw)):
                problems.append(f"{name.upper()} is missing or a placeholder")
        if self.razorpay_key_id and self.razorpay_key_id.startswith("rzp_test_"):
            problems.append("RAZORPAY_KEY_ID is a test key (rzp_test_) in production")
        if not self.require_router_signature:
            problems.append("REQUIRE_ROUTER_SIGNATURE cannot be turned off in production")
        if not self.database_url:
            problems.append("DATABASE_URL is required in production")
        if not self.redis_url:
            problems.append("REDIS_URL is required in production")
        if problems:
            raise ConfigurationError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def is_production(self) -> bool:
        return self.app_env is AppEnv.PRODUCTION

    def secret(self, name: str) -> str:
        """The plain value of a secret setting, or a ConfigurationError naming it."""
        value = getattr(self, name)
        if value is None:
            raise ConfigurationError(f"{name.upper()} is not set")
        return str(value.get_secret_value() if isinstance(value, SecretStr) else value)


class AuthSettings(Settings):
    required_secrets: ClassVar[tuple[str, ...]] = (
        "router_hmac_secret",
        "jwt_private_key",
        "smtp_host",
    )

    service_name: str = "auth"
    port: int = Field(default=4001, validation_alias="AUTH_PORT")

    # PEM of the current signing key; falls back to a key file under data_dir in development.
    jwt_private_key: SecretStr | None = None
    # PEMs of previous public keys still published during a rotation, separated by blank lines.
    jwt_previous_public_keys: str = ""
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 7 * 24 * 3600

    auth_rate_limit_per_ip: int = 20
    auth_rate_limit_per_account: int = 5
    rate_limit_window_seconds: int = 15 * 60
    lockout_threshold: int = 5
    lockout_seconds: int = 15 * 60

    password_reset_ttl_seconds: int = 3600
    email_verification_ttl_seconds: int = 48 * 3600
    smtp_host: str | None = None
    smtp_port: int = 1025
    mail_from: str = "Payments BFF <no-reply@payments.example>"
    public_app_url: str = "http://localhost:3000"

    dev_seed_password: SecretStr | None = None


class PaymentsSettings(Settings):
    required_secrets: ClassVar[tuple[str, ...]] = (
        "router_hmac_secret",
        "razorpay_key_id",
        "razorpay_key_secret",
    )
    service_name: str = "payments"
    port: int = Field(default=4002, validation_alias="PAYMENTS_PORT")


class AdminSettings(Settings):
    service_name: str = "admin"
    port: int = Field(default=4003, validation_alias="ADMIN_PORT")


class ProfileSettings(Settings):
    service_name: str = "profile"
    port: int = Field(default=4004, validation_alias="PROFILE_PORT")


@lru_cache
def auth_settings() -> AuthSettings:
    return AuthSettings()


@lru_cache
def payments_settings() -> PaymentsSettings:
    return PaymentsSettings()


@lru_cache
def admin_settings() -> AdminSettings:
    return AdminSettings()


@lru_cache
def profile_settings() -> ProfileSettings:
    return ProfileSettings()
