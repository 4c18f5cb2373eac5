"""refundPayment against the simulator: full, partial, too much, idempotent retries, access."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.scopes import Role
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.models import Refund
from tests.helpers import Subgraph, error_codes
from tests.payments.factories import insert_payment
from tests.payments.shop import REFUND, paid, transactions
from tests.simulator.support import Sim


def refunds_at_razorpay(sim: Sim, provider_payment_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = sim.rzp.payment.fetch_multiple_refund(provider_payment_id, {})[
        "items"
    ]
    return items


async def test_partial_then_rest_then_nothing_left(shop: Subgraph, simulator: Sim) -> None:
    _, vendor, payment_id = await paid(shop, simulator, "100.00")
    part = await shop.ok(REFUND, {"id": payment_id, "amount": "30.50"}, as_=vendor)
    got = part["refundPayment"]
    assert (got["status"], got["amountRefunded"]) == ("PARTIALLY_REFUNDED", "30.50")
    too_much = await shop.gql(REFUND, {"id": payment_id, "amount": "69.51"}, as_=vendor)
    assert too_much["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "amount"}
    assert "69.50" in too_much["errors"][0]["message"]
    for bad in ("0", "-1", "0.001"):
        result = await shop.gql(REFUND, {"id": payment_id, "amount": bad}, as_=vendor)
        assert result["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "amount"}
    rest = await shop.ok(REFUND, {"id": payment_id}, as_=vendor)
    got = rest["refundPayment"]
    assert (got["status"], got["amountRefunded"]) == ("REFUNDED", "100.00")
    provider_id = got["razorpayPaymentId"]
    assert sorted(r["amount"] for r in refunds_at_razorpay(simulator, provider_id)) == [3050, 6950]
    again = await shop.gql(REFUND, {"id": payment_id}, as_=vendor)
    assert error_codes(again) == ["CONFLICT"]
    rows = await transactions(shop.engine, payment_id)
    assert [r.to_status for r in rows if r.kind == "STATUS_CHANGE"][-2:] == [
        "PARTIALLY_REFUNDED",
        "REFUNDED",
    ]
    assert [r.amount_minor for r in rows if r.kind == "REFUND"] == [3050, 6950]


async def test_admin_refunds_in_full(shop: Subgraph, simulator: Sim) -> None:
    _, _, payment_id = await paid(shop, simulator, "10.00")
    done = await shop.ok(REFUND, {"id": payment_id}, as_=shop.caller(Role.ADMIN))
    assert (done["refundPayment"]["status"], done["refundPayment"]["amountRefunded"]) == (
        "REFUNDED",
        "10.00",
    )


async def test_refund_access(shop: Subgraph, simulator: Sim) -> None:
    customer, vendor, payment_id = await paid(shop, simulator, "10.00")
    variables = {"id": payment_id, "amount": "1.00"}
    assert error_codes(await shop.gql(REFUND, variables, as_=customer)) == ["FORBIDDEN"]  # scope
    other_vendor = await shop.gql(REFUND, variables, as_=shop.caller(Role.VENDOR))
    missing = await shop.gql(REFUND, {"id": str(uuid.uuid4())}, as_=vendor)
    assert error_codes(other_vendor) == error_codes(missing) == ["NOT_FOUND"]
    assert other_vendor["errors"][0]["message"] == missing["errors"][0]["message"]


async def test_only_captured_payments_refund(shop: Subgraph, committed: AsyncSession) -> None:
    vendor = shop.caller(Role.VENDOR)
    row = await insert_payment(
        committed, created_by=uuid.uuid4(), payee_id=vendor.id, status=PaymentStatus.PROCESSING
    )
    result = await shop.gql(REFUND, {"id": str(row.id)}, as_=vendor)
    assert error_codes(result) == ["CONFLICT"]


async def test_a_refund_razorpay_declines_is_released(
    shop: Subgraph, committed: AsyncSession
) -> None:
    """Our books say captured, Razorpay does not know the payment: declined, row FAILED."""
    vendor = shop.caller(Role.VENDOR)
    row = await insert_payment(
        committed,
        created_by=uuid.uuid4(),
        payee_id=vendor.id,
        status=PaymentStatus.COMPLETED,
        provider_payment_id="pay_" + uuid.uuid4().hex[:14],
    )
    result = await shop.gql(REFUND, {"id": str(row.id)}, as_=vendor)
    assert error_codes(result) == ["PAYMENT_PROVIDER_ERROR"]
    assert "does not exist" not in result["errors"][0]["message"]
    refunds = (await committed.scalars(select(Refund).where(Refund.payment_id == row.id))).all()
    assert [(r.status, r.razorpay_refund_id) for r in refunds] == [("FAILED", None)]


async def test_unanswered_refund_is_retried_with_the_same_key(
    shop: Subgraph, simulator: Sim, faults: Callable[..., None], committed: AsyncSession
) -> None:
    _, vendor, payment_id = await paid(shop, simulator, "50.00")
    # Every refund request is answered after the client gave up (yet Razorpay acts on it).
    faults("timeout", count=None, path_prefix="/v1/payments/", sleep_s=1.3)
    lost = await shop.gql(REFUND, {"id": payment_id, "amount": "20.00"}, as_=vendor)
    assert error_codes(lost) == ["PAYMENT_PROVIDER_ERROR"]
    faults("none")
    refunds = (await committed.scalars(select(Refund).where(Refund.payment_id == payment_id))).all()
    assert [(r.status, r.razorpay_refund_id) for r in refunds] == [("PENDING", None)]
    # Asking again for the same amount re-sends that request: Razorpay answers with the first.
    retried = await shop.ok(REFUND, {"id": payment_id, "amount": "20.00"}, as_=vendor)
    assert retried["refundPayment"]["amountRefunded"] == "20.00"
    provider_id = retried["refundPayment"]["razorpayPaymentId"]
    assert [r["amount"] for r in refunds_at_razorpay(simulator, provider_id)] == [2000]
    # A different amount is a new refund; 20.00 + 30.00 is everything.
    rest = await shop.ok(REFUND, {"id": payment_id, "amount": "30.00"}, as_=vendor)
    assert rest["refundPayment"]["status"] == "REFUNDED"
    assert len(refunds_at_razorpay(simulator, provider_id)) == 2
