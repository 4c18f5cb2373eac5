"""Principals and payment inputs for service tests."""

from __future__ import annotations

import uuid
from decimal import Decimal

from shared.context import Principal
from shared.scopes import Role, scopes_for
from subgraphs.payments.lifecycle.creation import NewPayment


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
