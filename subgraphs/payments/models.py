"""The payments schema's tables. The hand-written migration in `migrations/versions/` is the
source of truth for DDL (constraints, indexes); these mappings mirror it for queries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CHAR,
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    MetaData,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION


class Base(DeclarativeBase):
    """Tables in the `payments` schema (what `shared.db.service_base("payments")` builds,
    spelt out so that mypy sees a class)."""

    metadata = MetaData(schema="payments", naming_convention=NAMING_CONVENTION)


TZ = DateTime(timezone=True)
UUID_T = UUID(as_uuid=True)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = mapped_column(UUID_T, primary_key=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    amount_refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(CHAR(3))
    # Settlement priority (STANDARD | INSTANT) and the platform fee fixed at creation.
    priority: Mapped[str] = mapped_column(String(16), default="STANDARD")
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    description: Mapped[str | None] = mapped_column(String(500))
    payer_id: Mapped[uuid.UUID | None] = mapped_column(UUID_T)
    payee_id: Mapped[uuid.UUID | None] = mapped_column(UUID_T)
    created_by: Mapped[uuid.UUID] = mapped_column(UUID_T)
    razorpay_order_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    razorpay_payment_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    receipt: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    # When reconciliation last asked Razorpay about this payment (it backs off on that).
    last_reconciled_at: Mapped[datetime | None] = mapped_column(TZ)
    # Optimistic concurrency: every UPDATE checks and bumps it.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class PaymentTransaction(Base):
    """One step in a payment's history: creation, a status change, a capture, a refund."""

    __tablename__ = "payment_transactions"

    id: Mapped[uuid.UUID] = mapped_column(UUID_T, primary_key=True, default=uuid.uuid4)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"))
    kind: Mapped[str] = mapped_column(String(24))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Insertion order (steps of one transaction share `created_at`); set by the database.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True))


class Refund(Base):
    """A refund we asked Razorpay for (inserted before the call: its id makes the
    `X-Refund-Idempotency` key) or one Razorpay reported that we did not ask for."""

    __tablename__ = "refunds"

    id: Mapped[uuid.UUID] = mapped_column(UUID_T, primary_key=True, default=uuid.uuid4)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    status: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    razorpay_refund_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(UUID_T)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class OutboxEvent(Base):
    """An event written in the same transaction as the change it reports; a relay publishes it."""

    __tablename__ = "outbox_events"

    id: Mapped[uuid.UUID] = mapped_column(UUID_T, primary_key=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID_T)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    published_at: Mapped[datetime | None] = mapped_column(TZ)


class LedgerEntry(Base):
    """One leg of a money movement (migration `0009_ledger`; rules in docs/ledger.md). Rows are
    only ever inserted, by `ledger/chain.py`; the database refuses UPDATE and DELETE."""

    __tablename__ = "ledger_entries"

    id: Mapped[uuid.UUID] = mapped_column(UUID_T, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    txn_id: Mapped[uuid.UUID] = mapped_column(UUID_T)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"))
    refund_id: Mapped[uuid.UUID | None] = mapped_column(UUID_T)
    account: Mapped[str] = mapped_column(String(80))
    direction: Mapped[str] = mapped_column(String(6))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    kind: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(TZ)
    hash: Mapped[str] = mapped_column(CHAR(64))


class LedgerHead(Base):
    """The chain's head: the last row's `seq` and `hash` (one row, locked while appending)."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(CHAR(64))
