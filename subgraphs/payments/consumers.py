"""The payments service's event consumers: `user-deletions` cancels the open payments of a user an
ADMIN deleted (`admin:user:deleted`): every payment the user pays or created that can still be
cancelled (`state.CANCELLABLE`), through `lifecycle.status.change_status`, so each cancellation
leaves its transaction row and its `payments:payment:updated` event like any other."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumers import Consumer, Event
from shared.outbox import stream_for
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.lifecycle.status import change_status
from subgraphs.payments.models import Payment
from subgraphs.payments.state import CANCELLABLE

SCHEMA = "payments"
USER_DELETED = "admin:user:deleted"


async def cancel_open_payments(session: AsyncSession, event: Event) -> None:
    user_id = uuid.UUID(str(event.data["userId"]))
    statement = (
        select(Payment)
        .where(
            or_(Payment.payer_id == user_id, Payment.created_by == user_id),
            Payment.status.in_([s.value for s in CANCELLABLE]),
        )
        .order_by(Payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for payment in (await session.scalars(statement)).all():
        await change_status(
            session=session,
            payment=payment,
            target=PaymentStatus.CANCELLED,
            actor_id=event.actor_id,
            now=datetime.now(UTC),
            details={"reason": "user_deleted", "userId": str(user_id), "eventId": str(event.id)},
        )


USER_DELETIONS = Consumer(
    name="user-deletions",
    schema=SCHEMA,
    streams=(stream_for("auth"),),  # auth owns accounts: it writes admin:user:deleted
    handler=cancel_open_payments,
    types=frozenset({USER_DELETED}),
)

CONSUMERS = (USER_DELETIONS,)
"""Run by the payments app (`shared.consumers.ConsumerTasks`; its relay: `live/relay.py`)."""
