from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from shared.errors import Unauthenticated
from shared.tokens import (
    LEEWAY_SECONDS,
    SigningKeys,
    TokenVerifier,
    generate_private_key_pem,
    split_pems,
)

ISSUER = "payments-bff-auth"
AUDIENCE = "payments-bff"


@pytest.fixture(scope="module")
def keys() -> SigningKeys:
    return SigningKeys(generate_private_key_pem())


def verifier_for(*key_sets: SigningKeys) -> TokenVerifier:
    async def fetch() -> dict[str, object]:
        return {"keys": [k for ks in key_sets for k in ks.jwks["keys"]]}

    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, fetch_jwks=fetch, min_refetch_seconds=0)


def issue(keys: SigningKeys, **overrides: object) -> str:
    args: dict[str, object] = {
        "user_id": "8d0f6f52-2f0c-4b3e-9a55-0c1f3d3f9b10",
        "email": "a@example.com",
        "role": "CUSTOMER",
        "scopes": ["payments:read"],
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "ttl_seconds": 900,
        "session_id": "fam-1",
    }
    args.update(overrides)
    token, _ = keys.issue(**args)  # type: ignore[arg-type]
    return token


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_round_trip(keys: SigningKeys) -> None:
    claims = await verifier_for(keys).verify(issue(keys))
    assert claims.sub == "8d0f6f52-2f0c-4b3e-9a55-0c1f3d3f9b10"
    assert claims.role == "CUSTOMER"
    assert claims.scopes == frozenset({"payments:read"})
    assert claims.sid == "fam-1"
    assert claims.exp - claims.iat == 900


async def test_jwks_publishes_kid_and_previous_keys(keys: SigningKeys) -> None:
    old = SigningKeys(generate_private_key_pem())
    from cryptography.hazmat.primitives import serialization

    old_pub = old._private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    rotated = SigningKeys(generate_private_key_pem(), [old_pub])
    kids = [k["kid"] for k in rotated.jwks["keys"]]
    assert kids == [rotated.kid, old.kid]
    # A token signed by the previous key still verifies during the rotation.
    claims = await verifier_for(rotated).verify(issue(old))
    assert claims.email == "a@example.com"
    assert jwt.get_unverified_header(issue(rotated))["kid"] == rotated.kid


async def test_expired_token_refused(keys: SigningKeys) -> None:
    token = issue(keys, now=int(time.time()) - 3600, ttl_seconds=60)
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier_for(keys).verify(token)


async def test_alg_none_refused(keys: SigningKeys) -> None:
    real = jwt.decode(issue(keys), options={"verify_signature": False})
    forged = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': keys.kid})}.{b64(real)}."
    with pytest.raises(Unauthenticated):
        await verifier_for(keys).verify(forged)


async def test_hs256_with_public_key_refused(keys: SigningKeys) -> None:
    payload = jwt.decode(issue(keys), options={"verify_signature": False})
    forged = jwt.encode(payload, "n" * 32, algorithm="HS256", headers={"kid": keys.kid})
    with pytest.raises(Unauthenticated):
        await verifier_for(keys).verify(forged)


async def test_other_key_refused(keys: SigningKeys) -> None:
    stranger = SigningKeys(generate_private_key_pem())
    # The stranger's key is not in the JWKS: unknown kid.
    with pytest.raises(Unauthenticated):
        await verifier_for(keys).verify(issue(stranger))
    # Same kid claimed, other key: bad signature.
    payload = jwt.decode(issue(keys), options={"verify_signature": False})
    forged = jwt.encode(payload, stranger._private, algorithm="RS256", headers={"kid": keys.kid})
    with pytest.raises(Unauthenticated):
        await verifier_for(keys).verify(forged)


async def test_tampered_claims_refused(keys: SigningKeys) -> None:
    header, payload, signature = issue(keys).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "ADMIN"
    with pytest.raises(Unauthenticated):
        await verifier_for(keys).verify(f"{header}.{b64(claims)}.{signature}")


@pytest.mark.parametrize(("field", "value"), [("issuer", "evil"), ("audience", "other-app")])
async def test_wrong_issuer_or_audience_refused(keys: SigningKeys, field: str, value: str) -> None:
    with pytest.raises(Unauthenticated):
        await verifier_for(keys).verify(issue(keys, **{field: value}))


async def test_garbage_refused(keys: SigningKeys) -> None:
    with pytest.raises(Unauthenticated):
        await verifier_for(keys).verify("not-a-token")


async def test_unknown_kid_refetches_once_then_caches(keys: SigningKeys) -> None:
    calls = 0

    async def fetch() -> dict[str, object]:
        nonlocal calls
        calls += 1
        return keys.jwks

    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, fetch_jwks=fetch)
    for _ in range(3):
        await verifier.verify(issue(keys))
    assert calls == 1


async def test_unreachable_jwks_is_unauthenticated(keys: SigningKeys) -> None:
    async def fetch() -> dict[str, object]:
        raise ValueError("connection refused")

    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, fetch_jwks=fetch)
    with pytest.raises(Unauthenticated, match="unavailable"):
        await verifier.verify(issue(keys))


def test_split_pems() -> None:
    text = "-----BEGIN A-----\nx\n-----END A-----\n\n-----BEGIN B-----\ny\n-----END B-----\n"
    assert len(split_pems(text)) == 2


async def test_verified_token_is_remembered_until_it_expires(keys: SigningKeys) -> None:
    now = [time.time()]
    verifier = verifier_for(keys)
    verifier.clock = lambda: now[0]
    token = issue(keys, ttl_seconds=60)
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first  # remembered, not verified again
    now[0] = first.exp + LEEWAY_SECONDS  # the clock reaches the end of its leeway
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier.verify(token)


async def test_remembered_tokens_are_forgotten_when_their_key_leaves_the_jwks() -> None:
    old, new = SigningKeys(generate_private_key_pem()), SigningKeys(generate_private_key_pem())
    published = [old]

    async def fetch() -> dict[str, object]:
        return {"keys": [k for ks in published for k in ks.jwks["keys"]]}

    verifier = TokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, fetch_jwks=fetch, min_refetch_seconds=0
    )
    token = issue(old)
    await verifier.verify(token)
    published[:] = [new]  # the old key is retired; a token of the new key makes it refetch
    await verifier.verify(issue(new))
    with pytest.raises(Unauthenticated, match="Invalid token"):
        await verifier.verify(token)


async def test_a_refetch_of_unchanged_keys_keeps_the_remembered_tokens(keys: SigningKeys) -> None:
    """Anyone can make the verifier refetch (a token naming an unknown kid): when the JWKS did
    not change, the tokens it remembers stay remembered (only the speed-up was at stake)."""
    verifier = verifier_for(keys)
    token = issue(keys)
    first = await verifier.verify(token)
    unknown_kid = b64({"alg": "RS256", "kid": "no-such-kid"}) + "." + token.split(".", 1)[1]
    with pytest.raises(Unauthenticated, match="Invalid token"):
        await verifier.verify(unknown_kid)  # refetched: same keys
    assert await verifier.verify(token) is first


async def test_remembers_a_bounded_number_of_tokens(keys: SigningKeys) -> None:
    verifier = verifier_for(keys)
    verifier.cache_size = 2
    tokens = [issue(keys, session_id=f"fam-{i}") for i in range(3)]
    claims = [await verifier.verify(token) for token in tokens]
    again = await verifier.verify(tokens[0])  # forgotten, so verified afresh: same claims
    assert again == claims[0]
    assert again is not claims[0]
    assert await verifier.verify(tokens[2]) is claims[2]


async def test_a_refused_token_is_not_remembered(keys: SigningKeys) -> None:
    verifier = verifier_for(keys)
    token = issue(keys, audience="someone-else")
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="Invalid token"):
            await verifier.verify(token)
