"""paymentReport: VENDOR own (payee or creator), ADMIN all; exact totals per currency/status."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared.scopes import Role
from subgraphs.payments.enums import PaymentStatus, PaymentType
from subgraphs.payments.schema import create_schema
from tests.helpers import Subgraph, error_codes
from tests.payments.factories import insert_payment
from tests.payments.shop import REPORT
from tests.sdl import without_descriptions


def day() -> datetime:
    return datetime(1990, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(1800))


def test_sdl_declares_the_new_operations() -> None:
    sdl = without_descriptions(create_schema(None).as_str())
    assert (
        "paymentReport(from: DateTime!, to: DateTime!, currency: String = null): PaymentReport! "
        '@authenticated @requiresScopes(scopes: [["payments:report"]])'
    ) in sdl
    assert (
        "refundPayment(id: ID!, amount: Decimal = null): Payment! @authenticated "
        '@requiresScopes(scopes: [["payments:refund"]])'
    ) in sdl
    assert "startCheckout(paymentId: ID!): CheckoutSession! @authenticated" in sdl
    assert "verifyPayment(input: VerifyPaymentInput!): Payment! @authenticated" in sdl


async def test_vendor_and_admin_reports(shop: Subgraph, committed: AsyncSession) -> None:
    vendor, other = shop.caller(Role.VENDOR), shop.caller(Role.VENDOR)
    start = day()
    rows = [
        (vendor.id, PaymentStatus.COMPLETED, 10_001, 0, "INR"),
        (vendor.id, PaymentStatus.PARTIALLY_REFUNDED, 5_000, 1_999, "INR"),
        (vendor.id, PaymentStatus.REFUNDED, 3_000, 3_000, "INR"),
        (vendor.id, PaymentStatus.FAILED, 7_000, 0, "INR"),
        (vendor.id, PaymentStatus.COMPLETED, 250, 0, "USD"),
        (other.id, PaymentStatus.COMPLETED, 99_999, 0, "INR"),
    ]
    for i, (payee, status, amount, refunded, currency) in enumerate(rows):
        await insert_payment(
            committed,
            created_by=uuid.uuid4(),
            payee_id=payee,
            status=status,
            amount_minor=amount,
            amount_refunded_minor=refunded,
            currency=currency,
            created_at=start + timedelta(minutes=i),
        )
    await insert_payment(  # a request the vendor created counts too
        committed,
        created_by=vendor.id,
        payer_id=uuid.uuid4(),
        payee_id=vendor.id,
        type=PaymentType.INITIATE,
        status=PaymentStatus.INITIATED,
        amount_minor=400,
        created_at=start,
    )
    span = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    mine = (await shop.ok(REPORT, span, as_=vendor))["paymentReport"]
    assert mine["totals"] == [
        {"currency": "INR", "count": 5, "capturedCount": 3, "gross": "180.01",
         "refunded": "49.99", "net": "130.02"},
        {"currency": "USD", "count": 1, "capturedCount": 1, "gross": "2.50",
         "refunded": "0.00", "net": "2.50"},
    ]  # fmt: skip
    assert {"status": "FAILED", "currency": "INR", "count": 1, "amount": "70.00"} in mine[
        "byStatus"
    ]
    only_usd = await shop.ok(REPORT, {**span, "currency": "usd"}, as_=vendor)
    assert [t["currency"] for t in only_usd["paymentReport"]["totals"]] == ["USD"]
    assert only_usd["paymentReport"]["currency"] == "USD"
    everything = (await shop.ok(REPORT, span, as_=shop.caller(Role.ADMIN)))["paymentReport"]
    inr = next(t for t in everything["totals"] if t["currency"] == "INR")
    assert (inr["count"], inr["gross"]) == (6, "1180.00")


async def test_report_rules(shop: Subgraph) -> None:
    vendor = shop.caller(Role.VENDOR)
    start = day()
    backwards = {"from": start.isoformat(), "to": start.isoformat()}
    result = await shop.gql(REPORT, backwards, as_=vendor)
    assert result["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "to"}
    too_long = {"from": start.isoformat(), "to": (start + timedelta(days=400)).isoformat()}
    assert error_codes(await shop.gql(REPORT, too_long, as_=vendor)) == ["BAD_USER_INPUT"]
    span = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    assert error_codes(await shop.gql(REPORT, span, as_=shop.caller(Role.CUSTOMER))) == [
        "FORBIDDEN"
    ]
    assert error_codes(await shop.gql(REPORT, span)) == ["UNAUTHENTICATED"]
    empty = await shop.ok(REPORT, span, as_=vendor)
    assert empty["paymentReport"]["totals"] == []
