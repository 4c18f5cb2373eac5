"""refundPayment: the payee VENDOR (or ADMIN) refunds all or part of a captured payment.

What is left to refund = amount - processed refunds - refunds still pending; asking for more is
BAD_USER_INPUT (`field: amount`), leaving `amount` out refunds all that is left. A refund row is
inserted and committed first: its key (`rfd_<row id>`) goes to Razorpay as
`X-Refund-Idempotency` (and as the refund's receipt, so its webhooks find the row). Razorpay's
answer goes through `sync.apply_provider_refund`: a processed refund moves the payment to
PARTIALLY_REFUNDED / REFUNDED now, a pending one when its webhook (or reconciliation) arrives.

When Razorpay refuses (4xx) the row becomes FAILED. When its answer never came, the row stays
PENDING: asking again for the same amount re-sends that very request (same key, same body), so a
retry never refunds twice; reconciliation re-sends it too.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal
from shared.errors import BadUserInput, Conflict
from shared.money import exponent, to_major, to_minor
from subgraphs.payments import access, sync
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import PaymentStatus, RefundStatus, TransactionKind
from subgraphs.payments.enums import TransactionStatus as TxStatus
from subgraphs.payments.models import Payment, Refund
from subgraphs.payments.provider.entities import ProviderRefund
from subgraphs.payments.provider.razorpay import ProviderCallFailed, RazorpayGateway
from subgraphs.payments.refunds import repository as refund_repo
from subgraphs.payments.state import CAPTURED


async def refund_payment(
    *,
    session: AsyncSession,
    principal: Principal,
    gateway: RazorpayGateway,
    payment_id: uuid.UUID,
    amount: Decimal | None,
    now: datetime | None = None,
) -> Payment:
    now = now or datetime.now(UTC)
    payment = access.ensure_can_refund(
        principal, await repo.get_payment(session=session, payment_id=payment_id, for_update=True)
    )
    status = PaymentStatus(payment.status)
    if status not in CAPTURED or payment.razorpay_payment_id is None:
        raise Conflict(f"A {status.value} payment cannot be refunded")
    refund = await _refund_row(session, principal, payment, amount, now)
    provider_payment_id = payment.razorpay_payment_id
    await session.commit()  # the row (and its key) exists before Razorpay is asked
    try:
        seen = await send_refund(gateway, refund, provider_payment_id)
    except ProviderCallFailed as exc:
        if exc.rejected:
            await _declined(session, refund.id, now)
        raise
    await sync.apply_provider_refund(
        session=session, refund=with_our_key(seen, refund), source="refund", now=now
    )
    await session.commit()
    return payment


async def send_refund(
    gateway: RazorpayGateway, refund: Refund, provider_payment_id: str
) -> ProviderRefund:
    """Ask Razorpay for one refund row: the very same request every time for that row (its key,
    amount and notes, the notes being the key's fingerprint), so a repeat cannot refund twice."""
    return await gateway.create_refund(
        payment_id=provider_payment_id,
        amount_minor=refund.amount_minor,
        key=refund.idempotency_key,
        notes={"paymentId": str(refund.payment_id), "refundId": str(refund.id)},
    )


def with_our_key(seen: ProviderRefund, refund: Refund) -> ProviderRefund:
    """Razorpay's view of a refund we asked for, carrying our row's key (how `sync` finds it)."""
    return replace(seen, receipt=refund.idempotency_key)


async def _refund_row(
    session: AsyncSession,
    principal: Principal,
    payment: Payment,
    amount: Decimal | None,
    now: datetime,
) -> Refund:
    """The refund to send: an earlier unanswered request of this amount, or a new row."""
    pending = await refund_repo.pending_refund_minor(session=session, payment_id=payment.id)
    left = payment.amount_minor - payment.amount_refunded_minor - pending
    if amount is not None and amount <= 0:
        raise BadUserInput("A refund amount must be positive", field="amount")
    minor = left if amount is None else to_minor(amount, payment.currency)
    unanswered = await refund_repo.unlinked_refund(
        session=session, payment_id=payment.id, amount_minor=minor
    )
    if unanswered is not None:
        return unanswered
    if left <= 0:
        raise BadUserInput("Nothing is left to refund on this payment", field="amount")
    if minor > left:
        shown = to_major(left, payment.currency)
        raise BadUserInput(f"At most {shown} {payment.currency} is left to refund", field="amount")
    smallest = 10 ** exponent(payment.currency)  # Razorpay refunds at least one major unit
    if minor < smallest:
        shown = to_major(smallest, payment.currency)
        raise BadUserInput(f"The smallest refund is {shown} {payment.currency}", field="amount")
    refund_id = uuid.uuid4()
    refund = Refund(
        id=refund_id,
        payment_id=payment.id,
        amount_minor=minor,
        currency=payment.currency,
        status=RefundStatus.PENDING,
        idempotency_key=f"rfd_{refund_id.hex}",
        razorpay_refund_id=None,
        requested_by=principal.id,
        created_at=now,
        updated_at=now,
    )
    session.add(refund)
    return refund


async def _declined(session: AsyncSession, refund_id: uuid.UUID, now: datetime) -> None:
    """Razorpay refused the refund: release its amount and record the failure."""
    refund = await session.get(Refund, refund_id)
    assert refund is not None
    payment = await repo.get_payment(session=session, payment_id=refund.payment_id, for_update=True)
    assert payment is not None
    refund.status = RefundStatus.FAILED
    refund.updated_at = now
    repo.add_transaction(
        session=session,
        payment=payment,
        kind=TransactionKind.REFUND,
        amount_minor=refund.amount_minor,
        status=TxStatus.FAILED,
        created_at=now,
        details={"source": "refund", "refundId": str(refund.id), "reason": "declined"},
    )
    await session.commit()
