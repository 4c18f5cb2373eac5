"""ADMIN_MFA_REQUIRED in the one access-rule enforcement: admin-scoped fields refuse an ADMIN
token issued without a second factor (`amr` lacks `otp`), in every subgraph's schema."""

from __future__ import annotations

import dataclasses
import time

import pytest

from shared.config import AppEnv, Settings
from shared.context import Principal
from shared.scopes import Role
from shared.tokens import Claims, SigningKeys, TokenVerifier, generate_private_key_pem
from tests.shared.test_authz import make_schema, principal, run

GATED = make_schema()
GATED.access_rules.admin_mfa_required = True


def with_amr(who: Principal, *amr: str) -> Principal:
    return dataclasses.replace(who, amr=frozenset(amr))


@pytest.mark.parametrize(
    ("amr", "admin_only"), [((), "FORBIDDEN"), (("pwd",), "FORBIDDEN"), (("pwd", "otp"), None)]
)
async def test_admin_fields_need_mfa_when_required(amr: tuple[str, ...], admin_only: str) -> None:
    admin = with_amr(principal(Role.ADMIN), *amr)
    _, codes = await run("{ adminOnly }", admin, schema=GATED)
    assert codes == ([admin_only] if admin_only else [])
    # Fields that do not need the admin scope stay open (`me`), and so does a field the ADMIN
    # also reaches through scopes other than `admin` (vendorOrAdmin: payments scopes).
    for field in ("me", "vendorOrAdmin"):
        _data, codes = await run(f"{{ {field} }}", admin, schema=GATED)
        assert codes == [], field


async def test_without_the_setting_nothing_changes() -> None:
    _data, codes = await run("{ adminOnly }", with_amr(principal(Role.ADMIN), "pwd"))
    assert codes == []


async def test_other_roles_are_unaffected() -> None:
    _data, codes = await run("{ vendorOrAdmin }", principal(Role.VENDOR), schema=GATED)
    assert codes == []


def test_setting_defaults_to_production_only() -> None:
    assert Settings(app_env=AppEnv.DEVELOPMENT).admin_mfa_enforced is False
    assert Settings(app_env=AppEnv.TEST).admin_mfa_enforced is False
    assert Settings(app_env=AppEnv.TEST, admin_mfa_required=True).admin_mfa_enforced is True
    production = Settings.model_construct(app_env=AppEnv.PRODUCTION, admin_mfa_required=None)
    assert production.admin_mfa_enforced is True
    off = Settings.model_construct(app_env=AppEnv.PRODUCTION, admin_mfa_required=False)
    assert off.admin_mfa_enforced is False


async def test_amr_travels_from_token_to_principal() -> None:
    keys = SigningKeys(generate_private_key_pem())

    async def jwks() -> dict[str, object]:
        return keys.jwks

    verifier = TokenVerifier(issuer="i", audience="a", fetch_jwks=jwks)
    common = {
        "user_id": "00000000-0000-0000-0000-000000000001",
        "email": "a@example.com",
        "role": "ADMIN",
        "scopes": ["admin"],
        "issuer": "i",
        "audience": "a",
        "ttl_seconds": 60,
        "now": int(time.time()),
    }
    token, _ = keys.issue(**common, amr=("pwd", "otp"))  # type: ignore[arg-type]
    claims = await verifier.verify(token)
    assert claims.amr == ("pwd", "otp")
    assert Principal.from_claims(claims).mfa is True
    plain, _ = keys.issue(**common)  # type: ignore[arg-type]
    assert Principal.from_claims(await verifier.verify(plain)).mfa is False
    assert Claims(sub="s", email="", role="ADMIN", scope="", jti="j", iat=0, exp=0).amr == ()
