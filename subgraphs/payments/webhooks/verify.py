"""Is this delivery from Razorpay? Checked on the raw body bytes, before anything parses them.

`X-Razorpay-Signature` is the hex HMAC-SHA256 of the raw body with the webhook secret. Every
configured secret (the current one and, during a rotation, the previous one) is compared in
constant time, all of them every time. No secret configured means no delivery is accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# A sane bound: a hex SHA-256 is 64 characters; anything much longer is not worth hashing.
_MAX_SIGNATURE = 256
_EVENT_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")


class SignatureProblem(StrEnum):
    NO_SECRET = "no_secret"
    MISSING = "missing"
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class SignatureCheck:
    """`signed_with` is the label of the secret that matched, or None with a `problem`."""

    signed_with: str | None
    problem: SignatureProblem | None

    @property
    def valid(self) -> bool:
        return self.signed_with is not None


def sign(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def verify_signature(
    raw: bytes, signature: str | None, secrets: Sequence[tuple[str, str]]
) -> SignatureCheck:
    """Check `signature` against each `(label, secret)`; fail closed without a secret."""
    if not secrets:
        return SignatureCheck(None, SignatureProblem.NO_SECRET)
    given = (signature or "").strip().lower()
    if not given:
        return SignatureCheck(None, SignatureProblem.MISSING)
    if len(given) > _MAX_SIGNATURE:
        return SignatureCheck(None, SignatureProblem.MISMATCH)
    given_bytes = given.encode()
    matched: str | None = None
    for label, secret in secrets:
        # No early exit: the time taken does not depend on which secret matched.
        if hmac.compare_digest(sign(secret, raw).encode(), given_bytes) and matched is None:
            matched = label
    if matched is None:
        return SignatureCheck(None, SignatureProblem.MISMATCH)
    return SignatureCheck(matched, None)


def body_sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def event_id_for(header: str | None, raw: bytes) -> tuple[str, str]:
    """(event id, source): Razorpay's `X-Razorpay-Event-Id`, or the body's SHA-256 when the
    header is absent or malformed (Razorpay's retries carry the same bytes, so they dedupe)."""
    value = (header or "").strip()
    if _EVENT_ID.match(value):
        return value, "header"
    return f"sha256:{body_sha256(raw)}", "body_sha256"
