"""Development accounts: admin@example.com, vendor@example.com, customer@example.com.

`seed` is what the development orchestrator calls (with DEV_SEED_PASSWORD). Idempotent: an account
that exists already (same e-mail, any case) is left exactly as it is (its password may have been
changed on purpose); missing ones are created verified, with an `auth:user:registered` event.
Refuses to run in production.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from shared.config import AppEnv, ConfigurationError
from shared.db import async_url
from shared.scopes import Role
from subgraphs.auth import events, repository
from subgraphs.auth.models import User
from subgraphs.auth.passwords import Passwords

DEV_ACCOUNTS: tuple[tuple[str, str, Role], ...] = (
    ("admin@example.com", "Admin", Role.ADMIN),
    ("vendor@example.com", "Vendor", Role.VENDOR),
    ("customer@example.com", "Customer", Role.CUSTOMER),
)


async def seed_dev_accounts(
    session: AsyncSession,
    *,
    password: str,
    app_env: AppEnv | str,
    passwords: Passwords | None = None,
) -> dict[str, uuid.UUID]:
    """Create the missing development accounts; returns all three ids by e-mail. Commits."""
    if AppEnv(app_env) is AppEnv.PRODUCTION:
        raise ConfigurationError("refusing to seed development accounts in production")
    if not password:
        raise ConfigurationError("DEV_SEED_PASSWORD is empty")
    passwords = passwords or Passwords()
    now = datetime.now(UTC)
    ids: dict[str, uuid.UUID] = {}
    for email, name, role in DEV_ACCOUNTS:
        password_hash = await passwords.hash(password)
        statement = (
            insert(User)
            .values(
                id=uuid.uuid4(),
                email=email,
                name=name,
                role=role.value,
                password_hash=password_hash,
                email_verified=True,
                created_at=now,
                updated_at=now,
                failed_login_count=0,
            )
            .on_conflict_do_nothing(index_elements=[func.lower(User.email)])
            .returning(User.id)
        )
        inserted = (await session.execute(statement)).scalar_one_or_none()
        if inserted is None:
            existing = await repository.get_user_by_email(session, email=email)
            if existing is None:  # pragma: no cover - the row was deleted between statements
                raise RuntimeError(f"could not seed {email}")
            ids[email] = existing.id
            continue
        ids[email] = inserted
        await repository.add_event(
            session,
            type=events.USER_REGISTERED,
            actor_id=inserted,
            data={"userId": str(inserted), "email": email, "name": name, "role": role.value},
            now=now,
        )
    await session.commit()
    return ids


async def seed(database_url: str, password: str, app_env: str) -> None:
    if AppEnv(app_env) is AppEnv.PRODUCTION:
        raise ConfigurationError("refusing to seed development accounts in production")
    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            await seed_dev_accounts(session, password=password, app_env=app_env)
    finally:
        await engine.dispose()
