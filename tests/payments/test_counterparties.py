"""Counterparties of `createPayment`: `payeeId` must name a VENDOR and `payerId` a CUSTOMER (as
auth publishes them in `auth.user_directory`); any other id is one BAD_USER_INPUT, whatever the
reason, and nothing about that user comes back."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadUserInput
from shared.scopes import Role
from subgraphs.payments.lifecycle import creation
from tests.payments.people import new, principal, registered

UNKNOWN, DELETED = "unknown", "deleted"


async def named(session: AsyncSession, kind: Role | str) -> str:
    if kind == UNKNOWN:
        return str(uuid.uuid4())
    if kind == DELETED:
        return str(await registered(session, Role.VENDOR, deleted=True))
    assert isinstance(kind, Role)
    return str(await registered(session, kind))


@pytest.mark.parametrize("payee", [UNKNOWN, DELETED, Role.CUSTOMER, Role.ADMIN])
@pytest.mark.parametrize("creator", [Role.CUSTOMER, Role.ADMIN])
async def test_a_payee_that_is_not_a_live_vendor_is_refused_alike(
    db_session: AsyncSession, creator: Role, payee: Role | str
) -> None:
    caller = principal(creator)
    payee_id = await named(db_session, payee)
    payer = {"payer_id": str(await registered(db_session, Role.CUSTOMER))}
    with pytest.raises(BadUserInput) as caught:
        await creation.create_payment(
            session=db_session,
            principal=caller,
            new=new(payee_id=payee_id, **(payer if creator is Role.ADMIN else {})),
        )
    assert caught.value.extensions == {"field": "payeeId"}
    assert caught.value.message == creation.NO_SUCH_COUNTERPARTY


@pytest.mark.parametrize("payer", [UNKNOWN, DELETED, Role.VENDOR, Role.ADMIN])
@pytest.mark.parametrize("creator", [Role.VENDOR, Role.ADMIN])
async def test_a_payer_that_is_not_a_live_customer_is_refused_alike(
    db_session: AsyncSession, creator: Role, payer: Role | str
) -> None:
    caller = principal(creator)
    payer_id = await named(db_session, payer)
    with pytest.raises(BadUserInput) as caught:
        await creation.create_payment(
            session=db_session, principal=caller, new=new(payer_id=payer_id)
        )
    assert caught.value.extensions == {"field": "payerId"}
    assert caught.value.message == creation.NO_SUCH_COUNTERPARTY


async def test_vendors_and_customers_are_accepted(db_session: AsyncSession) -> None:
    vendor = await registered(db_session, Role.VENDOR)
    customer = await registered(db_session, Role.CUSTOMER)
    paid = await creation.create_payment(
        session=db_session, principal=principal(Role.CUSTOMER), new=new(payee_id=str(vendor))
    )
    assert paid.payee_id == vendor
    asked = await creation.create_payment(
        session=db_session,
        principal=principal(Role.VENDOR, vendor),
        new=new(payer_id=str(customer)),
    )
    assert (asked.payer_id, asked.payee_id) == (customer, vendor)
    admin_request = await creation.create_payment(
        session=db_session,
        principal=principal(Role.ADMIN),
        new=new(payer_id=str(customer), payee_id=str(vendor)),
    )
    assert (admin_request.payer_id, admin_request.payee_id) == (customer, vendor)
