"""Per-request DataLoaders (created with each request's context, never shared between users)."""

from __future__ import annotations

import uuid
from collections import defaultdict

from aiodataloader import DataLoader

from shared.context import DbAccess
from subgraphs.payments import repository as repo
from subgraphs.payments.models import Payment, PaymentTransaction


class PaymentByIdLoader(DataLoader[uuid.UUID, Payment | None]):
    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[Payment | None]:
        async with self._db() as session:
            rows = await repo.get_payments(session=session, payment_ids=keys)
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class TransactionsByPaymentIdLoader(DataLoader[uuid.UUID, list[PaymentTransaction]]):
    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[list[PaymentTransaction]]:
        async with self._db() as session:
            rows = await repo.transactions_for(session=session, payment_ids=keys)
        grouped: defaultdict[uuid.UUID, list[PaymentTransaction]] = defaultdict(list)
        for row in rows:
            grouped[row.payment_id].append(row)
        return [grouped[key] for key in keys]


class Loaders:
    def __init__(self, db: DbAccess) -> None:
        self.payment_by_id = PaymentByIdLoader(db)
        self.transactions_by_payment_id = TransactionsByPaymentIdLoader(db)
