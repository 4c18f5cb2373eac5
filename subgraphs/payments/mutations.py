"""Payments mutations: resolvers read input, call the service and map the result."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from shared.scopes import Scope
from subgraphs.payments import service
from subgraphs.payments.checkout import start, verification
from subgraphs.payments.context import Context
from subgraphs.payments.inputs import CreatePaymentInput, VerifyPaymentInput
from subgraphs.payments.lifecycle import creation
from subgraphs.payments.lifecycle import status as lifecycle
from subgraphs.payments.refunds import service as refunds
from subgraphs.payments.types import CheckoutSession, Payment

WRITE = [[Scope.PAYMENTS_WRITE.value]]
REFUND = [[Scope.PAYMENTS_REFUND.value]]


async def create_payment(
    info: Info[Context, None],
    input: Annotated[CreatePaymentInput, strawberry.argument(description="The new payment.")],
) -> Payment:
    principal = info.context.require_principal()
    new = input.to_new_payment()
    async with info.context.db() as session:
        row = await creation.create_payment(session=session, principal=principal, new=new)
    return Payment.from_row(row)


async def cancel_payment(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="The payment's id.")],
) -> Payment:
    principal = info.context.require_principal()
    payment_id = service.parse_id(str(id), field="id")
    async with info.context.db() as session:
        row = await lifecycle.cancel_payment(
            session=session, principal=principal, payment_id=payment_id
        )
    return Payment.from_row(row)


async def start_checkout(
    info: Info[Context, None],
    payment_id: Annotated[
        strawberry.ID, strawberry.argument(description="The payment the caller is to pay.")
    ],
) -> CheckoutSession:
    principal = info.context.require_principal()
    parsed = service.parse_id(str(payment_id), field="paymentId")
    async with info.context.db() as session:
        result = await start.start_checkout(
            session=session,
            principal=principal,
            gateway=info.context.gateway(),
            payment_id=parsed,
        )
    return CheckoutSession.from_checkout(result)


async def verify_payment(
    info: Info[Context, None],
    input: Annotated[
        VerifyPaymentInput,
        strawberry.argument(description="The payment and Checkout handler's three values."),
    ],
) -> Payment:
    principal = info.context.require_principal()
    check = input.to_verification()
    async with info.context.db() as session:
        row = await verification.verify_payment(
            session=session, principal=principal, gateway=info.context.gateway(), check=check
        )
    return Payment.from_row(row)


async def refund_payment(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="The payment's id.")],
    amount: Annotated[
        Decimal | None,
        strawberry.argument(
            description='How much to refund, decimal string in major units (e.g. "10.50"); '
            "at most what is left; all that is left when omitted."
        ),
    ] = None,
) -> Payment:
    principal = info.context.require_principal()
    payment_id = service.parse_id(str(id), field="id")
    async with info.context.db() as session:
        row = await refunds.refund_payment(
            session=session,
            principal=principal,
            gateway=info.context.gateway(),
            payment_id=payment_id,
            amount=amount,
        )
    return Payment.from_row(row)


@strawberry.type
class Mutation:
    create_payment: Payment = strawberry.federation.mutation(
        resolver=create_payment,
        description=(
            "CUSTOMER: a PAYMENT, status PENDING. VENDOR: an INITIATE request, status INITIATED, "
            "payerId required. Amounts within the currency's precision and limits."
        ),
        authenticated=True,
        requires_scopes=WRITE,
    )
    cancel_payment: Payment = strawberry.federation.mutation(
        resolver=cancel_payment,
        description="Cancel a payment before it completes: its creator or ADMIN.",
        authenticated=True,
        requires_scopes=WRITE,
    )
    start_checkout: CheckoutSession = strawberry.federation.mutation(
        resolver=start_checkout,
        description=(
            "The payer opens Razorpay Checkout: creates the Razorpay order (PENDING/INITIATED -> "
            "PROCESSING); while that order is open, returns the same order again."
        ),
        authenticated=True,
        requires_scopes=WRITE,
    )
    verify_payment: Payment = strawberry.federation.mutation(
        resolver=verify_payment,
        description=(
            "The payer hands over Checkout's handler response. Bad signature -> BAD_USER_INPUT "
            "and FAILED; valid -> Razorpay's view applied (COMPLETED once captured). Idempotent."
        ),
        authenticated=True,
        requires_scopes=WRITE,
    )
    refund_payment: Payment = strawberry.federation.mutation(
        resolver=refund_payment,
        description=(
            "Refund a captured payment: its payee VENDOR or ADMIN. Without `amount`, all that is "
            "left; partial refunds allowed, never more than what is left."
        ),
        authenticated=True,
        requires_scopes=REFUND,
    )
