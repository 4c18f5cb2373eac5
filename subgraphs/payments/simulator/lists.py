"""Razorpay's list endpoints for payments and refunds (what the ledger reconciliation reads):

    GET /v1/payments?from=<unix s>&to=<unix s>&count=<1..100>&skip=<n>
    GET /v1/refunds?from=&to=&count=&skip=

`from` / `to` filter on `created_at` (both inclusive, unix seconds, as Razorpay documents),
newest first, `count` default 10 (at most 100), answered in Razorpay's collection shape
`{"entity": "collection", "count": n, "items": [...]}`. Kept apart from `api.py` (its own
router, same authentication and fault injection).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query

from subgraphs.payments.simulator.api import fault_gate, require_auth
from subgraphs.payments.simulator.entities import JSON, collection
from subgraphs.payments.simulator.errors import invalid_input
from subgraphs.payments.simulator.runtime import SimulatorDep
from subgraphs.payments.simulator.validation import page

router = APIRouter(prefix="/v1", dependencies=[Depends(fault_gate), Depends(require_auth)])


class _Listed(Protocol):
    created_at: int

    def to_json(self) -> JSON: ...


def _bound(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdecimal():
        raise invalid_input(f"The {name} must be an integer.", name)
    return int(value)


def _listing(
    entities: Iterable[Any], start: str | None, end: str | None, count: str | None, skip: str | None
) -> JSON:
    how_many, offset = page(count, skip)
    low, high = _bound(start, "from"), _bound(end, "to")
    if low is not None and high is not None and low > high:
        raise invalid_input("The from must be before to.", "from")
    found: list[_Listed] = [
        e
        for e in entities
        if (low is None or e.created_at >= low) and (high is None or e.created_at <= high)
    ]
    found.sort(key=lambda e: e.created_at, reverse=True)
    return collection([e.to_json() for e in found[offset : offset + how_many]])


@router.get("/payments")
async def list_payments(
    simulator: SimulatorDep,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    count: str | None = None,
    skip: str | None = None,
) -> JSON:
    with simulator.store._lock:  # a snapshot of the store's table
        payments = list(simulator.store.payments.values())
    return _listing(payments, from_, to, count, skip)


@router.get("/refunds")
async def list_refunds(
    simulator: SimulatorDep,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    count: str | None = None,
    skip: str | None = None,
) -> JSON:
    with simulator.store._lock:  # a snapshot of the store's table
        refunds = list(simulator.store.refunds.values())
    return _listing(refunds, from_, to, count, skip)
