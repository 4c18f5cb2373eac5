"""The payment state machine: the one list of allowed status transitions.

Status only moves forward:

    PENDING / INITIATED -> PROCESSING -> COMPLETED -> PARTIALLY_REFUNDED -> REFUNDED
                                     \\-> FAILED -> COMPLETED  (Razorpay may capture late)
    CANCELLED from any status before COMPLETED (PENDING, INITIATED, PROCESSING, FAILED)

COMPLETED never goes back to FAILED; CANCELLED and REFUNDED are final for every forward move.
The one backward move is separate (`REOPENS`, asked for explicitly): a refund Razorpay reported
processed and later `refund.failed` gives its amount back, so REFUNDED -> PARTIALLY_REFUNDED /
COMPLETED and PARTIALLY_REFUNDED -> COMPLETED by the amount still refunded. A further partial refund
keeps PARTIALLY_REFUNDED (the refunded amount grows), hence that self-transition. Every writer
(mutations, checkout verification, webhooks) asks `ensure_transition` before it changes a status.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from shared.errors import Conflict
from subgraphs.payments.enums import PaymentStatus as S

TRANSITIONS: Mapping[S, frozenset[S]] = MappingProxyType(
    {
        S.PENDING: frozenset({S.PROCESSING, S.CANCELLED}),
        S.INITIATED: frozenset({S.PROCESSING, S.CANCELLED}),
        S.PROCESSING: frozenset({S.COMPLETED, S.FAILED, S.CANCELLED}),
        S.FAILED: frozenset({S.COMPLETED, S.CANCELLED}),
        S.COMPLETED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
        S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
        S.CANCELLED: frozenset(),
        S.REFUNDED: frozenset(),
    }
)

REOPENS: Mapping[S, frozenset[S]] = MappingProxyType(
    {
        S.REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.COMPLETED}),
        S.PARTIALLY_REFUNDED: frozenset({S.COMPLETED}),
    }
)
"""Backward moves, only when a processed refund fails (`sync/refunds.py`)."""

# Status groups: every rule that asks "is the payment in one of these?" uses one of these sets.

FINAL: frozenset[S] = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
"""No way out: CANCELLED, REFUNDED."""

CANCELLABLE: frozenset[S] = frozenset(
    s for s, targets in TRANSITIONS.items() if S.CANCELLED in targets
)
"""Before COMPLETED: PENDING, INITIATED, PROCESSING, FAILED."""

STARTABLE: frozenset[S] = frozenset({S.PENDING, S.INITIATED})
"""Not yet sent to Razorpay: checkout may create the order (-> PROCESSING)."""

ORDER_OPEN: frozenset[S] = frozenset({S.PROCESSING, S.FAILED})
"""A Razorpay order exists and may still be paid (Checkout lets the customer retry a failure, and
Razorpay may capture late): checkout hands out the same order, reconciliation asks about it."""

CAPTURED: frozenset[S] = frozenset({S.COMPLETED, S.PARTIALLY_REFUNDED})
"""The money was captured and some of it is left to refund."""

SETTLED: frozenset[S] = CAPTURED | {S.REFUNDED}
"""Captured at some point (refunded or not): the gross of a report, a verification done."""

NOT_COUNTED: frozenset[S] = frozenset({S.CANCELLED, S.FAILED})
"""Payments that do not count towards a creator's daily and monthly limits."""


def can_transition(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]


def ensure_transition(current: S, target: S) -> None:
    """Raise CONFLICT unless `current -> target` is an allowed move."""
    if not can_transition(current, target):
        raise Conflict(f"A {current.value} payment cannot become {target.value}")


def ensure_reopen(current: S, target: S) -> None:
    """Raise CONFLICT unless `current -> target` re-opens refunded money (`REOPENS`)."""
    if target not in REOPENS.get(current, frozenset()):
        raise Conflict(f"A {current.value} payment cannot go back to {target.value}")
