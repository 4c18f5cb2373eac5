"""What the subscribers of one process read when updates arrive, one round trip per burst.

- `PaymentReads`: the payments (and, for subscribers that select `transactions`, their history)
  as committed now: one statement for every payment asked meanwhile, on a pooled connection in
  autocommit mode (no BEGIN/ROLLBACK). The payments come as plain Core rows (every column of a
  `Payment` under the same name, as `repository.list_payments` returns them: no ORM instances),
  and the ids as one array parameter (`= ANY(:ids)`: one prepared statement whatever the
  burst). Nothing is filtered here: every subscriber checks its own visibility on the row it
  gets (`access.require_visible`).
- `RevocationReads`: the revocation keys of `shared.context.ensure_not_revoked` for every
  subscriber checking meanwhile, in one MGET (the rule itself stays there).

Both are `batch.Batcher`s: an answer is never read before the lookup that asked for it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.types import Uuid

from shared.db import autocommit_connection
from subgraphs.payments import repository as repo
from subgraphs.payments.live.batch import Batcher
from subgraphs.payments.models import Payment, PaymentTransaction

Sessionmaker = async_sessionmaker[AsyncSession]

_PAYMENTS = Payment.__table__.c
_BY_IDS = select(*_PAYMENTS).where(
    _PAYMENTS.id == any_(bindparam("ids", type_=ARRAY(Uuid(as_uuid=True))))
)


@dataclass(frozen=True, slots=True)
class PaymentRead:
    """A payment as committed when it was read (None: no such payment), and its transactions
    when they were asked for."""

    row: Payment | None
    history: list[PaymentTransaction] | None = None


_NOTHING = PaymentRead(None)


@asynccontextmanager
async def _autocommit(sessionmaker: Sessionmaker) -> AsyncIterator[AsyncSession]:
    """A session on a pooled connection in autocommit mode; a sessionmaker bound to something
    else than an engine (a test's connection) gives its own session."""
    bind = sessionmaker.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        async with sessionmaker() as session:
            yield session
        return
    async with (
        autocommit_connection(bind) as connection,
        AsyncSession(bind=connection, autoflush=False) as session,
    ):
        yield session


class PaymentReads:
    """`read(payment_id, history=...)`: the payment now, read with every other one asked meanwhile
    in this process (one statement per batch, and one more for the histories asked for)."""

    def __init__(self, sessionmaker: Sessionmaker, *, max_batch: int = 500) -> None:
        self._sessionmaker = sessionmaker
        self._batcher: Batcher[tuple[uuid.UUID, bool], PaymentRead] = Batcher(
            self._fetch, default=_NOTHING, max_batch=max_batch
        )

    async def read(self, payment_id: uuid.UUID, *, history: bool = False) -> PaymentRead:
        return await self._batcher.get((payment_id, history))

    async def _fetch(
        self, keys: Sequence[tuple[uuid.UUID, bool]]
    ) -> Mapping[tuple[uuid.UUID, bool], PaymentRead]:
        ids = list({payment_id for payment_id, _ in keys})
        with_history = list({payment_id for payment_id, wanted in keys if wanted})
        async with _autocommit(self._sessionmaker) as session:
            found = (await session.execute(_BY_IDS, {"ids": ids})).all()
            rows = {row.id: cast(Payment, row) for row in found}
            histories: defaultdict[uuid.UUID, list[PaymentTransaction]] = defaultdict(list)
            if with_history:
                for step in await repo.transactions_for(session=session, payment_ids=with_history):
                    histories[step.payment_id].append(step)
        return {
            (payment_id, wanted): PaymentRead(
                rows.get(payment_id), list(histories[payment_id]) if wanted else None
            )
            for payment_id, wanted in keys
        }


class RevocationReads:
    """A stand-in for the Redis client of `ensure_not_revoked` (it only calls `mget`): the keys of
    every check made meanwhile are read in one MGET."""

    def __init__(self, redis: Redis, *, max_batch: int = 500) -> None:
        self._redis = redis
        self._batcher: Batcher[str, Any] = Batcher(self._fetch, default=None, max_batch=max_batch)

    async def mget(self, *keys: str) -> list[Any]:
        return await self._batcher.get_many(keys)

    async def _fetch(self, keys: Sequence[str]) -> Mapping[str, Any]:
        values = await self._redis.mget(list(keys))
        return dict(zip(keys, values, strict=True))
