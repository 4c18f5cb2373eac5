"""Payment visibility and listings against real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import NotFound
from shared.pagination import PageRequest
from shared.scopes import Role
from subgraphs.payments import service
from subgraphs.payments.enums import PaymentStatus, PaymentType
from subgraphs.payments.repository import PaymentQuery
from tests.payments.factories import insert_payment
from tests.payments.people import principal


async def test_visibility(db_session: AsyncSession) -> None:
    payer, payee, vendor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    payment = await insert_payment(
        db_session,
        created_by=vendor,
        payer_id=payer,
        payee_id=payee,
        type=PaymentType.INITIATE,
        status=PaymentStatus.INITIATED,
        commit=False,
    )
    for who in (
        principal(Role.CUSTOMER, payer),
        principal(Role.VENDOR, payee),
        principal(Role.VENDOR, vendor),
        principal(Role.ADMIN),
    ):
        found = await service.get_visible_payment(
            session=db_session, principal=who, payment_id=payment.id
        )
        assert found.id == payment.id
    with pytest.raises(NotFound):
        await service.get_visible_payment(
            session=db_session, principal=principal(Role.CUSTOMER), payment_id=payment.id
        )


async def test_listing_filters(db_session: AsyncSession) -> None:
    me = uuid.uuid4()
    base = datetime(2002, 6, 1, tzinfo=UTC)
    rows = {}
    for i, (status, currency) in enumerate(
        [
            (PaymentStatus.PENDING, "INR"),
            (PaymentStatus.COMPLETED, "INR"),
            (PaymentStatus.COMPLETED, "USD"),
            (PaymentStatus.FAILED, "INR"),
        ]
    ):
        rows[i] = await insert_payment(
            db_session,
            created_by=me,
            status=status,
            currency=currency,
            created_at=base + timedelta(days=i),
            commit=False,
        )
    page = PageRequest.from_args(first=10, after=None)

    async def ids(**kw: object) -> list[int]:
        query = PaymentQuery(party_id=me, **kw)  # type: ignore[arg-type]
        found = await service.list_payments(session=db_session, query=query, page=page)
        count = await service.count_payments(session=db_session, query=query)
        assert count == len(found)
        index = {row.id: i for i, row in rows.items()}
        return [index[row.id] for row in found]

    assert await ids() == [3, 2, 1, 0]
    assert await ids(statuses=frozenset({PaymentStatus.COMPLETED})) == [2, 1]
    assert await ids(currency="USD") == [2]
    assert await ids(types=frozenset({PaymentType.INITIATE})) == []
    assert await ids(
        created_from=base + timedelta(days=1), created_to=base + timedelta(days=3)
    ) == [
        2,
        1,
    ]
    # Another user's payments never appear in my listing.
    assert await ids(currency="EUR") == []
