"""The `payments.webhook_events` table (DDL: migration `0002_webhook_events.py`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import CHAR, Boolean, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from subgraphs.payments.models import TZ, UUID_T, Base

Outcome = Literal["applied", "unchanged", "ignored", "unknown_order", "mismatch", "error"]
# Outcomes after which an event is done (applied_at set).
DONE: frozenset[str] = frozenset({"applied", "unchanged", "ignored"})


class WebhookEvent(Base):
    """One Razorpay event, stored before the delivery is answered; applied at most once."""

    __tablename__ = "webhook_events"

    id: Mapped[uuid.UUID] = mapped_column(UUID_T, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    # Razorpay's identity of the event (`payloads.provider_key`), unique too (migration 0007).
    provider_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    event_id_source: Mapped[str] = mapped_column(String(16))  # header | body_sha256
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    body_sha256: Mapped[str] = mapped_column(CHAR(64))
    signature_valid: Mapped[bool] = mapped_column(Boolean)
    signed_with: Mapped[str] = mapped_column(String(8))  # current | previous
    received_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    applied_at: Mapped[datetime | None] = mapped_column(TZ)
    outcome: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    parked_at: Mapped[datetime | None] = mapped_column(TZ)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(UUID_T)
