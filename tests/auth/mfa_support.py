"""TOTP helpers for the tests: codes for a chosen 30-second step (pyotp), never a 30 s sleep."""

from __future__ import annotations

import asyncio
import time

import pyotp

STEP_SECONDS = 30

START = "mutation Start { startTotpEnrollment { secret otpauthUri } }"
CONFIRM = "mutation Confirm($c: String!) { confirmTotpEnrollment(code: $c) { recoveryCodes } }"
DISABLE = "mutation Disable($c: String!) { disableTotp(code: $c) }"
LOGIN_TOTP = """mutation LoginTotp($t: String!, $c: String!) {
  loginWithTotp(mfaToken: $t, code: $c) {
    accessToken refreshToken expiresIn user { id email role } } }"""
MFA_ENABLED = "query MfaEnabled { me { id mfaEnabled } }"


async def current_step(margin: float = 4.0) -> int:
    """The current step, waiting (at most `margin` seconds) when it is about to end, so that the
    codes of steps s-1, s and s+1 all stay inside the server's window while a test uses them."""
    left = STEP_SECONDS - time.time() % STEP_SECONDS
    if left < margin:
        await asyncio.sleep(left + 0.05)
    return int(time.time() // STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * STEP_SECONDS)


def wrong_code(secret: str, step: int) -> str:
    """Six digits that match none of the steps s-1, s, s+1."""
    near = {code_at(secret, step + d) for d in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(123456, 999999, 7919)) if c not in near)
