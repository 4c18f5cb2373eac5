"""Payments mutations: resolvers read input, call the service and map the result."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from shared.scopes import Scope
from subgraphs.payments import creation, lifecycle, service
from subgraphs.payments.context import Context
from subgraphs.payments.inputs import CreatePaymentInput
from subgraphs.payments.types import Payment

WRITE = [[Scope.PAYMENTS_WRITE.value]]


async def create_payment(info: Info[Context, None], input: CreatePaymentInput) -> Payment:
    principal = info.context.require_principal()
    new = input.to_new_payment()
    async with info.context.db() as session:
        row = await creation.create_payment(session=session, principal=principal, new=new)
    return Payment.from_row(row)


async def cancel_payment(info: Info[Context, None], id: strawberry.ID) -> Payment:
    principal = info.context.require_principal()
    payment_id = service.parse_id(str(id), field="id")
    async with info.context.db() as session:
        row = await lifecycle.cancel_payment(
            session=session, principal=principal, payment_id=payment_id
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
