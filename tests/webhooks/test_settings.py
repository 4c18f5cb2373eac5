"""WebhookSettings: names, defaults, rotation and the production guard; the retry policy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.config import ConfigurationError, WebhookSettings
from shared.errors import Conflict
from subgraphs.payments.webhooks.dispatch import RetryPolicy, describe
from subgraphs.payments.webhooks.payloads import PayloadError

PROD = {
    "app_env": "production",
    "database_url": "postgresql://db/payments",
    "redis_url": "redis://cache",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "APP_ENV",
        "WEBHOOK_PORT",
        "RAZORPAY_WEBHOOK_SECRET",
        "RAZORPAY_WEBHOOK_PREVIOUS_SECRET",
        "DATABASE_URL",
        "REDIS_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_and_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    assert WebhookSettings().port == 4005
    assert WebhookSettings().service_name == "webhooks"
    assert WebhookSettings().webhook_worker_interval_seconds == 2.0
    monkeypatch.setenv("WEBHOOK_PORT", "4999")
    monkeypatch.setenv("RAZORPAY_WEBHOOK_SECRET", "s3cret-current")
    monkeypatch.setenv("RAZORPAY_WEBHOOK_PREVIOUS_SECRET", "s3cret-old")
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "4")

    settings = WebhookSettings()

    assert settings.port == 4999
    assert settings.webhook_max_attempts == 4
    assert settings.webhook_secrets() == [("current", "s3cret-current"), ("previous", "s3cret-old")]
    assert "s3cret" not in repr(settings)


def test_empty_secrets_are_not_secrets() -> None:
    settings = WebhookSettings(razorpay_webhook_secret="", razorpay_webhook_previous_secret="")
    assert settings.webhook_secrets() == []


def test_production_needs_a_real_webhook_secret() -> None:
    with pytest.raises(ConfigurationError, match="RAZORPAY_WEBHOOK_SECRET is missing"):
        WebhookSettings(**PROD)
    with pytest.raises(ConfigurationError, match="RAZORPAY_WEBHOOK_SECRET is missing"):
        WebhookSettings(**PROD, razorpay_webhook_secret="changeme")
    with pytest.raises(ConfigurationError, match="RAZORPAY_WEBHOOK_PREVIOUS_SECRET"):
        WebhookSettings(
            **PROD, razorpay_webhook_secret="a-real-one", razorpay_webhook_previous_secret="xxx"
        )
    ok = WebhookSettings(**PROD, razorpay_webhook_secret="a-real-one")
    assert ok.webhook_secrets() == [("current", "a-real-one")]


def test_the_worker_cannot_be_turned_off_outside_tests() -> None:
    """Deliveries are answered once stored and only the worker applies them."""
    with pytest.raises(ConfigurationError, match="would apply nothing"):
        WebhookSettings(app_env="development", webhook_worker_enabled=False)
    assert WebhookSettings().webhook_worker_enabled
    assert WebhookSettings().webhook_worker_concurrency == 4
    assert not WebhookSettings(app_env="test", webhook_worker_enabled=False).webhook_worker_enabled


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(
        max_attempts=10,
        unknown_order_max_attempts=4,
        backoff_base_seconds=5,
        backoff_max_seconds=60,
    )
    assert [policy.delay(n).total_seconds() for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert policy.delay(0) == timedelta(seconds=5)
    assert policy.limit("unknown_order") == 4
    assert policy.limit("error") == 10


def test_describe_keeps_domain_messages_and_only_the_type_of_others() -> None:
    assert describe(Conflict("A COMPLETED payment cannot become FAILED")) == (
        "Conflict: A COMPLETED payment cannot become FAILED"
    )
    assert describe(PayloadError("payload.payment.entity is missing")) == (
        "PayloadError: payload.payment.entity is missing"
    )
    assert describe(RuntimeError("password=hunter2")) == "RuntimeError"
