"""Status changes: every move goes through the state machine and leaves a transaction row and
an outbox event in the same transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared import metrics
from shared.context import Principal
from shared.money import to_major
from subgraphs.payments import access
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import EventType, PaymentStatus, TransactionKind, TransactionStatus
from subgraphs.payments.models import Payment
from subgraphs.payments.state import ensure_reopen, ensure_transition


def event_data(payment: Payment) -> dict[str, object]:
    return {
        "paymentId": str(payment.id),
        "type": payment.type,
        "status": payment.status,
        "amount": str(to_major(payment.amount_minor, payment.currency)),
        "amountMinor": payment.amount_minor,
        "currency": payment.currency,
        "payerId": str(payment.payer_id) if payment.payer_id else None,
        "payeeId": str(payment.payee_id) if payment.payee_id else None,
        "createdBy": str(payment.created_by),
    }


_TRANSITIONS = "bff_payment_transitions"  # in Session.info: counted once committed


@event.listens_for(Session, "after_commit")
def _count_committed_transitions(session: Session) -> None:
    for current, target in session.info.pop(_TRANSITIONS, ()):
        metrics.count_transition(current, target)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_transitions(session: Session) -> None:
    session.info.pop(_TRANSITIONS, None)


async def change_status(
    *,
    session: AsyncSession,
    payment: Payment,
    target: PaymentStatus,
    actor_id: uuid.UUID | None,
    now: datetime,
    details: dict[str, object] | None = None,
    reopen: bool = False,
) -> None:
    """Move a (locked) payment along the state machine, recording a transaction and an event
    (and `bff_payment_transitions_total` once the session commits). `reopen`: the one backward
    move, a processed refund that failed (`state.REOPENS`)."""
    current = PaymentStatus(payment.status)
    if reopen:
        ensure_reopen(current, target)
    else:
        ensure_transition(current, target)
    session.info.setdefault(_TRANSITIONS, []).append((current.value, target.value))
    payment.status = target
    payment.updated_at = now
    repo.add_transaction(
        session=session,
        payment=payment,
        kind=TransactionKind.STATUS_CHANGE,
        amount_minor=payment.amount_minor,
        status=TransactionStatus.SUCCEEDED,
        from_status=current,
        to_status=target,
        created_at=now,
        details=dict(details or {}),
    )
    event_type = {
        PaymentStatus.COMPLETED: EventType.PAYMENT_COMPLETED,
        PaymentStatus.FAILED: EventType.PAYMENT_FAILED,
    }.get(target, EventType.PAYMENT_UPDATED)
    repo.add_event(
        session=session,
        type=event_type,
        actor_id=actor_id,
        occurred_at=now,
        data={**event_data(payment), "previousStatus": current.value},
    )


async def cancel_payment(
    *,
    session: AsyncSession,
    principal: Principal,
    payment_id: uuid.UUID,
    now: datetime | None = None,
) -> Payment:
    """Cancel a payment before it completes: its creator or ADMIN; cancelling twice is a no-op."""
    payment = access.ensure_can_cancel(
        principal, await repo.get_payment(session=session, payment_id=payment_id, for_update=True)
    )
    if payment.status != PaymentStatus.CANCELLED:
        await change_status(
            session=session,
            payment=payment,
            target=PaymentStatus.CANCELLED,
            actor_id=principal.id,
            now=now or datetime.now(UTC),
        )
    await session.commit()
    return payment
