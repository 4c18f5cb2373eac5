"""Status changes and cancelling, against real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import Conflict, Forbidden, NotFound
from shared.scopes import Role
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.lifecycle import creation
from subgraphs.payments.lifecycle import status as lifecycle
from subgraphs.payments.models import OutboxEvent, PaymentTransaction
from tests.payments.factories import insert_payment
from tests.payments.people import new, principal, registered


async def test_cancel_rules(db_session: AsyncSession) -> None:
    vendor, payer, stranger = (
        principal(Role.VENDOR),
        principal(Role.CUSTOMER),
        principal(Role.CUSTOMER),
    )
    await registered(db_session, Role.CUSTOMER, user_id=payer.id)
    request = await creation.create_payment(
        session=db_session, principal=vendor, new=new(payer_id=str(payer.id))
    )
    with pytest.raises(NotFound):
        await lifecycle.cancel_payment(
            session=db_session, principal=stranger, payment_id=request.id
        )
    with pytest.raises(Forbidden):
        await lifecycle.cancel_payment(session=db_session, principal=payer, payment_id=request.id)
    with pytest.raises(NotFound):
        await lifecycle.cancel_payment(
            session=db_session, principal=vendor, payment_id=uuid.uuid4()
        )
    cancelled = await lifecycle.cancel_payment(
        session=db_session, principal=vendor, payment_id=request.id
    )
    assert cancelled.status == PaymentStatus.CANCELLED
    version = cancelled.version
    again = await lifecycle.cancel_payment(
        session=db_session, principal=principal(Role.ADMIN), payment_id=request.id
    )
    assert again.status == PaymentStatus.CANCELLED
    assert again.version == version
    txs = (
        await db_session.scalars(
            select(PaymentTransaction)
            .where(PaymentTransaction.payment_id == request.id)
            .order_by(PaymentTransaction.created_at)
        )
    ).all()
    assert [(t.kind, t.from_status, t.to_status) for t in txs] == [
        ("CREATE", None, "INITIATED"),
        ("STATUS_CHANGE", "INITIATED", "CANCELLED"),
    ]
    events = (
        await db_session.scalars(
            select(OutboxEvent.type).where(OutboxEvent.data["paymentId"].astext == str(request.id))
        )
    ).all()
    assert sorted(events) == ["payments:payment:created", "payments:payment:updated"]


async def test_completed_payments_cannot_be_cancelled(db_session: AsyncSession) -> None:
    customer = principal(Role.CUSTOMER)
    done = await insert_payment(
        db_session, created_by=customer.id, status=PaymentStatus.COMPLETED, commit=False
    )
    with pytest.raises(Conflict):
        await lifecycle.cancel_payment(session=db_session, principal=customer, payment_id=done.id)


@pytest.mark.parametrize(
    ("target", "event"),
    [
        (PaymentStatus.COMPLETED, "payments:payment:completed"),
        (PaymentStatus.FAILED, "payments:payment:failed"),
    ],
)
async def test_status_changes_write_their_event(
    db_session: AsyncSession, target: PaymentStatus, event: str
) -> None:
    payment = await insert_payment(
        db_session, created_by=uuid.uuid4(), status=PaymentStatus.PROCESSING, commit=False
    )
    await lifecycle.change_status(
        session=db_session,
        payment=payment,
        target=target,
        actor_id=None,
        now=datetime.now(UTC),
        details={"source": "test"},
    )
    await db_session.flush()
    types = (
        await db_session.scalars(
            select(OutboxEvent.type).where(OutboxEvent.data["paymentId"].astext == str(payment.id))
        )
    ).all()
    assert list(types) == [event]
