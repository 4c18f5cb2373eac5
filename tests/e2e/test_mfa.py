"""TOTP sign-in as an MFE does it, through the real router: enrol, confirm, the two-step login
(MFA_REQUIRED with extensions.mfaToken -> loginWithTotp), single-use mfaToken, replay refused,
recovery codes, wrong codes rate limited and locking the account, disable; and the
self-registration rule (only CUSTOMER). Codes come from pyotp for a chosen step (no 30 s sleep).

ADMIN_MFA_REQUIRED is off in this stack (APP_ENV=test); tests/auth/test_admin_mfa.py and
tests/shared/test_authz_mfa.py prove the gate with it on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from tests.auth.mfa_support import (
    CONFIRM,
    DISABLE,
    LOGIN_TOTP,
    MFA_ENABLED,
    START,
    code_at,
    current_step,
    wrong_code,
)
from tests.e2e.conftest import Client

PASSWORD = "Two-factor-passphrase-2024"
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }"
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }"


def codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


@dataclass
class Account:
    email: str
    token: str
    secret: str
    recovery_codes: list[str]
    last_step: int


async def ok(client: Client, query: str, variables: Any = None, **kw: Any) -> dict[str, Any]:
    result = await client.gql(query, variables, **kw)
    assert "errors" not in result, result
    data: dict[str, Any] = result["data"]
    return data


async def enrolled_account(client: Client, *, wrong_first: bool = True) -> Account:
    """A registered account with TOTP on (by default after one wrong confirmation code, which
    uses one of the account's 5 wrong-code attempts)."""
    email = f"mfa-{uuid.uuid4().hex[:10]}@example.com"
    registered = await ok(
        client, REGISTER, {"i": {"email": email, "password": PASSWORD, "name": "M"}}
    )
    token = registered["register"]["accessToken"]
    setup = (await ok(client, START, token=token))["startTotpEnrollment"]
    assert setup["otpauthUri"].startswith("otpauth://totp/")
    step = await current_step()
    if wrong_first:
        wrong = await client.gql(CONFIRM, {"c": wrong_code(setup["secret"], step)}, token=token)
        assert codes(wrong) == ["BAD_USER_INPUT"]
    confirmed = await ok(client, CONFIRM, {"c": code_at(setup["secret"], step - 1)}, token=token)
    recovery = confirmed["confirmTotpEnrollment"]["recoveryCodes"]
    assert len(set(recovery)) == 10
    assert (await ok(client, MFA_ENABLED, token=token))["me"]["mfaEnabled"] is True
    return Account(email, token, setup["secret"], recovery, step - 1)


async def mfa_token(client: Client, email: str) -> str:
    result = await client.gql(LOGIN, {"i": {"email": email, "password": PASSWORD}})
    assert codes(result) == ["MFA_REQUIRED"], result
    assert not result.get("data")  # no tokens
    token: str = result["errors"][0]["extensions"]["mfaToken"]
    assert len(token) >= 32
    return token


async def test_two_step_login_replay_and_recovery_codes(client: Client) -> None:
    account = await enrolled_account(client)
    token = await mfa_token(client, account.email)
    used = code_at(account.secret, account.last_step + 1)
    signed_in = await ok(client, LOGIN_TOTP, {"t": token, "c": used})
    payload = signed_in["loginWithTotp"]
    amr = jwt.decode(payload["accessToken"], options={"verify_signature": False})["amr"]
    assert amr == ["pwd", "otp"]
    me = await ok(client, "{ me { email mfaEnabled } }", token=payload["accessToken"])
    assert me["me"] == {"email": account.email, "mfaEnabled": True}

    # The mfaToken works once.
    reused = await client.gql(LOGIN_TOTP, {"t": token, "c": used})
    assert codes(reused) == ["UNAUTHENTICATED"]
    # The same TOTP code in the same window, with a fresh mfaToken: refused.
    fresh = await mfa_token(client, account.email)
    replay = await client.gql(LOGIN_TOTP, {"t": fresh, "c": used})
    assert codes(replay) == ["BAD_USER_INPUT"]
    assert replay["errors"][0]["extensions"]["field"] == "code"

    # A recovery code works once ever.
    recovery = account.recovery_codes[0]
    assert "errors" not in await client.gql(LOGIN_TOTP, {"t": fresh, "c": recovery})
    again = await client.gql(
        LOGIN_TOTP, {"t": await mfa_token(client, account.email), "c": recovery}
    )
    assert codes(again) == ["BAD_USER_INPUT"]

    # Disable with another recovery code; then a password login gives tokens at once.
    wrong = await client.gql(DISABLE, {"c": recovery}, token=account.token)
    assert codes(wrong) == ["BAD_USER_INPUT"]
    disabled = await ok(client, DISABLE, {"c": account.recovery_codes[1]}, token=account.token)
    assert disabled == {"disableTotp": True}
    plain = await ok(client, LOGIN, {"i": {"email": account.email, "password": PASSWORD}})
    assert plain["login"]["accessToken"]


async def test_disable_with_a_current_totp_code(client: Client) -> None:
    account = await enrolled_account(client)
    step = await current_step()
    code = code_at(account.secret, max(step, account.last_step + 1))
    assert await ok(client, DISABLE, {"c": code}, token=account.token) == {"disableTotp": True}
    assert (await ok(client, MFA_ENABLED, token=account.token))["me"]["mfaEnabled"] is False


async def test_wrong_codes_lock_the_account_and_are_rate_limited(client: Client) -> None:
    account = await enrolled_account(client, wrong_first=False)
    token = await mfa_token(client, account.email)
    step = await current_step()
    for _ in range(5):  # LOCKOUT_THRESHOLD and AUTH_RATE_LIMIT_PER_ACCOUNT default to 5
        result = await client.gql(LOGIN_TOTP, {"t": token, "c": wrong_code(account.secret, step)})
        assert codes(result) == ["BAD_USER_INPUT"]
    # The fifth wrong code locked the account: even the right code gets nothing now ...
    right = code_at(account.secret, account.last_step + 1)
    locked = await client.gql(LOGIN_TOTP, {"t": token, "c": right})
    assert codes(locked) == ["UNAUTHENTICATED"]
    # ... nor does the right password ...
    login = await client.gql(LOGIN, {"i": {"email": account.email, "password": PASSWORD}})
    assert codes(login) == ["UNAUTHENTICATED"]
    # ... and the account's budget of wrong codes is spent (disableTotp shares it).
    limited = await client.gql(DISABLE, {"c": right}, token=account.token)
    assert codes(limited) == ["RATE_LIMITED"]
    assert limited["errors"][0]["extensions"]["retryAfter"] > 0


async def test_only_customers_register_themselves(client: Client) -> None:
    for role in ("VENDOR", "ADMIN"):
        email = f"{role.lower()}-{uuid.uuid4().hex[:10]}@example.com"
        result = await client.gql(
            REGISTER, {"i": {"email": email, "password": PASSWORD, "name": "V", "role": role}}
        )
        assert codes(result) == ["FORBIDDEN"]
        # Nothing was stored: the address is still free for a CUSTOMER account.
        customer = await client.gql(
            REGISTER, {"i": {"email": email, "password": PASSWORD, "name": "C"}}
        )
        assert "errors" not in customer, customer


async def test_mfa_enabled_of_someone_else_is_forbidden(client: Client) -> None:
    account = await enrolled_account(client)
    me = await ok(client, "{ me { id } }", token=account.token)
    other = await ok(
        client,
        REGISTER,
        {
            "i": {
                "email": f"o-{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
                "name": "O",
            }
        },
    )
    query = (
        """query($r: [_Any!]!) { _entities(representations: $r) { ... on User { mfaEnabled } } }"""
    )
    reps = {"r": [{"__typename": "User", "id": me["me"]["id"]}]}
    stranger = await client.gql(query, reps, token=other["register"]["accessToken"], target="auth")
    assert codes(stranger) == ["FORBIDDEN"]
    own = await client.gql(query, reps, token=account.token, target="auth")
    assert own["data"]["_entities"] == [{"mfaEnabled": True}]
