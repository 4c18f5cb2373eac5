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

    # Dependency outages fail fast (shared/db.py, shared/redis.py): a request meeting a paused or
    # unreachable PostgreSQL or Redis is answered SERVICE_UNAVAILABLE within a few seconds.
    db_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=3.0, gt=0)  # waiting for a pooled connection
    db_statement_timeout_seconds: float = Field(default=5.0, gt=0)  # client and server side
    redis_socket_timeout_seconds: float = Field(default=2.0, gt=0)
    redis_connect_timeout_seconds: float = Field(default=2.0, gt=0)

    # METRICS_OPERATION_NAMES: operation names that may appear as the `operation_name` label of
    # bff_graphql_operations_total (comma separated); every other name is counted as `other`.
    metrics_operation_names: str = ""

    # /readyz: each check (PostgreSQL, Redis, the service's own) gets this long (shared/ops.py).
    ready_timeout_seconds: float = Field(default=2.0, gt=0)

    # Tokens (issued by auth, verified everywhere).
    jwt_issuer: str = "payments-bff-auth"
    jwt_audience: str = "payments-bff"
    auth_jwks_url: str = "http://127.0.0.1:4001/.well-known/jwks.json"

    # The router signs what it sends upstream (Hive Gateway HMAC upstream signature).
    router_hmac_secret: SecretStr | None = None
    require_router_signature: bool = True

    # ADMIN_MFA_REQUIRED: admin-scoped fields refuse ADMIN tokens issued without a second factor
    # (shared/authz.py). Unset: on in production, off elsewhere (`admin_mfa_enforced`).
    admin_mfa_required: bool | None = None

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

    @property
    def admin_mfa_enforced(self) -> bool:
        if self.admin_mfa_required is None:
            return self.is_production
        return self.admin_mfa_required

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
        "totp_encryption_key",
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

    # TOTP (subgraphs/auth/mfa.py): base64 of 32 random bytes from the secret store; TOTP secrets
    # are encrypted with it (AES-256-GCM) and recovery codes keyed-hashed. Development without
    # it: `<data_dir>/secrets/totp_encryption_key`, created once (devtools/devstack.py).
    totp_encryption_key: SecretStr | None = None
    totp_issuer: str = "Payments BFF"
    mfa_token_ttl_seconds: int = 300


class PaymentsSettings(Settings):
    required_secrets: ClassVar[tuple[str, ...]] = (
        "router_hmac_secret",
        "razorpay_key_id",
        "razorpay_key_secret",
    )
    service_name: str = "payments"
    port: int = Field(default=4002, validation_alias="PAYMENTS_PORT")

    # Calls to Razorpay (subgraphs/payments/provider/razorpay.py): the SDK runs in a worker thread
    # with this timeout; safe calls are tried up to `max_attempts` times; the circuit opens after
    # `breaker_threshold` consecutive failures and lets a trial call through after the cool-down.
    razorpay_timeout_seconds: float = Field(default=10.0, gt=0)
    razorpay_max_attempts: int = Field(default=3, ge=1)
    razorpay_retry_backoff_seconds: float = Field(default=0.25, ge=0)
    razorpay_breaker_threshold: int = Field(default=5, ge=1)
    razorpay_breaker_cooldown_seconds: float = Field(default=30.0, ge=0)

    # Reconciliation (subgraphs/payments/reconciliation/): every `interval` (0 = off) one replica
    # asks Razorpay about PROCESSING payments older than `older_than` and FAILED ones (late
    # captures) changed within `window`, `batch_size` at a time.
    reconcile_interval_seconds: float = Field(default=60.0, ge=0)
    reconcile_older_than_seconds: float = Field(default=900.0, ge=0)
    reconcile_window_seconds: float = Field(default=7 * 24 * 3600.0, gt=0)
    reconcile_batch_size: int = Field(default=100, ge=1)

    # Ledger (subgraphs/payments/ledger/): a vendor's money is `pending` until its capture is
    # older than the settlement delay of the payment's priority, `available` after; every
    # `ledger_verify_interval` (0 = off) one replica recomputes the hash chain, `batch` rows at
    # a time.
    settlement_delay_standard_seconds: float = Field(default=2 * 24 * 3600.0, ge=0)
    settlement_delay_instant_seconds: float = Field(default=0.0, ge=0)
    ledger_verify_interval_seconds: float = Field(default=24 * 3600.0, ge=0)
    ledger_verify_batch_size: int = Field(default=1000, ge=1)
    # Every `ledger_reconcile_interval` (0 = off) one replica compares the previous UTC day of
    # the ledger with Razorpay's payment and refund lists (reconciliation/ledger.py).
    ledger_reconcile_interval_seconds: float = Field(default=24 * 3600.0, ge=0)

    # Live updates (subgraphs/payments/live/): live `paymentUpdated` subscriptions allowed per
    # WebSocket connection and per user (across connections and replicas: Redis slots that expire
    # `slot_ttl` after their process stops refreshing them); one pub/sub connection per process
    # fans out to per-subscriber queues of `queue_size` (a subscriber that falls that far behind
    # is dropped); the live-update Redis client holds at most `redis_max_connections`.
    ws_max_subscriptions_per_connection: int = Field(default=20, ge=1)
    ws_max_subscriptions_per_user: int = Field(default=50, ge=1)
    ws_subscription_slot_ttl_seconds: float = Field(default=60.0, gt=0)
    live_updates_queue_size: int = Field(default=32, ge=1)
    live_updates_redis_max_connections: int = Field(default=4, ge=2)

    def razorpay_base_url(self) -> str:
        """RAZORPAY_API_BASE_URL, else Razorpay itself in production and the bundled simulator
        (`python -m subgraphs.payments.simulator`, :4010) elsewhere. The SDK appends `/v1`."""
        if self.razorpay_api_base_url:
            return self.razorpay_api_base_url.rstrip("/")
        return "https://api.razorpay.com" if self.is_production else "http://127.0.0.1:4010"


class AdminSettings(Settings):
    service_name: str = "admin"
    port: int = Field(default=4003, validation_alias="ADMIN_PORT")

    # systemHealth (subgraphs/admin/health.py): where each process answers its readiness. The
    # subgraphs' come from the router's *_SUBGRAPH_URL (path /graphql -> /readyz).
    router_health_url: str = "http://127.0.0.1:4000/readiness"
    webhooks_health_url: str = "http://127.0.0.1:4005/readyz"
    auth_subgraph_url: str = "http://127.0.0.1:4001/graphql"
    payments_subgraph_url: str = "http://127.0.0.1:4002/graphql"
    profile_subgraph_url: str = "http://127.0.0.1:4004/graphql"
    # Each check's bound; a check answering in more than half of it is DEGRADED (slow).
    health_check_timeout_seconds: float = Field(default=2.0, gt=0, le=10)


class ProfileSettings(Settings):
    service_name: str = "profile"
    port: int = Field(default=4004, validation_alias="PROFILE_PORT")

    # Where re-encoded avatars are stored (served at GET /avatars/{file}); default
    # `<data_dir>/avatars`.
    avatar_dir: Path | None = None
    # uploadAvatar attempts per user (each decodes an image: CPU) within the window.
    avatar_upload_limit: int = Field(default=10, ge=1)
    avatar_upload_window_seconds: int = Field(default=900, ge=1)

    @property
    def avatars_path(self) -> Path:
        return self.avatar_dir if self.avatar_dir is not None else self.data_dir / "avatars"


class WebhookSettings(Settings):
    """The Razorpay webhook sidecar (`subgraphs.payments.webhooks`, :4005). It serves no GraphQL,
    so it needs no router secret; without a webhook secret it refuses every delivery (and in
    production it refuses to start)."""

    required_secrets: ClassVar[tuple[str, ...]] = ("razorpay_webhook_secret",)

    service_name: str = "webhooks"
    port: int = Field(default=4005, validation_alias="WEBHOOK_PORT")
    db_pool_size: int = 5

    # During a rotation: the old secret, still accepted until Razorpay signs with the new one.
    razorpay_webhook_previous_secret: SecretStr | None = None

    webhook_max_body_bytes: int = 1_000_000
    # Razorpay waits 5 s: a delivery is answered once stored (503 past `store_timeout`); the
    # worker applies it.
    webhook_store_timeout_seconds: float = 2.0
    webhook_db_connect_timeout_seconds: float = 2.0
    webhook_statement_timeout_ms: int = 3_000
    webhook_lock_timeout_ms: int = 1_500

    webhook_worker_enabled: bool = True
    webhook_worker_interval_seconds: float = 2.0
    webhook_worker_batch_size: int = 50
    # Events of different payments applied at once (those of one payment stay in order).
    webhook_worker_concurrency: int = Field(default=4, ge=1)
    webhook_max_attempts: int = 10
    # An event for an order we do not know yet (the order may still be committing).
    webhook_unknown_order_max_attempts: int = 5
    webhook_backoff_base_seconds: float = 5.0
    webhook_backoff_max_seconds: float = 900.0
    # Stored events applied longer ago than this are pruned by the worker (hourly); events not yet
    # applied (waiting or parked) never are. At least a day: Razorpay retries for 24 hours.
    webhook_event_retention_days: float = Field(default=30.0, ge=1)

    @model_validator(mode="after")
    def _check_previous_secret(self) -> WebhookSettings:
        previous = self.razorpay_webhook_previous_secret
        if (
            self.app_env is AppEnv.PRODUCTION
            and previous is not None
            and previous.get_secret_value()
            and is_placeholder(previous.get_secret_value())
        ):
            raise ConfigurationError(
                "refusing to start in production: RAZORPAY_WEBHOOK_PREVIOUS_SECRET is a placeholder"
            )
        return self

    @model_validator(mode="after")
    def _check_someone_applies(self) -> WebhookSettings:
        # Tests run the worker by hand (`worker.run_once()`) with the background loop off.
        if not self.webhook_worker_enabled and self.app_env is not AppEnv.TEST:
            raise ConfigurationError(
                "the sidecar answers once an event is stored and leaves applying it to the "
                "worker: WEBHOOK_WORKER_ENABLED=false would apply nothing"
            )
        return self

    def webhook_secrets(self) -> list[tuple[str, str]]:
        """(`current` | `previous`, value) of each configured, non-empty webhook secret."""
        found: list[tuple[str, str]] = []
        for label, value in (
            ("current", self.razorpay_webhook_secret),
            ("previous", self.razorpay_webhook_previous_secret),
        ):
            if value is not None and value.get_secret_value():
                found.append((label, value.get_secret_value()))
        return found


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


@lru_cache
def webhook_settings() -> WebhookSettings:
    return WebhookSettings()
