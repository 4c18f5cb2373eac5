"""The per-request loaders: made on first use, and a primed payment is answered without a read
(kept as a value until loaded), with aiodataloader's semantics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.loaders import Loaders, PaymentByIdLoader
from subgraphs.payments.models import Payment


class NoDatabase:
    """A `DbAccess` that counts the sessions asked for (and fails if one is used)."""

    def __init__(self) -> None:
        self.asked = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        self.asked += 1
        raise AssertionError("no read expected")
        yield cast(AsyncSession, None)


def row(payment_id: uuid.UUID, note: str) -> Any:
    return cast(Payment, {"id": payment_id, "note": note})


async def test_loaders_are_made_when_first_used() -> None:
    loaders = Loaders(NoDatabase())
    assert "payment_by_id" not in vars(loaders)
    first = loaders.payment_by_id
    assert isinstance(first, PaymentByIdLoader)
    assert loaders.payment_by_id is first  # one per request
    assert "transactions_by_payment_id" not in vars(loaders)


async def test_a_primed_payment_is_loaded_without_a_read() -> None:
    db = NoDatabase()
    loader = PaymentByIdLoader(db)
    one, two = uuid.uuid4(), uuid.uuid4()
    loader.prime(one, row(one, "first")).prime(two, row(two, "two"))
    loader.prime(one, row(one, "second"))  # a known key keeps its value
    assert await loader.load(one) == row(one, "first")
    loader.prime(one, row(one, "third"))  # loaded: still kept
    assert await loader.load(one) == row(one, "first")
    assert await loader.load_many([two, one]) == [row(two, "two"), row(one, "first")]
    assert db.asked == 0


async def test_clearing_forgets_a_primed_payment() -> None:
    loader = PaymentByIdLoader(NoDatabase())
    one, two = uuid.uuid4(), uuid.uuid4()
    loader.prime(one, row(one, "old")).prime(two, row(two, "old"))
    loader.clear(one).prime(one, row(one, "new"))
    assert await loader.load(one) == row(one, "new")
    loader.clear_all().prime(two, row(two, "new"))
    assert await loader.load(two) == row(two, "new")
