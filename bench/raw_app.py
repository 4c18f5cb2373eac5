"""The yardstick: a raw Starlette + asyncpg handler answering the benchmark's list query with the
same 20 rows from the same database, in the same response shape, with no GraphQL, no ORM and no
authentication (`uvicorn --factory bench.raw_app:create_app`; BENCH_RAW_USER_ID names the party)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg  # type: ignore[import-untyped]
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SQL = """
SELECT id, amount_minor, currency, status, created_at FROM payments.payments
WHERE (payer_id = $1 OR payee_id = $1 OR created_by = $1) AND created_at < $2
ORDER BY created_at DESC, id DESC LIMIT $3
"""


def _amount(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def create_app() -> Starlette:
    dsn = os.environ["DATABASE_URL"]
    user_id = uuid.UUID(os.environ["BENCH_RAW_USER_ID"])
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
        try:
            yield
        finally:
            await pool.close()

    async def graphql(request: Request) -> Response:
        body = orjson.loads(await request.body())
        variables = body.get("variables") or {}
        created_to = datetime.fromisoformat(variables["t"])
        first = int(variables.get("first", 20))
        assert pool is not None
        rows = await pool.fetch(SQL, user_id, created_to, first)
        edges = [
            {
                "node": {
                    "id": str(row["id"]),
                    "amount": _amount(row["amount_minor"]),
                    "currency": row["currency"],
                    "status": row["status"],
                    "createdAt": row["created_at"].isoformat(),
                }
            }
            for row in rows
        ]
        payload = {"data": {"payments": {"edges": edges}}}
        return Response(orjson.dumps(payload), media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])], lifespan=lifespan)
