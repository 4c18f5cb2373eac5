"""Done-when of fees and the ledger, through the router: a vendor's INSTANT payment with a fee
rule, from creation to capture (the simulator's signed webhook) to a partial refund; the fee, net
amount, ledger rows (balanced, chained), the vendor's balance and the day's financial report."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.e2e.conftest import Client
from tests.e2e.test_payments_flow import ok, pay_at_simulator, start_checkout
from tests.helpers import wait_until

SET = "mutation($k: String!, $v: JSON!) { setSystemConfig(key: $k, value: $v) { key } }"
RULES = {"INR": {"INSTANT": {"percentBps": 350, "fixed": "5.00"}}}
PAYMENT = """query($id: ID!) { payment(id: $id) { status priority amount fee netAmount
  amountRefunded ledger { id account direction amount currency kind createdAt hash } } }"""
BALANCES = "{ myBalances { currency pending available } }"
REPORT = """query($from: DateTime!, $to: DateTime!) {
  financialReport(period: DAY, from: $from, to: $to) {
    periodStart currency captured refunded platformFees pspFees payableToVendors } }"""
FIELDS = ("captured", "refunded", "platformFees", "pspFees", "payableToVendors")


def inr(rows: list[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(r[key]) for r in rows if r["currency"] == "INR"), Decimal(0))


async def day_report(client: Client, admin: str) -> dict[str, Decimal]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    window = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    rows = (await ok(client, REPORT, window, admin))["financialReport"]
    assert all(r["periodStart"] == today.isoformat() for r in rows)
    return {k: inr(rows, k) for k in FIELDS}


async def test_instant_vendor_payment_fee_ledger_balance_and_report(client: Client) -> None:
    admin = await client.login("admin@example.com")
    vendor = await client.login("vendor@example.com")
    customer = await client.login("customer@example.com")
    customer_id = (await ok(client, "{ me { id } }", {}, customer))["me"]["id"]
    vendor_id = (await ok(client, "{ me { id } }", {}, vendor))["me"]["id"]
    await ok(client, SET, {"k": "payments.fees", "v": RULES}, admin)
    try:
        before_balance = inr((await ok(client, BALANCES, {}, vendor))["myBalances"], "available")
        before_report = await day_report(client, admin)

        created = await ok(
            client,
            "mutation($i: CreatePaymentInput!) { createPayment(input: $i) "
            "{ id status priority fee netAmount } }",
            {"i": {"amount": "1000.00", "payerId": customer_id, "priority": "INSTANT"}},
            vendor,
        )
        payment = created["createPayment"]
        assert (payment["status"], payment["priority"]) == ("INITIATED", "INSTANT")
        assert (payment["fee"], payment["netAmount"]) == ("40.00", "960.00")  # 3.5 % + 5.00

        checkout = await start_checkout(client, customer, payment["id"])
        await pay_at_simulator(client, checkout["razorpayOrderId"])  # its webhooks capture

        async def status_is(expected: str) -> bool:
            seen = await ok(client, PAYMENT, {"id": payment["id"]}, vendor)
            return bool(seen["payment"]["status"] == expected)

        await wait_until(lambda: status_is("COMPLETED"), message="the capture never applied")
        refund = await client.gql(
            'mutation($id: ID!) { refundPayment(id: $id, amount: "250.00") { id } }',
            {"id": payment["id"]},
            token=vendor,
        )
        assert "errors" not in refund, refund
        await wait_until(lambda: status_is("PARTIALLY_REFUNDED"), message="no refund")

        seen = (await ok(client, PAYMENT, {"id": payment["id"]}, customer))["payment"]
        assert (seen["fee"], seen["netAmount"], seen["amountRefunded"]) == (
            "40.00",
            "960.00",
            "250.00",
        )
        ledger = seen["ledger"]
        moves = [(e["kind"], e["account"], e["direction"], e["amount"]) for e in ledger]
        payable = f"vendor_payable:{vendor_id}"
        # Razorpay's fee in the simulator: 2 % + 18 % GST on it = 23.60 (3.60 tax).
        assert moves == [
            ("capture", "razorpay_clearing", "DEBIT", "976.40"),
            ("psp_fee", "psp_fees", "DEBIT", "20.00"),
            ("psp_tax", "psp_tax", "DEBIT", "3.60"),
            ("capture", payable, "CREDIT", "960.00"),
            ("platform_fee", "platform_fees", "CREDIT", "40.00"),
            ("refund", "razorpay_clearing", "CREDIT", "250.00"),
            ("refund", payable, "DEBIT", "240.00"),
            ("refund", "platform_fees", "DEBIT", "10.00"),
        ]
        totals: Counter[str] = Counter()
        for e in ledger:
            totals[e["direction"]] += Decimal(e["amount"])  # type: ignore[assignment]
        assert totals["DEBIT"] == totals["CREDIT"] == Decimal("1250.00")  # balanced
        assert all(len(e["hash"]) == 64 for e in ledger)
        assert len({e["hash"] for e in ledger}) == len(ledger)
        verified = (await ok(client, "{ verifyLedger { ok checkedEntries firstBrokenEntryId } }",
                             {}, admin))["verifyLedger"]  # fmt: skip
        assert verified["ok"] is True, verified  # chained: every row recomputes
        assert verified["checkedEntries"] >= len(ledger)

        after_balance = inr((await ok(client, BALANCES, {}, vendor))["myBalances"], "available")
        assert after_balance - before_balance == Decimal("720.00")  # INSTANT: available at once

        after_report = await day_report(client, admin)
        assert {k: after_report[k] - before_report[k] for k in FIELDS} == {
            "captured": Decimal("1000.00"),
            "refunded": Decimal("250.00"),
            "platformFees": Decimal("30.00"),
            "pspFees": Decimal("23.60"),
            "payableToVendors": Decimal("720.00"),
        }
    finally:
        await ok(client, SET, {"k": "payments.fees", "v": {}}, admin)
