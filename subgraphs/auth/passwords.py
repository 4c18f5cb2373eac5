"""Password hashing (argon2id) and the input rules for passwords, e-mail addresses and names.

Hashing and verifying are CPU- and memory-heavy by design, so they run in a worker thread and
never block the event loop.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email

from shared.errors import BadUserInput

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 5
MIN_CHARACTER_CLASSES = 2
MAX_NAME_LENGTH = 100


def default_hasher() -> PasswordHasher:
    """argon2id, RFC 9106 "second recommended" profile: t=3, m=64 MiB, p=4."""
    return PasswordHasher(
        time_cost=3, memory_cost=64 * 1024, parallelism=4, hash_len=32, type=Type.ID
    )


@dataclass
class Passwords:
    hasher: PasswordHasher = field(default_factory=default_hasher)
    _dummy_hash: str = ""

    def __post_init__(self) -> None:
        # Verified against when the account does not exist, so that both paths cost the same.
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; with no hash, spends the same time and says False."""
        if password_hash is None:
            await asyncio.to_thread(self._verify, self._dummy_hash, password)
            return False
        return await asyncio.to_thread(self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)


def _character_classes(password: str) -> int:
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not c.isalnum() for c in password)
    return sum((lower, upper, digit, other))


def check_password_policy(password: str, *, email: str, field: str) -> None:
    """Raise BAD_USER_INPUT (naming `field`) when the password breaks the policy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters long", field=field
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadUserInput(
            f"Password must be at most {MAX_PASSWORD_LENGTH} characters long", field=field
        )
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise BadUserInput("Password has too many repeated characters", field=field)
    if _character_classes(password) < MIN_CHARACTER_CLASSES:
        raise BadUserInput(
            "Password must mix at least two of: lower-case, upper-case, digits, symbols",
            field=field,
        )
    local_part = email.rpartition("@")[0].lower()
    if len(local_part) >= 3 and local_part in password.lower():
        raise BadUserInput("Password must not contain your e-mail address", field=field)


def normalize_email(email: str, *, field: str = "email") -> str:
    """The address validated (syntax only, no DNS) and lower-cased; BAD_USER_INPUT otherwise."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadUserInput("Invalid e-mail address", field=field) from exc
    return result.normalized.lower()


def lookup_email(email: str) -> str | None:
    """The normalised address for a lookup (login, reset), or None when it cannot exist."""
    try:
        return normalize_email(email)
    except BadUserInput:
        return None


def clean_name(name: str, *, field: str = "name") -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise BadUserInput("Name must not be empty", field=field)
    if len(cleaned) > MAX_NAME_LENGTH:
        raise BadUserInput(f"Name must be at most {MAX_NAME_LENGTH} characters", field=field)
    return cleaned
