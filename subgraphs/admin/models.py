"""The admin schema's tables, and the read-only user directory view owned by auth.

The migration in `migrations/versions/` is the source of truth for DDL. `user_directory` lives in
a separate `MetaData` so Alembic never considers it part of the admin schema: auth's migration
creates it, admin only reads it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, MetaData, String, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION


class Base(DeclarativeBase):
    """Tables in the `admin` schema (what `shared.db.service_base("admin")` builds, spelt out so
    that mypy sees a class)."""

    metadata = MetaData(schema="admin", naming_convention=NAMING_CONVENTION)


TZ = DateTime(timezone=True)
UUID_T = UUID(as_uuid=True)


class AuditLog(Base):
    __tablename__ = "audit_logs"

    id: Mapped[uuid.UUID] = mapped_column(UUID_T, primary_key=True, default=uuid.uuid4)
    action: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID_T)
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    event_id: Mapped[uuid.UUID | None] = mapped_column(UUID_T, unique=True)


class SystemConfig(Base):
    __tablename__ = "system_config"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB)
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_by: Mapped[uuid.UUID | None] = mapped_column(UUID_T)


# auth's view (see subgraphs/auth/migrations/versions/0001_initial.py); read-only here.
user_directory = Table(
    "user_directory",
    MetaData(schema="auth"),
    Column("id", UUID_T, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("email_verified", Boolean, nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("last_login_at", TZ),
    Column("locked_until", TZ),
    Column("deleted_at", TZ),
)
