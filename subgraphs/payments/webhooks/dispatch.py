"""Applying a stored event: a table from event type to handler, each handler turning Razorpay's
entity into the sync module's typed view and applying it through the one idempotent path.

One transaction per attempt: lock the event row (`FOR UPDATE SKIP LOCKED`), apply, and record
the outcome on the row in the SAME transaction as the payment's state change, so an event is
applied at most once however many deliveries, requests and workers race.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.config import WebhookSettings
from shared.errors import DomainError
from shared.logging import mask
from shared.metrics import count_webhook_event
from subgraphs.payments import sync
from subgraphs.payments.webhooks import store
from subgraphs.payments.webhooks.metrics import WebhookMetrics
from subgraphs.payments.webhooks.models import DONE, Outcome, WebhookEvent
from subgraphs.payments.webhooks.payloads import PayloadError, PaymentEntity, RefundEntity, entity

log = logging.getLogger("webhooks.dispatch")

SOURCE = "webhook"
Path = Literal["request", "worker"]


@dataclass(frozen=True)
class Applied:
    outcome: Outcome
    payment_id: uuid.UUID | None = None
    note: str | None = None
    # Retrying cannot help (a payload without what its type needs): park at once.
    permanent: bool = False


Handler = Callable[[AsyncSession, dict[str, Any], datetime], Awaitable[Applied]]


async def apply_payment_event(
    session: AsyncSession, payload: dict[str, Any], now: datetime
) -> Applied:
    """payment.* and order.paid: the payment entity the event carries."""
    payment = entity(payload, "payment", PaymentEntity)
    if payment.order_id is None:
        # Every payment this product takes belongs to an order it created.
        return Applied("ignored", note="payment has no order_id")
    result = await sync.apply_provider_payment(
        session=session,
        payment=sync.ProviderPayment(
            id=payment.id,
            order_id=payment.order_id,
            status=payment.status,
            amount_minor=payment.amount,
            currency=payment.currency.upper(),
            amount_refunded_minor=payment.amount_refunded,
            error_code=payment.error_code,
            error_description=payment.error_description,
            fee_minor=payment.fee,
            tax_minor=payment.tax,
        ),
        source=SOURCE,
        now=now,
    )
    return Applied(result.outcome, result.payment_id)


async def apply_refund_event(
    session: AsyncSession, payload: dict[str, Any], now: datetime
) -> Applied:
    """refund.*: the refund entity the event carries."""
    refund = entity(payload, "refund", RefundEntity)
    result = await sync.apply_provider_refund(
        session=session,
        refund=sync.ProviderRefund(
            id=refund.id,
            payment_id=refund.payment_id,
            amount_minor=refund.amount,
            currency=refund.currency.upper(),
            status=refund.status,
            receipt=refund.receipt,
        ),
        source=SOURCE,
        now=now,
    )
    return Applied(result.outcome, result.payment_id)


HANDLERS: Mapping[str, Handler] = MappingProxyType(
    {
        "payment.authorized": apply_payment_event,
        "payment.captured": apply_payment_event,
        "payment.failed": apply_payment_event,
        "order.paid": apply_payment_event,
        "refund.created": apply_refund_event,
        "refund.processed": apply_refund_event,
        "refund.failed": apply_refund_event,
    }
)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    unknown_order_max_attempts: int
    backoff_base_seconds: float
    backoff_max_seconds: float

    @classmethod
    def from_settings(cls, settings: WebhookSettings) -> RetryPolicy:
        return cls(
            max_attempts=settings.webhook_max_attempts,
            unknown_order_max_attempts=settings.webhook_unknown_order_max_attempts,
            backoff_base_seconds=settings.webhook_backoff_base_seconds,
            backoff_max_seconds=settings.webhook_backoff_max_seconds,
        )

    def delay(self, attempts: int) -> timedelta:
        """Wait after `attempts` failed attempts: base, 2 x base, 4 x base, ... up to the cap."""
        seconds = self.backoff_base_seconds * 2.0 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))

    def limit(self, outcome: str) -> int:
        return self.unknown_order_max_attempts if outcome == "unknown_order" else self.max_attempts


def describe(exc: BaseException) -> str:
    """What to keep of an exception: its type, and the message only of our own domain errors
    (driver errors can quote SQL parameters)."""
    if isinstance(exc, DomainError | PayloadError):
        return f"{type(exc).__name__}: {exc}"[:500]
    return type(exc).__name__


async def _dispatch(session: AsyncSession, row: WebhookEvent, now: datetime) -> Applied:
    handler = HANDLERS.get(row.event_type)
    if handler is None:
        return Applied("ignored", note=f"no handler for {row.event_type}")
    try:
        # A savepoint: whatever the handler wrote is undone if it fails; the row's bookkeeping
        # (attempts, error, next try) still commits.
        async with session.begin_nested():
            return await handler(session, row.payload.get("payload") or {}, now)
    except PayloadError as exc:
        return Applied("error", note=describe(exc), permanent=True)
    except Exception as exc:
        log.warning(
            "webhook apply failed",
            extra={"event_id": mask(row.event_id), "event_type": row.event_type},
            exc_info=True,
        )
        return Applied("error", note=describe(exc))


def _record(row: WebhookEvent, result: Applied, now: datetime, policy: RetryPolicy) -> bool:
    """Write the outcome on the row; True when the event is parked now."""
    row.outcome = result.outcome
    row.last_error = result.note
    if result.payment_id is not None:
        row.payment_id = result.payment_id
    if result.outcome in DONE:
        row.applied_at = now
        return False
    if (
        result.permanent
        or result.outcome == "mismatch"
        or row.attempts >= policy.limit(result.outcome)
    ):
        row.parked_at = now
        return True
    row.next_attempt_at = now + policy.delay(row.attempts)
    return False


async def apply_stored_event(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    policy: RetryPolicy,
    metrics: WebhookMetrics,
    path: Path,
    event_pk: uuid.UUID | None = None,
    now: datetime | None = None,
) -> WebhookEvent | None:
    """One attempt at one event (the given one, or the most overdue); None when there was
    nothing to do (already applied or parked, being applied elsewhere, nothing due).

    The handler's errors are caught in its savepoint (`_dispatch`). What fails after it, the
    COMMIT above all (a deferred check such as the ledger's balance per transaction), rolls the
    whole attempt back, its bookkeeping included: that attempt is then recorded in a
    transaction of its own, so the event backs off and is parked at its limit like any other
    failure instead of staying the most overdue and coming first in every pass."""
    now = now or datetime.now(UTC)
    claimed: uuid.UUID | None = None
    try:
        async with sessionmaker() as session, session.begin():
            row = await store.claim(session=session, now=now, event_pk=event_pk)
            if row is None:
                return None
            claimed = row.id
            result = await _dispatch(session, row, now)
            # Counted with the outcome: one UPDATE of the row, at COMMIT.
            row.attempts += 1
            parked = _record(row, result, now, policy)
    except Exception as exc:
        if claimed is None:
            raise  # nothing was claimed (the database is down, say): the caller's to handle
        log.warning(
            "webhook apply refused at commit",
            extra={"event_pk": str(claimed), "error_type": type(exc).__name__},
        )
        return await _record_failed_attempt(
            sessionmaker=sessionmaker, policy=policy, metrics=metrics, path=path,
            event_pk=claimed, now=now, error=exc,
        )  # fmt: skip
    _report(row, result, parked, metrics, path)
    return row


async def _record_failed_attempt(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    policy: RetryPolicy,
    metrics: WebhookMetrics,
    path: Path,
    event_pk: uuid.UUID,
    now: datetime,
    error: Exception,
) -> WebhookEvent | None:
    """An attempt whose transaction was rolled back after the handler, written down alone."""
    async with sessionmaker() as session, session.begin():
        row = await store.claim(session=session, now=now, event_pk=event_pk)
        if row is None:  # applied after all (the COMMIT's answer was lost), or taken elsewhere
            return None
        row.attempts += 1
        result = Applied("error", note=describe(error))
        parked = _record(row, result, now, policy)
    _report(row, result, parked, metrics, path)
    return row


def _report(
    row: WebhookEvent, result: Applied, parked: bool, metrics: WebhookMetrics, path: Path
) -> None:
    fields = {
        "event_id": mask(row.event_id),
        "event_type": row.event_type,
        "outcome": result.outcome,
        "attempts": row.attempts,
        "payment_id": mask(str(result.payment_id)) if result.payment_id else None,
        "path": path,
    }
    count_webhook_event(row.event_type, result.outcome)
    if result.outcome in DONE:
        metrics.applied.labels(outcome=result.outcome, path=path).inc()
        log.info("webhook event done", extra=fields)
        return
    metrics.failures.labels(outcome=result.outcome, path=path).inc()
    if result.outcome == "mismatch":
        log.warning(
            "webhook event does not match our payment",
            extra={**fields, "security_event": "webhook_amount_mismatch"},
        )
    if parked:
        metrics.parked.labels(outcome=result.outcome).inc()
        log.error("webhook event parked", extra={**fields, "last_error": row.last_error})
    else:
        log.info(
            "webhook event will be retried",
            extra={**fields, "next_attempt_at": row.next_attempt_at.isoformat()},
        )
