"""Writing accounts straight into auth's table (columns of auth's 0001 migration), with the
login and lockout stamps a test needs, so the user directory (`users`) lists them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

INSERT = text(
    """INSERT INTO auth.users (id, email, name, role, password_hash, email_verified,
         created_at, updated_at, last_login_at, locked_until, deleted_at)
       VALUES (:id, :email, :name, :role, 'not-a-real-hash', :email_verified,
         :created_at, :created_at, :last_login_at, :locked_until, :deleted_at)"""
)


@dataclass(frozen=True)
class StoredUser:
    id: uuid.UUID
    email: str
    name: str
    role: str
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None
    deleted_at: datetime | None


async def add_users(engine: AsyncEngine, *users: StoredUser) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            INSERT,
            [
                {
                    "id": u.id,
                    "email": u.email,
                    "name": u.name,
                    "role": u.role,
                    "email_verified": True,
                    "created_at": u.created_at,
                    "last_login_at": u.last_login_at,
                    "locked_until": u.locked_until,
                    "deleted_at": u.deleted_at,
                }
                for u in users
            ],
        )


def user(
    tag: str,
    n: int,
    *,
    role: str = "CUSTOMER",
    name: str | None = None,
    email: str | None = None,
    created_at: datetime | None = None,
    last_login_at: datetime | None = None,
    locked_until: datetime | None = None,
    deleted_at: datetime | None = None,
) -> StoredUser:
    user_id = uuid.uuid4()
    return StoredUser(
        id=user_id,
        email=email or f"{tag}-{n}-{user_id.hex[:6]}@example.com",
        name=name or f"User {tag} {n}",
        role=role,
        created_at=created_at or datetime.now(UTC),
        last_login_at=last_login_at,
        locked_until=locked_until,
        deleted_at=deleted_at,
    )
