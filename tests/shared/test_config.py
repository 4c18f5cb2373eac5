from __future__ import annotations

import pytest

from shared.config import AuthSettings, ConfigurationError, PaymentsSettings, Settings


def production(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "app_env": "production",
        "database_url": "postgresql://db/bff",
        "redis_url": "redis://cache:6379/0",
        "router_hmac_secret": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "razorpay_key_id": "rzp_live_abcdef",
        "razorpay_key_secret": "s3cr3t-from-vault-0123",
    }
    values.update(overrides)
    return values


def test_development_needs_no_secrets() -> None:
    settings = Settings(app_env="development")
    assert settings.router_hmac_secret is None
    assert not settings.is_production


def test_production_accepts_real_secrets() -> None:
    settings = PaymentsSettings(**production())
    assert settings.is_production
    assert settings.secret("razorpay_key_secret") == "s3cr3t-from-vault-0123"


@pytest.mark.parametrize(
    "placeholder", ["", "changeme", "xxxxxxxx", "your-secret-here", "CHANGEME"]
)
def test_production_refuses_placeholders(placeholder: str) -> None:
    with pytest.raises(ConfigurationError, match="ROUTER_HMAC_SECRET"):
        PaymentsSettings(**production(router_hmac_secret=placeholder))


def test_production_refuses_missing_secret() -> None:
    with pytest.raises(ConfigurationError, match="RAZORPAY_KEY_SECRET"):
        PaymentsSettings(**production(razorpay_key_secret=None))


def test_production_refuses_razorpay_test_keys() -> None:
    with pytest.raises(ConfigurationError, match="rzp_test_"):
        PaymentsSettings(**production(razorpay_key_id="rzp_test_123456"))


def test_production_refuses_unsigned_traffic_and_embedded_servers() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings(**production(require_router_signature=False, database_url=None, redis_url=None))
    message = str(raised.value)
    assert "REQUIRE_ROUTER_SIGNATURE" in message
    assert "DATABASE_URL" in message
    assert "REDIS_URL" in message


def test_auth_production_needs_signing_key() -> None:
    with pytest.raises(ConfigurationError, match="JWT_PRIVATE_KEY"):
        AuthSettings(**production(smtp_host="smtp.bank.example"))


def test_secrets_never_print() -> None:
    settings = PaymentsSettings(**production())
    assert "s3cr3t" not in repr(settings)
    assert "s3cr3t" not in str(settings.model_dump())


def test_secret_names_missing_variable() -> None:
    with pytest.raises(ConfigurationError, match="RAZORPAY_KEY_SECRET"):
        Settings().secret("razorpay_key_secret")


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_PORT", "4901")
    monkeypatch.setenv("AUTH_RATE_LIMIT_PER_IP", "500")
    settings = AuthSettings()
    assert settings.port == 4901
    assert settings.auth_rate_limit_per_ip == 500
