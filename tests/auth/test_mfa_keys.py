"""TOTP_ENCRYPTION_KEY: required and never a placeholder in production, created once in
development, refused when malformed; what it encrypts is bound to the user."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from shared.config import AuthSettings, ConfigurationError
from subgraphs.auth.mfa_crypto import MfaKeys, generate_key
from tests.shared.test_config import production


def _production(**overrides: object) -> dict[str, object]:
    return production(
        smtp_host="smtp.bank.example",
        jwt_private_key="-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
        **overrides,
    )


def test_production_requires_the_key() -> None:
    with pytest.raises(ConfigurationError, match="TOTP_ENCRYPTION_KEY"):
        AuthSettings(**_production())
    for placeholder in ("changeme", "your-totp-key", "xxxxxxxx", ""):
        with pytest.raises(ConfigurationError, match="TOTP_ENCRYPTION_KEY"):
            AuthSettings(**_production(totp_encryption_key=placeholder))
    AuthSettings(**_production(totp_encryption_key=generate_key()))


def test_development_key_is_created_once(tmp_path: Path) -> None:
    settings = AuthSettings(app_env="development", data_dir=tmp_path)
    keys = MfaKeys.from_settings(settings)
    key_file = tmp_path / "secrets" / "totp_encryption_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = MfaKeys.from_settings(settings)
    assert again.code_hash("abcd-efgh") == keys.code_hash("abcd-efgh")


def test_missing_key_outside_development_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="TOTP_ENCRYPTION_KEY"):
        MfaKeys.from_settings(AuthSettings(app_env="test", data_dir=tmp_path))


@pytest.mark.parametrize("bad", ["not base64 !", "c2hvcnQ=", generate_key() + "AAAA"])
def test_malformed_key_refused(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="32 random bytes"):
        MfaKeys.from_key(bad)


def test_secrets_are_sealed_per_user_and_codes_keyed() -> None:
    keys, other = MfaKeys.from_key(generate_key()), MfaKeys.from_key(generate_key())
    alice, bob = uuid.uuid4(), uuid.uuid4()
    sealed = keys.encrypt_secret("JBSWY3DPEHPK3PXP", user_id=alice)
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert keys.decrypt_secret(sealed, user_id=alice) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidTag):
        keys.decrypt_secret(sealed, user_id=bob)  # copied to another user: refused
    with pytest.raises(InvalidTag):
        other.decrypt_secret(sealed, user_id=alice)
    assert keys.code_hash("ABCD-efgh ijkl") == keys.code_hash("abcdefghijkl")
    assert keys.code_hash("abcd") != other.code_hash("abcd")
