"""Helpers of the ledger tests: payments in a given state, Razorpay's view of them, the chain."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.config import PaymentsSettings
from subgraphs.payments import sync
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.ledger.chain import DEBIT, GENESIS, row_hash
from subgraphs.payments.models import LedgerEntry, LedgerHead, Payment
from subgraphs.payments.provider.razorpay import RazorpayGateway
from subgraphs.payments.sync import ProviderPayment, ProviderRefund
from tests.conftest import Infra
from tests.payments.factories import insert_payment, razorpay_id
from tests.simulator.support import KEY_ID, KEY_SECRET


async def processing(
    session: AsyncSession,
    *,
    amount_minor: int = 100_000,
    fee_minor: int = 0,
    vendor: uuid.UUID | None = None,
    currency: str = "INR",
    status: PaymentStatus = PaymentStatus.PROCESSING,
) -> Payment:
    row = await insert_payment(
        session,
        created_by=uuid.uuid4(),
        payee_id=vendor,
        status=status,
        amount_minor=amount_minor,
        currency=currency,
        order_id=razorpay_id("order"),
        commit=False,
    )
    row.fee_minor = fee_minor
    await session.flush()
    return row


def captured_view(row: Payment, *, fee: int = 0, tax: int = 0, **kw: Any) -> ProviderPayment:
    assert row.razorpay_order_id is not None
    values: dict[str, Any] = {
        "id": row.razorpay_payment_id or razorpay_id("pay"),
        "order_id": row.razorpay_order_id,
        "status": "captured",
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "amount_refunded_minor": 0,
        "fee_minor": fee,
        "tax_minor": tax,
    }
    values.update(kw)
    return ProviderPayment(**values)


def refund_view(
    row: Payment, amount_minor: int, status: str = "processed", **kw: Any
) -> ProviderRefund:
    assert row.razorpay_payment_id is not None
    values: dict[str, Any] = {
        "id": razorpay_id("rfnd"),
        "payment_id": row.razorpay_payment_id,
        "amount_minor": amount_minor,
        "currency": row.currency,
        "status": status,
    }
    values.update(kw)
    return ProviderRefund(**values)


async def capture(session: AsyncSession, row: Payment, **kw: Any) -> str:
    result = await sync.apply_provider_payment(
        session=session, payment=captured_view(row, **kw), source="test"
    )
    return result.outcome


async def refund(session: AsyncSession, seen: ProviderRefund) -> str:
    return (await sync.apply_provider_refund(session=session, refund=seen, source="test")).outcome


async def entries(session: AsyncSession, payment_id: uuid.UUID) -> Sequence[LedgerEntry]:
    statement = (
        select(LedgerEntry).where(LedgerEntry.payment_id == payment_id).order_by(LedgerEntry.seq)
    )
    return (await session.scalars(statement)).all()


def signed(rows: Sequence[LedgerEntry]) -> list[tuple[str, str, int]]:
    """(kind, account, +debit / -credit) of each row."""
    return [
        (r.kind, r.account, r.amount_minor if r.direction == DEBIT else -r.amount_minor)
        for r in rows
    ]


def assert_balanced(rows: Sequence[LedgerEntry]) -> None:
    """Every ledger transaction among `rows` balances per currency."""
    totals: defaultdict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for r in rows:
        totals[(r.txn_id, r.currency)] += (
            r.amount_minor if r.direction == DEBIT else -r.amount_minor
        )
    assert totals
    assert set(totals.values()) == {0}


async def assert_chained(session: AsyncSession) -> int:
    """The whole chain as this session sees it recomputes; returns its length."""
    rows = (await session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))).all()
    previous = GENESIS
    for expected_seq, r in enumerate(rows, start=1):
        assert r.seq == expected_seq
        assert r.hash == row_hash(previous, r)
        previous = r.hash
    head = await session.scalar(select(LedgerHead))
    assert head is not None
    assert (head.last_seq, head.last_hash) == (len(rows), previous)
    return len(rows)


def simulator_gateway(infra: Infra, simulator_url: str) -> RazorpayGateway:
    """The payments' Razorpay client, pointed at a simulator of the test's own (quick retries);
    the caller closes it."""
    settings = PaymentsSettings(
        app_env="test",
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        razorpay_key_id=KEY_ID,
        razorpay_key_secret=SecretStr(KEY_SECRET),
        razorpay_api_base_url=simulator_url,
        razorpay_retry_backoff_seconds=0.01,
    )
    return RazorpayGateway.from_settings(settings)
