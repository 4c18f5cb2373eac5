"""The auth app: JWKS endpoint, router signature, the printed SDL, signing-key loading."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from shared.config import AuthSettings, ConfigurationError
from shared.tokens import SigningKeys, generate_private_key_pem, public_jwk
from subgraphs.auth.runtime import load_signing_keys
from subgraphs.auth.schema import create_schema
from tests.auth.support import ME, AuthHarness, codes
from tests.sdl import without_descriptions


async def test_jwks_endpoint(auth: AuthHarness) -> None:
    response = await auth.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert keys == [auth.runtime.keys.current]
    assert keys[0]["kid"] == auth.runtime.keys.kid
    assert keys[0]["alg"] == "RS256"
    assert "d" not in keys[0]  # public parts only


async def test_health_and_readiness(auth: AuthHarness) -> None:
    assert (await auth.client.get("/healthz")).json()["service"] == "auth"
    assert (await auth.client.get("/readyz")).status_code == 200


async def test_unsigned_request_forbidden(auth: AuthHarness, unique_email: str) -> None:
    payload = await auth.register(unique_email)
    result = await auth.gql(ME, token=payload["accessToken"], signed=False)
    assert codes(result) == ["FORBIDDEN"]
    assert result.get("data") is None


def test_sdl_declares_the_contract() -> None:
    sdl = without_descriptions(create_schema(None).as_str())
    assert 'type User @key(fields: "id")' in sdl
    assert "me: User! @authenticated" in sdl
    assert "logout(refreshToken: String!): Boolean! @authenticated" in sdl
    assert (
        "changePassword(currentPassword: String!, newPassword: String!): Boolean! @authenticated"
        in sdl
    )
    assert "role: Role = CUSTOMER" in sdl
    for operation in (
        "register(input: RegisterInput!): AuthPayload!",
        "login(input: LoginInput!): AuthPayload!",
        "refreshToken(refreshToken: String!): AuthPayload!",
        "requestPasswordReset(email: String!): Boolean!",
        "resetPassword(token: String!, newPassword: String!): Boolean!",
        "verifyEmail(token: String!): Boolean!",
    ):
        assert operation in sdl


async def test_previous_keys_are_published_and_accepted(
    make_harness: Callable[..., AbstractAsyncContextManager[AuthHarness]],
    auth: AuthHarness,
    unique_email: str,
) -> None:
    payload = await auth.register(unique_email)
    # Rotation: a new current key, the old one published as a previous key.
    old_private = serialization.load_pem_private_key(
        auth.settings.secret("jwt_private_key").encode(), password=None
    )
    old_public = old_private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    async with make_harness(
        jwt_private_key=generate_private_key_pem().decode(),
        jwt_previous_public_keys=old_public.decode(),
    ) as rotated:
        keys = (await rotated.client.get("/.well-known/jwks.json")).json()["keys"]
        assert [k["kid"] for k in keys] == [rotated.runtime.keys.kid, auth.runtime.keys.kid]
        me = await rotated.ok(ME, token=payload["accessToken"])
        assert me["me"]["email"] == unique_email
        fresh = await rotated.login(unique_email)
        assert codes(await auth.gql(ME, token=fresh["accessToken"])) == ["UNAUTHENTICATED"]


def test_development_key_file_is_created(tmp_path: Path) -> None:
    settings = AuthSettings(app_env="development", data_dir=tmp_path)
    keys = load_signing_keys(settings)
    key_file = tmp_path / "keys" / "jwt-private.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert load_signing_keys(settings).kid == keys.kid  # the same key next time


def test_missing_key_outside_development_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="JWT_PRIVATE_KEY"):
        load_signing_keys(AuthSettings(app_env="test", data_dir=tmp_path))


def test_signing_keys_kid_matches_jwk(private_pem: bytes) -> None:
    keys = SigningKeys(private_pem)
    key = serialization.load_pem_private_key(private_pem, password=None)
    assert public_jwk(key.public_key())["kid"] == keys.kid  # type: ignore[union-attr]
