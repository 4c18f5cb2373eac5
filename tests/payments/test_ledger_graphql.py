"""Fees and the ledger over GraphQL: Payment.ledger, myBalances, verifyLedger, financialReport
(access rules and results; the report checked against sums of the payments it covers)."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from shared.money import to_major
from shared.scopes import Role
from subgraphs.payments import sync
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.models import Payment
from subgraphs.payments.schema import create_schema
from tests.helpers import Subgraph, error_codes
from tests.ledger.support import captured_view, refund_view
from tests.payments.factories import insert_payment, razorpay_id

LEDGER = """query P($id: ID!) { payment(id: $id) { priority fee netAmount
  ledger { id account direction amount currency kind createdAt hash } } }"""
BALANCES = "{ myBalances { currency pending available } }"
VERIFY = "{ verifyLedger { ok checkedEntries firstBrokenEntryId } }"
REPORT = """query R($p: ReportPeriod!, $from: DateTime!, $to: DateTime!) {
  financialReport(period: $p, from: $from, to: $to) {
    periodStart currency captured refunded platformFees pspFees payableToVendors } }"""


def past_monday() -> datetime:
    day = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(365 * 30))
    return day - timedelta(days=day.weekday()) + timedelta(hours=10)


async def captured_payment(
    session: AsyncSession,
    *,
    vendor: uuid.UUID | None,
    amount_minor: int,
    fee_minor: int,
    at: datetime,
    currency: str = "INR",
    priority: str = "STANDARD",
    psp: tuple[int, int] = (0, 0),
) -> Payment:
    row = await insert_payment(
        session,
        created_by=uuid.uuid4(),
        payee_id=vendor,
        status=PaymentStatus.PROCESSING,
        amount_minor=amount_minor,
        currency=currency,
        order_id=razorpay_id("order"),
        created_at=at,
        commit=False,
    )
    row.fee_minor, row.priority = fee_minor, priority
    view = captured_view(row, fee=psp[0], tax=psp[1])
    await sync.apply_provider_payment(session=session, payment=view, source="test", now=at)
    await session.commit()
    return row


def test_sdl_declares_the_access_rules() -> None:
    sdl = create_schema(None).as_str()
    assert (
        'myBalances: [Balance!]! @authenticated @requiresScopes(scopes: [["payments:report"]])'
        in sdl
    )
    assert (
        'verifyLedger: LedgerVerification! @authenticated @requiresScopes(scopes: [["admin"]])'
        in sdl
    )
    assert "financialReport(" in sdl
    assert '): [FinancialReportRow!]! @authenticated @requiresScopes(scopes: [["admin"]])' in sdl


async def test_payment_ledger_is_visible_with_the_payment(
    payments: Subgraph, committed: AsyncSession
) -> None:
    vendor = payments.caller(Role.VENDOR)
    row = await captured_payment(
        committed, vendor=vendor.id, amount_minor=99_999, fee_minor=2_500, at=datetime.now(UTC),
        psp=(2_360, 360),
    )  # fmt: skip
    payer = payments.caller(Role.CUSTOMER, user_id=row.payer_id)
    for who in (payer, vendor, payments.caller(Role.ADMIN)):
        data = (await payments.ok(LEDGER, {"id": str(row.id)}, as_=who))["payment"]
        assert (data["fee"], data["netAmount"], data["priority"]) == ("25.00", "974.99", "STANDARD")
        assert [(e["kind"], e["account"], e["direction"], e["amount"]) for e in data["ledger"]] == [
            ("capture", "razorpay_clearing", "DEBIT", "976.39"),
            ("psp_fee", "psp_fees", "DEBIT", "20.00"),
            ("psp_tax", "psp_tax", "DEBIT", "3.60"),
            ("capture", f"vendor_payable:{vendor.id}", "CREDIT", "974.99"),
            ("platform_fee", "platform_fees", "CREDIT", "25.00"),
        ]
        assert all(len(e["hash"]) == 64 for e in data["ledger"])
    stranger = await payments.gql(LEDGER, {"id": str(row.id)}, as_=payments.caller(Role.CUSTOMER))
    assert error_codes(stranger) == ["NOT_FOUND"]


async def test_my_balances_pending_then_available(
    payments: Subgraph, committed: AsyncSession
) -> None:
    vendor = payments.caller(Role.VENDOR)
    now = datetime.now(UTC)
    # STANDARD settles after 2 days (the default), INSTANT at once.
    await captured_payment(committed, vendor=vendor.id, amount_minor=10_000, fee_minor=300, at=now)
    await captured_payment(
        committed, vendor=vendor.id, amount_minor=5_000, fee_minor=0, at=now - timedelta(days=3)
    )
    await captured_payment(
        committed, vendor=vendor.id, amount_minor=2_000, fee_minor=100, at=now, priority="INSTANT"
    )
    old_usd = await captured_payment(
        committed, vendor=vendor.id, amount_minor=700, fee_minor=0, at=now - timedelta(days=5),
        currency="USD",
    )  # fmt: skip
    await sync.apply_provider_refund(
        session=committed, refund=refund_view(old_usd, 200), source="test", now=now
    )
    await committed.commit()
    balances = (await payments.ok(BALANCES, as_=vendor))["myBalances"]
    assert balances == [
        {"currency": "INR", "pending": "97.00", "available": "69.00"},
        {"currency": "USD", "pending": "0.00", "available": "5.00"},
    ]
    assert (await payments.ok(BALANCES, as_=payments.caller(Role.VENDOR)))["myBalances"] == []
    refused = await payments.gql(BALANCES, as_=payments.caller(Role.CUSTOMER))
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_verify_ledger_is_admin_only_and_ok(payments: Subgraph) -> None:
    data = (await payments.ok(VERIFY, as_=payments.caller(Role.ADMIN)))["verifyLedger"]
    assert data["ok"] is True
    assert data["firstBrokenEntryId"] is None
    for role in (Role.VENDOR, Role.CUSTOMER):
        assert error_codes(await payments.gql(VERIFY, as_=payments.caller(role))) == ["FORBIDDEN"]


async def test_financial_report_matches_sums_of_the_payments(
    payments: Subgraph, committed: AsyncSession
) -> None:
    monday = past_monday()
    vendor, other = uuid.uuid4(), uuid.uuid4()
    made: list[tuple[datetime, Payment, int, int]] = []  # (day, row, refunded, psp fee)
    plan = [
        (monday, vendor, 100_000, 2_300, "INR", (2_360, 360), None),
        (monday, other, 50_000, 1_000, "INR", (1_180, 180), "full"),
        (monday, None, 20_000, 0, "INR", (0, 0), None),
        (monday, vendor, 3_000, 0, "USD", (90, 0), 1_000),  # no fee: the vendor bears it all
        (monday + timedelta(days=1), vendor, 7_777, 77, "INR", (0, 0), None),
    ]
    for day, payee, amount, fee, currency, psp, refunded in plan:
        row = await captured_payment(
            committed, vendor=payee, amount_minor=amount, fee_minor=fee, at=day,
            currency=currency, psp=psp,
        )  # fmt: skip
        back = 0
        if refunded is not None:
            back = amount if refunded == "full" else refunded
            await sync.apply_provider_refund(
                session=committed, refund=refund_view(row, back), source="test", now=day
            )
            await committed.commit()
        made.append((day, row, back, psp[0]))

    expected: defaultdict[tuple[datetime, str], defaultdict[str, int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for day, row, back, psp_fee in made:
        sums = expected[(day.replace(hour=0), row.currency)]
        sums["captured"] += row.amount_minor
        sums["refunded"] += back
        sums["pspFees"] += psp_fee
        full = back == row.amount_minor
        sums["platformFees"] += 0 if full else row.fee_minor
        if row.payee_id is not None:
            sums["payableToVendors"] += row.amount_minor - row.fee_minor - back if not full else 0

    def shown(sums: dict[str, int], currency: str) -> dict[str, str]:
        keys = ("captured", "refunded", "platformFees", "pspFees", "payableToVendors")
        return {k: str(to_major(sums[k], currency)) for k in keys}

    admin = payments.caller(Role.ADMIN)
    window = {
        "from": monday.replace(hour=0).isoformat(),
        "to": (monday + timedelta(days=7)).replace(hour=0).isoformat(),
    }
    days = (await payments.ok(REPORT, {"p": "DAY", **window}, as_=admin))["financialReport"]
    assert {
        (r["periodStart"], r["currency"]): {
            k: v for k, v in r.items() if k not in ("periodStart", "currency")
        }
        for r in days
    } == {
        (day.isoformat(), currency): shown(sums, currency)
        for (day, currency), sums in expected.items()
    }
    weeks = (await payments.ok(REPORT, {"p": "WEEK", **window}, as_=admin))["financialReport"]
    inr = [r for r in weeks if r["currency"] == "INR"]
    assert len(inr) == 1
    assert inr[0]["periodStart"] == monday.replace(hour=0).isoformat()
    total = sum(Decimal(r["captured"]) for r in days if r["currency"] == "INR")
    assert Decimal(inr[0]["captured"]) == total == Decimal("1777.77")
    months = (await payments.ok(REPORT, {"p": "MONTH", **window}, as_=admin))["financialReport"]
    assert sum(Decimal(r["captured"]) for r in months if r["currency"] == "INR") == total
    assert all(r["periodStart"].endswith("-01T00:00:00+00:00") for r in months)

    refused = await payments.gql(REPORT, {"p": "DAY", **window}, as_=payments.caller(Role.VENDOR))
    assert error_codes(refused) == ["FORBIDDEN"]
    backwards = await payments.gql(
        REPORT, {"p": "DAY", "from": window["to"], "to": window["from"]}, as_=admin
    )
    assert error_codes(backwards) == ["BAD_USER_INPUT"]
    assert backwards["errors"][0]["extensions"]["field"] == "to"


async def test_the_ledger_gauge_is_on_metrics(payments: Subgraph) -> None:
    metrics = (await payments.client.get("/metrics")).text
    assert "# TYPE bff_ledger_broken gauge" in metrics
