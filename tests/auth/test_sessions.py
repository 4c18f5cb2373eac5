"""Refresh-token rotation and reuse detection, logout, and the access tokens a subgraph refuses."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.context import revoked_session_key
from shared.tokens import SigningKeys, generate_private_key_pem
from tests.auth.support import LOGOUT, ME, REFRESH, AuthHarness, codes


async def _refresh(auth: AuthHarness, token: str) -> dict[str, object]:
    return await auth.gql(REFRESH, {"t": token})


async def test_refresh_rotates_within_the_family(
    auth: AuthHarness, unique_email: str, db_session: AsyncSession
) -> None:
    first = await auth.register(unique_email)
    second = (await auth.ok(REFRESH, {"t": first["refreshToken"]}))["refreshToken"]
    assert second["refreshToken"] != first["refreshToken"]
    assert second["user"]["id"] == first["user"]["id"]
    third = (await auth.ok(REFRESH, {"t": second["refreshToken"]}))["refreshToken"]
    me = await auth.ok(ME, token=third["accessToken"])
    assert me["me"]["email"] == unique_email

    rows = (
        await db_session.execute(
            text(
                "SELECT family_id, parent_id, used_at, revoked_at FROM auth.refresh_tokens "
                "WHERE user_id = :id ORDER BY created_at"
            ),
            {"id": uuid.UUID(first["user"]["id"])},
        )
    ).all()
    assert len(rows) == 3
    assert len({r.family_id for r in rows}) == 1
    assert rows[0].parent_id is None
    assert [r.used_at is not None for r in rows] == [True, True, False]
    assert all(r.revoked_at is None for r in rows)


async def test_reused_refresh_token_revokes_the_family(
    auth: AuthHarness, unique_email: str, redis: Redis
) -> None:
    first = await auth.register(unique_email)
    other_session = await auth.login(unique_email)
    rotated = (await auth.ok(REFRESH, {"t": first["refreshToken"]}))["refreshToken"]

    # The old token again: theft is assumed, the whole family dies.
    reuse = await _refresh(auth, first["refreshToken"])
    assert codes(reuse) == ["UNAUTHENTICATED"]
    assert codes(await _refresh(auth, rotated["refreshToken"])) == ["UNAUTHENTICATED"]
    # ... including the family's access tokens, through the Redis denylist.
    assert codes(await auth.gql(ME, token=rotated["accessToken"])) == ["UNAUTHENTICATED"]
    assert codes(await auth.gql(ME, token=first["accessToken"])) == ["UNAUTHENTICATED"]
    ttl = await redis.ttl(revoked_session_key(_claims(first["accessToken"])["sid"]))
    assert 0 < ttl <= auth.settings.access_token_ttl_seconds

    # Another login of the same user is a different family and keeps working.
    assert (await auth.ok(ME, token=other_session["accessToken"]))["me"]["email"] == unique_email
    await auth.ok(REFRESH, {"t": other_session["refreshToken"]})


async def test_concurrent_refresh_of_one_token_succeeds_once(
    auth: AuthHarness, unique_email: str
) -> None:
    payload = await auth.register(unique_email)
    results = await asyncio.gather(*(_refresh(auth, payload["refreshToken"]) for _ in range(2)))
    successes = [r for r in results if "errors" not in r]
    failures = [r for r in results if "errors" in r]
    assert len(successes) == 1
    assert [codes(r) for r in failures] == [["UNAUTHENTICATED"]]


async def test_unknown_and_expired_refresh_tokens(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    assert codes(await _refresh(auth, "not-a-token")) == ["UNAUTHENTICATED"]
    payload = await auth.register(unique_email)
    async with committed_engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE auth.refresh_tokens SET expires_at = now() - interval '1 second' "
                "WHERE user_id = :id"
            ),
            {"id": uuid.UUID(payload["user"]["id"])},
        )
    assert codes(await _refresh(auth, payload["refreshToken"])) == ["UNAUTHENTICATED"]


async def test_refresh_refused_for_locked_or_deleted_user(
    auth: AuthHarness, unique_email: str, committed_engine: AsyncEngine
) -> None:
    payload = await auth.register(unique_email)
    user_id = uuid.UUID(payload["user"]["id"])
    async with committed_engine.begin() as conn:
        await conn.execute(
            text("UPDATE auth.users SET locked_until = now() + interval '1 hour' WHERE id = :id"),
            {"id": user_id},
        )
    assert codes(await _refresh(auth, payload["refreshToken"])) == ["UNAUTHENTICATED"]
    async with committed_engine.begin() as conn:
        await conn.execute(
            text("UPDATE auth.users SET locked_until = NULL, deleted_at = now() WHERE id = :id"),
            {"id": user_id},
        )
    assert codes(await _refresh(auth, payload["refreshToken"])) == ["UNAUTHENTICATED"]
    # A deleted user's still-unexpired access token no longer reaches `me`.
    assert codes(await auth.gql(ME, token=payload["accessToken"])) == ["UNAUTHENTICATED"]


async def test_logout_revokes_the_session(
    auth: AuthHarness, unique_email: str, db_session: AsyncSession
) -> None:
    payload = await auth.register(unique_email)
    other = await auth.login(unique_email)
    result = await auth.ok(LOGOUT, {"t": payload["refreshToken"]}, token=payload["accessToken"])
    assert result == {"logout": True}
    assert codes(await auth.gql(ME, token=payload["accessToken"])) == ["UNAUTHENTICATED"]
    assert codes(await _refresh(auth, payload["refreshToken"])) == ["UNAUTHENTICATED"]
    # The user's other session is untouched.
    await auth.ok(ME, token=other["accessToken"])
    await auth.ok(REFRESH, {"t": other["refreshToken"]})
    event = (
        await db_session.execute(
            text(
                "SELECT data FROM auth.outbox_events "
                "WHERE actor_id = :id AND type = 'auth:user:logged_out'"
            ),
            {"id": uuid.UUID(payload["user"]["id"])},
        )
    ).scalar_one()
    assert event["userId"] == payload["user"]["id"]
    assert len(event["sessionIds"]) == 1


async def test_logout_with_another_users_token_touches_nothing_of_theirs(
    auth: AuthHarness, unique_email: str
) -> None:
    victim = await auth.register(unique_email)
    caller = await auth.register(f"caller-{unique_email}")
    result = await auth.ok(LOGOUT, {"t": victim["refreshToken"]}, token=caller["accessToken"])
    assert result == {"logout": True}
    await auth.ok(ME, token=victim["accessToken"])
    await auth.ok(REFRESH, {"t": victim["refreshToken"]})
    # The caller's own current session did end.
    assert codes(await auth.gql(ME, token=caller["accessToken"])) == ["UNAUTHENTICATED"]


async def test_logout_requires_authentication(auth: AuthHarness, unique_email: str) -> None:
    payload = await auth.register(unique_email)
    result = await auth.gql(LOGOUT, {"t": payload["refreshToken"]})
    assert codes(result) == ["UNAUTHENTICATED"]
    await auth.ok(REFRESH, {"t": payload["refreshToken"]})


async def test_me_requires_authentication(auth: AuthHarness) -> None:
    assert codes(await auth.gql(ME)) == ["UNAUTHENTICATED"]


def _claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return claims


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_bad_access_tokens_are_unauthenticated(auth: AuthHarness, unique_email: str) -> None:
    payload = await auth.register(unique_email)
    user = payload["user"]
    settings = auth.settings
    claims = {
        "user_id": user["id"],
        "email": unique_email,
        "role": "CUSTOMER",
        "scopes": ["payments:read"],
        "issuer": settings.jwt_issuer,
        "audience": settings.jwt_audience,
    }
    expired, _ = auth.runtime.keys.issue(**claims, ttl_seconds=60, now=int(time.time()) - 3600)
    foreign, _ = SigningKeys(generate_private_key_pem()).issue(**claims, ttl_seconds=60)
    header, body, signature = payload["accessToken"].split(".")
    tampered = ".".join(
        (header, _b64({**_claims(payload["accessToken"]), "role": "ADMIN"}), signature)
    )
    unsigned = ".".join(
        (_b64({"alg": "none", "typ": "JWT", "kid": auth.runtime.keys.kid}), body, "")
    )
    for bad in (expired, foreign, tampered, unsigned, "not.a.jwt"):
        result = await auth.gql(ME, token=bad)
        assert codes(result) == ["UNAUTHENTICATED"], bad
    assert (await auth.ok(ME, token=payload["accessToken"]))["me"]["id"] == user["id"]
    claims_of_real = _claims(payload["accessToken"])
    assert claims_of_real["sub"] == user["id"]
    assert claims_of_real["exp"] - claims_of_real["iat"] == settings.access_token_ttl_seconds
    assert set(claims_of_real["scope"].split()) == {
        "payments:read",
        "payments:write",
        "profile:write",
    }
    uuid.UUID(claims_of_real["sid"])


async def test_denylisted_session_is_refused(
    auth: AuthHarness, unique_email: str, redis: Redis
) -> None:
    payload = await auth.register(unique_email)
    await redis.set(revoked_session_key(_claims(payload["accessToken"])["sid"]), "1", ex=60)
    assert codes(await auth.gql(ME, token=payload["accessToken"])) == ["UNAUTHENTICATED"]


async def test_tokens_without_a_session_id(auth: AuthHarness, unique_email: str) -> None:
    """Tokens carrying no `sid` (none are issued so, but the claim is optional) still work."""
    payload = await auth.register(unique_email)
    user = payload["user"]
    settings = auth.settings
    token, _ = auth.runtime.keys.issue(
        user_id=user["id"],
        email=unique_email,
        role="CUSTOMER",
        scopes=["payments:read"],
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=60,
    )
    assert await auth.ok(LOGOUT, {"t": "unknown"}, token=token) == {"logout": True}
    await auth.ok(REFRESH, {"t": payload["refreshToken"]})  # nothing else was touched
