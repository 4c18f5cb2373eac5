"""The background mail sender: retries with backoff, gives up, survives database trouble."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from shared.config import AuthSettings
from subgraphs.auth.mailer import MAX_ATTEMPTS, MailSender, backoff_seconds
from subgraphs.auth.models import OutboundEmail
from subgraphs.auth.runtime import AuthRuntime
from tests.auth.support import fast_passwords
from tests.helpers import wait_until


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _row(attempts: int = 0) -> OutboundEmail:
    now = datetime.now(UTC)
    return OutboundEmail(
        id=uuid.uuid4(),
        to_address="someone@example.com",
        subject="Subject",
        body="Body",
        created_at=now,
        attempts=attempts,
        next_attempt_at=now,
    )


def _sender(settings: AuthSettings, poll_seconds: float = 1.0) -> MailSender:
    runtime = AuthRuntime.create(settings, passwords=fast_passwords())
    engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    return MailSender(runtime, async_sessionmaker(engine), poll_seconds=poll_seconds)


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [2, 4, 8]
    assert backoff_seconds(40) == 3600


async def test_failed_send_is_retried_later(make_settings: Callable[..., AuthSettings]) -> None:
    sender = _sender(make_settings(smtp_port=_closed_port()))
    row = _row()
    before = datetime.now(UTC)
    await sender._send_one(row)
    assert row.attempts == 1
    assert row.sent_at is None
    assert row.last_error is not None
    assert row.last_error.startswith("ConnectionRefusedError")
    assert row.next_attempt_at is not None
    assert (
        before + timedelta(seconds=1)
        < row.next_attempt_at
        <= datetime.now(UTC) + timedelta(seconds=2)
    )


async def test_sender_gives_up_after_max_attempts(
    make_settings: Callable[..., AuthSettings],
) -> None:
    sender = _sender(make_settings(smtp_port=_closed_port()))
    row = _row(attempts=MAX_ATTEMPTS - 1)
    await sender._send_one(row)
    assert row.attempts == MAX_ATTEMPTS
    assert row.next_attempt_at is None
    assert row.sent_at is None


async def test_no_smtp_host_keeps_mail_queued(make_settings: Callable[..., AuthSettings]) -> None:
    sender = _sender(make_settings(smtp_host=None))
    row = _row()
    await sender._send_one(row)
    assert row.last_error == "RuntimeError: SMTP_HOST is not set"
    assert row.next_attempt_at is not None


async def test_sender_loop_survives_errors_and_stops(
    make_settings: Callable[..., AuthSettings],
) -> None:
    sender = _sender(make_settings(), poll_seconds=0.01)
    passes = 0
    original = sender.send_due

    async def failing_pass() -> int:
        nonlocal passes
        passes += 1
        return await original()  # the database is unreachable: raises every time

    sender.send_due = failing_pass  # type: ignore[method-assign]
    sender.start()

    async def failed_three_times() -> bool:
        return passes >= 3

    await wait_until(failed_three_times)  # the loop kept going through the errors
    sender.runtime.wake_mailer()
    await sender.stop()
    await sender.stop()  # idempotent
    assert passes >= 3


async def test_successful_send_marks_row_sent(
    make_settings: Callable[..., AuthSettings], db_session: AsyncSession
) -> None:
    sender = _sender(make_settings())
    row = _row()
    row.to_address = f"direct-{uuid.uuid4().hex[:8]}@example.com"
    await sender._send_one(row)
    assert row.sent_at is not None
    assert (row.attempts, row.next_attempt_at, row.last_error) == (1, None, None)
