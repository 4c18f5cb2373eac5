"""Per-request DataLoaders (created with each request's context, never shared between users).

Each loader is made when a request first uses it (`Loaders`): making one costs a few
microseconds (aiodataloader checks its batch function with `asyncio.iscoroutinefunction`), and
most requests use none or one of them.
"""

from __future__ import annotations

import uuid
from asyncio import Future
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from aiodataloader import DataLoader

from shared.context import DbAccess
from shared.pagination import PageRequest
from subgraphs.payments import repository as repo
from subgraphs.payments.ledger import repository as ledger_repo
from subgraphs.payments.models import LedgerEntry, Payment, PaymentTransaction


class PaymentByIdLoader(DataLoader[uuid.UUID, Payment | None]):
    """Payments by id. A list page primes it with every row it lists, and few requests then
    load one of them: a primed row is kept as it is and only becomes a cached future if it is
    loaded (a future per row was about 2 us each, 20 per page). Same semantics as
    aiodataloader's `prime`: a key already known keeps its value."""

    def __init__(self, db: DbAccess) -> None:
        super().__init__()
        self._db = db
        self._primed: dict[uuid.UUID, Payment | None] = {}

    def prime(self, key: uuid.UUID, value: Payment | None) -> PaymentByIdLoader:
        if key not in self._cache:
            self._primed.setdefault(key, value)
        return self

    def load(self, key: uuid.UUID) -> Future[Payment | None]:
        if self._primed and key in self._primed:
            super().prime(key, self._primed.pop(key))
        return super().load(key)

    def clear(self, key: uuid.UUID) -> PaymentByIdLoader:
        self._primed.pop(key, None)
        return super().clear(key)

    def clear_all(self) -> PaymentByIdLoader:
        self._primed.clear()
        return super().clear_all()

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
        self._db = db

    @cached_property
    def payment_by_id(self) -> PaymentByIdLoader:
        return PaymentByIdLoader(self._db)

    @cached_property
    def transactions_by_payment_id(self) -> TransactionsByPaymentIdLoader:
        return TransactionsByPaymentIdLoader(self._db)

    @cached_property
    def ledger_by_payment_id(self) -> LedgerByPaymentIdLoader:
        return LedgerByPaymentIdLoader(self._db)

    @cached_property
    def payment_page_by_user_page(self) -> PaymentPageByUserPageLoader:
        return PaymentPageByUserPageLoader(self._db)

    @cached_property
    def payment_count_by_user_id(self) -> PaymentCountByUserIdLoader:
        return PaymentCountByUserIdLoader(self._db)
