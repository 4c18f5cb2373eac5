"""The cryptography of TOTP sign-in: the secret-store key, TOTP secrets encrypted at rest,
RFC 6238 codes, recovery codes and their keyed hashes.

`TOTP_ENCRYPTION_KEY` (base64 of 32 random bytes) never reaches the database. Two keys are
derived from it with HKDF-SHA256: one encrypts TOTP secrets (AES-256-GCM, the user id as
associated data, so a ciphertext copied to another user does not decrypt), one keys the
HMAC-SHA256 of recovery codes (a database dump alone cannot test guesses).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyotp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.config import AppEnv, AuthSettings, ConfigurationError
from shared.tokens import ensure_secret_file

STEP_SECONDS = 30  # RFC 6238 defaults: SHA1, 6 digits, 30-second steps
DIGITS = 6
VALID_WINDOW = 1  # the previous and the next step are accepted too (clock drift)
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_RECOVERY_GROUPS = 4  # 4 groups of 4 characters: about 79 bits
_CIPHER_VERSION = b"\x01"
_TOTP_CODE = re.compile(r"^\d{6}$")


def generate_key() -> str:
    """A new TOTP_ENCRYPTION_KEY value."""
    return base64.b64encode(os.urandom(32)).decode()


def dev_key_path(data_dir: Path) -> Path:
    """Where development keeps its key (`make dev` and a lone auth process agree)."""
    return data_dir / "secrets" / "totp_encryption_key"


def ensure_dev_key(path: Path) -> str:
    """The development key at `path`, created once (mode 0600)."""
    return ensure_secret_file(path, lambda: generate_key().encode()).read_text().strip()


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


@dataclass(frozen=True)
class MfaKeys:
    _cipher: AESGCM
    _code_key: bytes

    @classmethod
    def from_key(cls, key: str) -> MfaKeys:
        try:
            master = base64.b64decode(key.strip(), validate=True)
        except (binascii.Error, ValueError):
            master = b""
        if len(master) != 32:
            raise ConfigurationError("TOTP_ENCRYPTION_KEY must be base64 of 32 random bytes")
        return cls(
            _cipher=AESGCM(_derive(master, b"bff auth totp secret v1")),
            _code_key=_derive(master, b"bff auth recovery code v1"),
        )

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> MfaKeys:
        """The configured key; in development only, a key file created under the data folder."""
        if settings.totp_encryption_key is not None:
            return cls.from_key(settings.totp_encryption_key.get_secret_value())
        if settings.app_env is AppEnv.DEVELOPMENT:
            return cls.from_key(ensure_dev_key(dev_key_path(settings.data_dir)))
        raise ConfigurationError("TOTP_ENCRYPTION_KEY is not set")

    def encrypt_secret(self, secret: str, *, user_id: uuid.UUID) -> bytes:
        nonce = os.urandom(12)
        sealed = self._cipher.encrypt(nonce, secret.encode(), _CIPHER_VERSION + user_id.bytes)
        return _CIPHER_VERSION + nonce + sealed

    def decrypt_secret(self, blob: bytes, *, user_id: uuid.UUID) -> str:
        version, nonce, sealed = blob[:1], blob[1:13], blob[13:]
        if version != _CIPHER_VERSION:
            raise ValueError("unknown TOTP secret format")
        return self._cipher.decrypt(nonce, sealed, version + user_id.bytes).decode()

    def code_hash(self, code: str) -> str:
        """The keyed hash a recovery code is stored and looked up by."""
        return hmac.new(
            self._code_key, normalize_recovery_code(code).encode(), "sha256"
        ).hexdigest()


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def step_of(timestamp: float) -> int:
    return int(timestamp // STEP_SECONDS)


def is_totp_code(code: str) -> bool:
    return bool(_TOTP_CODE.match(code))


def matching_step(secret: str, code: str, *, now: float) -> int | None:
    """The step within the window whose code is `code` (compared in constant time), or None."""
    if not is_totp_code(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_of(now)
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            found = step
    return found


def new_recovery_codes() -> list[str]:
    return [
        "-".join(
            "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4))
            for _ in range(_RECOVERY_GROUPS)
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def normalize_recovery_code(code: str) -> str:
    """Case, spaces and dashes do not matter when a code is typed back."""
    return re.sub(r"[\s\-]", "", code).lower()
