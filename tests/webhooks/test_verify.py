"""Signature checks over raw bytes and the event id a delivery is deduplicated on."""

from __future__ import annotations

import pytest

from subgraphs.payments.webhooks.verify import (
    SignatureProblem,
    body_sha256,
    event_id_for,
    sign,
    verify_signature,
)
from tests.webhooks.factories import PREVIOUS_SECRET, SECRET
from tests.webhooks.factories import sign as reference_sign

RAW = b'{"entity":"event","event":"payment.captured","payload":{}}'
BOTH = [("current", SECRET), ("previous", PREVIOUS_SECRET)]


def test_sign_is_hex_hmac_sha256_of_the_raw_body() -> None:
    assert sign(SECRET, RAW) == reference_sign(SECRET, RAW)
    assert len(sign(SECRET, RAW)) == 64


@pytest.mark.parametrize(
    ("secret", "expected"), [(SECRET, "current"), (PREVIOUS_SECRET, "previous")]
)
def test_current_and_previous_secrets_verify(secret: str, expected: str) -> None:
    check = verify_signature(RAW, sign(secret, RAW), BOTH)
    assert check.valid
    assert check.signed_with == expected
    assert check.problem is None


def test_header_case_and_whitespace_do_not_matter() -> None:
    assert verify_signature(RAW, f"  {sign(SECRET, RAW).upper()} ", BOTH).signed_with == "current"


@pytest.mark.parametrize(
    ("signature", "secrets", "problem"),
    [
        (None, BOTH, SignatureProblem.MISSING),
        ("", BOTH, SignatureProblem.MISSING),
        ("0" * 64, BOTH, SignatureProblem.MISMATCH),
        (sign("other", RAW), BOTH, SignatureProblem.MISMATCH),
        (sign(SECRET, RAW + b" "), BOTH, SignatureProblem.MISMATCH),
        (sign(SECRET, RAW)[:-1], BOTH, SignatureProblem.MISMATCH),
        ("é" * 64, BOTH, SignatureProblem.MISMATCH),
        ("f" * 1000, BOTH, SignatureProblem.MISMATCH),
        (sign(SECRET, RAW), [], SignatureProblem.NO_SECRET),
        (None, [], SignatureProblem.NO_SECRET),
    ],
)
def test_what_does_not_verify(
    signature: str | None, secrets: list[tuple[str, str]], problem: SignatureProblem
) -> None:
    check = verify_signature(RAW, signature, secrets)
    assert not check.valid
    assert check.problem is problem


@pytest.mark.parametrize("header", ["EaYmQ9LwR1e5ah", "evt_1:2.3-4", "a" * 100])
def test_event_id_from_the_header(header: str) -> None:
    assert event_id_for(f" {header} ", RAW) == (header, "header")


@pytest.mark.parametrize("header", [None, "", "  ", "a" * 101, "has space", "semi;colon", "ü"])
def test_event_id_falls_back_to_the_body_hash(header: str | None) -> None:
    assert event_id_for(header, RAW) == (f"sha256:{body_sha256(RAW)}", "body_sha256")
