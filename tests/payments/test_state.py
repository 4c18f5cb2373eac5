"""The payment state machine."""

from __future__ import annotations

import pytest

from shared.errors import Conflict
from subgraphs.payments.enums import PaymentStatus as S
from subgraphs.payments.state import (
    CANCELLABLE,
    CAPTURED,
    FINAL,
    NOT_COUNTED,
    ORDER_OPEN,
    SETTLED,
    STARTABLE,
    TRANSITIONS,
    can_transition,
    ensure_transition,
)

FORWARD = [
    (S.PENDING, S.PROCESSING),
    (S.INITIATED, S.PROCESSING),
    (S.PROCESSING, S.COMPLETED),
    (S.PROCESSING, S.FAILED),
    (S.FAILED, S.COMPLETED),
    (S.COMPLETED, S.PARTIALLY_REFUNDED),
    (S.COMPLETED, S.REFUNDED),
    (S.PARTIALLY_REFUNDED, S.PARTIALLY_REFUNDED),
    (S.PARTIALLY_REFUNDED, S.REFUNDED),
]

REFUSED = [
    (S.COMPLETED, S.FAILED),
    (S.COMPLETED, S.CANCELLED),
    (S.COMPLETED, S.PROCESSING),
    (S.PROCESSING, S.PENDING),
    (S.REFUNDED, S.COMPLETED),
    (S.CANCELLED, S.PROCESSING),
    (S.PENDING, S.COMPLETED),
    (S.INITIATED, S.FAILED),
    (S.PARTIALLY_REFUNDED, S.COMPLETED),
]


def test_every_status_has_a_rule() -> None:
    assert set(TRANSITIONS) == set(S)
    assert {S.CANCELLED, S.REFUNDED} == FINAL


@pytest.mark.parametrize(("current", "target"), FORWARD)
def test_forward_moves_are_allowed(current: S, target: S) -> None:
    assert can_transition(current, target)
    ensure_transition(current, target)


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_backward_moves_are_conflicts(current: S, target: S) -> None:
    assert not can_transition(current, target)
    with pytest.raises(Conflict):
        ensure_transition(current, target)


def test_cancelled_only_before_completed() -> None:
    cancellable = {s for s in S if can_transition(s, S.CANCELLED)}
    assert cancellable == {S.PENDING, S.INITIATED, S.PROCESSING, S.FAILED}


def test_status_groups_follow_the_table() -> None:
    assert {S.PENDING, S.INITIATED, S.PROCESSING, S.FAILED} == CANCELLABLE
    assert {s for s in S if can_transition(s, S.PROCESSING)} == STARTABLE
    assert {S.PROCESSING, S.FAILED} == ORDER_OPEN
    assert all(can_transition(s, S.COMPLETED) for s in ORDER_OPEN)
    assert {S.COMPLETED, S.PARTIALLY_REFUNDED} == CAPTURED
    assert {s for s in S if can_transition(s, S.REFUNDED)} == CAPTURED
    assert CAPTURED | {S.REFUNDED} == SETTLED
    assert {S.CANCELLED, S.FAILED} == NOT_COUNTED
