"""Per-request DataLoaders (created with each request's context, never shared between users)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from aiodataloader import DataLoader

from shared.context import DbAccess
from shared.pagination import PageRequest
from subgraphs.payments import repository as repo
from subgraphs.payments.ledger import repository as ledger_repo
from subgraphs.payments.models import LedgerEntry, Payment, PaymentTransaction


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


class LedgerByPaymentIdLoader(DataLoader[uuid.UUID, list[LedgerEntry]]):
    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[list[LedgerEntry]]:
        async with self._db() as session:
            rows = await ledger_repo.entries_for_payments(session=session, payment_ids=keys)
        grouped: defaultdict[uuid.UUID, list[LedgerEntry]] = defaultdict(list)
        for row in rows:
            if row.payment_id is not None:
                grouped[row.payment_id].append(row)
        return [grouped[key] for key in keys]


@dataclass(frozen=True, slots=True)
class UserPage:
    """One page of one user's payments (`User.payments(first, after)`, already validated)."""

    user_id: uuid.UUID
    page: PageRequest


class PaymentPageByUserPageLoader(DataLoader[UserPage, list[Payment]]):
    """Up to `page.fetch_size` rows per key: one statement per distinct `(first, after)`."""

    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[UserPage]) -> list[list[Payment]]:
        users_by_page: defaultdict[PageRequest, set[uuid.UUID]] = defaultdict(set)
        for key in keys:
            users_by_page[key.page].add(key.user_id)
        found: defaultdict[UserPage, list[Payment]] = defaultdict(list)
        for page, user_ids in users_by_page.items():
            async with self._db() as session:
                rows = await repo.list_payments_of_parties(
                    session=session, user_ids=user_ids, after=page.after, limit=page.fetch_size
                )
            for user_id, row in rows:
                found[UserPage(user_id, page)].append(row)
        return [found[key] for key in keys]


class PaymentCountByUserIdLoader(DataLoader[uuid.UUID, int]):
    """How many payments each user pays, receives or created: one grouped statement."""

    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[int]:
        async with self._db() as session:
            counts = await repo.count_payments_of_parties(session=session, user_ids=keys)
        return [counts.get(key, 0) for key in keys]


class Loaders:
    def __init__(self, db: DbAccess) -> None:
        self.payment_by_id = PaymentByIdLoader(db)
        self.transactions_by_payment_id = TransactionsByPaymentIdLoader(db)
        self.ledger_by_payment_id = LedgerByPaymentIdLoader(db)
        self.payment_page_by_user_page = PaymentPageByUserPageLoader(db)
        self.payment_count_by_user_id = PaymentCountByUserIdLoader(db)
