"""The profile schema's table (the migration in `migrations/versions/` is the DDL's source)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION


class Base(DeclarativeBase):
    """Tables in the `profile` schema (what `shared.db.service_base("profile")` builds, spelt out so
    that mypy sees a class)."""

    metadata = MetaData(schema="profile", naming_convention=NAMING_CONVENTION)


TZ = DateTime(timezone=True)


class Profile(Base):
    __tablename__ = "profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(500))
    bio: Mapped[str | None] = mapped_column(String(1000))
    avatar_key: Mapped[str | None] = mapped_column(String(200))
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


# auth's published view (subgraphs/auth/migrations/versions/0001_initial.py; declared in
# `shared.migrations.SCHEMAS` as a read of profile); read-only here: a deleted account's profile
# is hidden, as auth hides the account's own data.
user_directory = Table(
    "user_directory",
    MetaData(schema="auth"),
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("deleted_at", TZ),
)
