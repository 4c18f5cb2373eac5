"""The background sender of `auth.outbound_emails`.

Runs inside the auth app (started on start-up, stopped on shut-down). It polls about every second
and is woken at once when a commit queued mail (or recorded a password-reset request, which
each pass first turns into a token and a mail: `recovery.process_reset_requests`). Due rows
are claimed with `FOR UPDATE SKIP LOCKED`, so several replicas never send the same row at the
same time; each message goes out through blocking `smtplib` in a worker thread with a timeout.
A failure is retried with exponential backoff (capped), up to `MAX_ATTEMPTS`, after which the
row is left with `next_attempt_at = NULL` and its `last_error` for an operator. Delivery is at
least once.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.lifetime import Resources
from shared.tasks import raise_if_cancelling, stop_tasks, wait_event
from subgraphs.auth import recovery, repository
from subgraphs.auth.models import OutboundEmail
from subgraphs.auth.runtime import AuthRuntime

log = logging.getLogger("bff.auth.mailer")

POLL_SECONDS = 1.0
BATCH_SIZE = 20
SMTP_TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 12
MAX_BACKOFF_SECONDS = 3600


def backoff_seconds(attempts: int) -> int:
    """2, 4, 8, ... seconds after the 1st, 2nd, 3rd failure; at most an hour."""
    return int(min(2**attempts, MAX_BACKOFF_SECONDS))


class MailSender:
    def __init__(
        self,
        runtime: AuthRuntime,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.runtime = runtime
        self.sessionmaker = sessionmaker
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="auth-mail-sender")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task)

    async def _run(self) -> None:
        wake = self.runtime.mail_queued
        while True:
            raise_if_cancelling()
            wake.clear()  # before sending: a commit during the pass wakes the next one
            try:
                while await self.send_due() == BATCH_SIZE:
                    pass
            except Exception as exc:  # keep the loop alive (cancellation is not an Exception)
                log.error("mail sender pass failed", extra={"error_type": type(exc).__name__})
            await wait_event(wake, self.poll_seconds)

    async def send_due(self) -> int:
        """Turn recorded reset requests into mail, then send one batch of due mail; returns how
        many mail rows it handled."""
        async with self.sessionmaker() as session:
            while await recovery.process_reset_requests(
                session, runtime=self.runtime, limit=BATCH_SIZE
            ):
                pass
        async with self.sessionmaker() as session:
            now = datetime.now(UTC)
            rows = await repository.due_emails(session, now=now, limit=BATCH_SIZE)
            for row in rows:
                await self._send_one(row)
            await session.commit()
            return len(rows)

    async def _send_one(self, row: OutboundEmail) -> None:
        settings = self.runtime.settings
        now = datetime.now(UTC)
        row.attempts += 1
        try:
            if not settings.smtp_host:
                raise RuntimeError("SMTP_HOST is not set")
            message = EmailMessage()
            message["From"] = settings.mail_from
            message["To"] = row.to_address
            message["Subject"] = row.subject
            message["Message-ID"] = f"<{row.id}@payments-bff>"
            message.set_content(row.body)
            await asyncio.to_thread(
                _deliver, settings.smtp_host, settings.smtp_port, message, SMTP_TIMEOUT_SECONDS
            )
        except Exception as exc:
            row.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
            if row.attempts >= MAX_ATTEMPTS:
                row.next_attempt_at = None
                log.error("mail given up", extra={"mail_id": str(row.id)})
            else:
                row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts))
                log.warning("mail send failed, will retry", extra={"mail_id": str(row.id)})
            return
        row.sent_at = now
        row.next_attempt_at = None
        row.last_error = None


class MailerTask:
    """The mail sender as a background part of the auth app (`shared.lifetime.Background`)."""

    def __init__(self, runtime: AuthRuntime) -> None:
        self.runtime = runtime
        self.sender: MailSender | None = None

    async def start(self, resources: Resources) -> None:
        if self.sender is None:
            self.sender = MailSender(self.runtime, resources.sessionmaker)
            self.sender.start()

    async def stop(self) -> None:
        sender, self.sender = self.sender, None
        if sender is not None:
            await sender.stop()


def _deliver(host: str, port: int, message: EmailMessage, timeout: float) -> None:
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        smtp.send_message(message)
