"""Input rules (password policy, e-mail, name) and the argon2id hasher."""

from __future__ import annotations

import pytest

from shared.errors import BadUserInput
from subgraphs.auth.passwords import (
    check_password_policy,
    clean_name,
    default_hasher,
    lookup_email,
    normalize_email,
)
from tests.auth.support import fast_passwords

EMAIL = "jane.doe@example.com"


@pytest.mark.parametrize(
    "password",
    [
        "Correct-Horse-Battery-9",
        "correct horse battery staple",  # a passphrase: lower-case and spaces
        "Zx9!Qw8@Er7#",
        "ÄÖÜäöüß-passwörter",
        "x" * 3 + "Aa1!-" + "y" * 120,
    ],
)
def test_acceptable_passwords(password: str) -> None:
    check_password_policy(password, email=EMAIL, field="password")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Short-Pw-1", "at least 12"),
        ("Aa1!" * 32 + "x", "at most 128"),
        ("abababababababab", "repeated"),
        ("Zx9!" * 4, "repeated"),
        ("abcdefghijklmnop", "mix"),
        ("1234567890123", "mix"),
        ("my-Jane.Doe-password", "e-mail"),
    ],
)
def test_policy_violations(password: str, reason: str) -> None:
    with pytest.raises(BadUserInput, match=reason) as raised:
        check_password_policy(password, email=EMAIL, field="newPassword")
    assert raised.value.extensions == {"field": "newPassword"}


def test_email_normalisation() -> None:
    assert normalize_email("  Jane.Doe@EXAMPLE.com ") == "jane.doe@example.com"
    with pytest.raises(BadUserInput) as raised:
        normalize_email("jane@", field="email")
    assert raised.value.extensions == {"field": "email"}
    assert lookup_email("nonsense") is None
    assert lookup_email("A@Example.COM") == "a@example.com"


def test_names_are_trimmed_and_bounded() -> None:
    assert clean_name("  Jane \t  Doe ") == "Jane Doe"
    with pytest.raises(BadUserInput):
        clean_name(" \n ")
    assert clean_name("x" * 100) == "x" * 100
    with pytest.raises(BadUserInput):
        clean_name("x" * 101)


async def test_hasher_round_trip_and_rehash() -> None:
    passwords = fast_passwords()
    hashed = await passwords.hash("Correct-Horse-Battery-9")
    assert hashed.startswith("$argon2id$")
    assert await passwords.verify(hashed, "Correct-Horse-Battery-9")
    assert not await passwords.verify(hashed, "Correct-Horse-Battery-8")
    assert not await passwords.verify("not-a-hash", "Correct-Horse-Battery-9")
    assert not await passwords.verify(None, "Correct-Horse-Battery-9")
    assert not passwords.needs_rehash(hashed)
    production = default_hasher()
    assert production.check_needs_rehash(hashed)
    assert "m=65536,t=3,p=4" in production.hash("x")
