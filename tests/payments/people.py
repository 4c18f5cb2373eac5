"""Principals and payment inputs for service tests."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import Principal
from shared.scopes import Role, scopes_for
from subgraphs.payments.lifecycle.creation import NewPayment
from tests.helpers import Caller, Subgraph


def principal(role: Role, user_id: uuid.UUID | None = None) -> Principal:
    return Principal(
        id=user_id or uuid.uuid4(),
        email="someone@example.com",
        role=role,
        scopes=scopes_for(role),
        jti="jti",
        issued_at=0,
        expires_at=0,
        session_id="sid",
    )


def new(amount: str = "10.00", **kw: str | None) -> NewPayment:
    return NewPayment(amount=Decimal(amount), **{"currency": "INR", **kw})  # type: ignore[arg-type]


async def registered(
    session: AsyncSession, role: Role, *, deleted: bool = False, user_id: uuid.UUID | None = None
) -> uuid.UUID:
    """A user as auth stores it (seen by payments through `auth.user_directory`), in the test's
    session: rolled back with it, or committed by the caller."""
    user_id = user_id or uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO auth.users (id, email, name, role, password_hash, deleted_at) "
            "VALUES (:id, :email, :name, :role, 'not-a-hash', "
            "CASE WHEN :deleted THEN now() END)"
        ),
        {
            "id": user_id,
            "email": f"{role.value.lower()}-{user_id.hex}@example.com",
            "name": f"Test {role.value.title()}",
            "role": role.value,
            "deleted": deleted,
        },
    )
    return user_id


async def member(subgraph: Subgraph, role: Role) -> Caller:
    """A caller whose account auth has (committed), so payments may name it as payer/payee."""
    caller = subgraph.caller(role)
    async with AsyncSession(subgraph.engine) as session, session.begin():
        await registered(session, role, user_id=caller.id)
    return caller
