"""`POST /webhooks/razorpay`: read the raw body, verify its signature, check it is an event,
store it under its event id (committed before answering), then try to apply it at once within a
time budget (with no budget, WEBHOOK_APPLY_BUDGET_SECONDS=0: answer once stored and leave it to
the worker, due at once). The answers are the contract's: 2xx once stored (duplicates and ignored
types too), 400 for a bad signature or a body that is not an event, 413 for a body over the
limit, 503 when the event cannot be stored (Razorpay retries).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.responses import JSONResponse

from shared.logging import mask
from shared.metrics import count_webhook_event
from subgraphs.payments.webhooks import store
from subgraphs.payments.webhooks.dispatch import HANDLERS, apply_stored_event
from subgraphs.payments.webhooks.payloads import NotAnEvent, parse_event, provider_key
from subgraphs.payments.webhooks.runtime import Runtime
from subgraphs.payments.webhooks.verify import body_sha256, event_id_for, verify_signature

log = logging.getLogger("webhooks.receive")

SIGNATURE_HEADER = "x-razorpay-signature"
EVENT_ID_HEADER = "x-razorpay-event-id"
# Razorpay waits 5 s; everything, applying included, finishes well before.
ANSWER_WITHIN_SECONDS = 4.0


async def read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None once it is longer than `limit` bytes (not read any further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(http_status: int, /, **body: str) -> JSONResponse:
    return JSONResponse(body, status_code=http_status)


def _security(request: Request, event: str, message: str, **fields: object) -> None:
    log.warning(
        message,
        extra={
            "security_event": event,
            "client_ip": request.client.host if request.client else None,
            "signature": mask(request.headers.get(SIGNATURE_HEADER)),
            "event_id": mask(request.headers.get(EVENT_ID_HEADER)),
            **fields,
        },
    )


async def receive(request: Request, runtime: Runtime) -> JSONResponse:
    started = time.monotonic()
    try:
        return await _receive(request, runtime, started)
    finally:
        runtime.metrics.latency.observe(time.monotonic() - started)


async def _receive(request: Request, runtime: Runtime, started: float) -> JSONResponse:
    settings, metrics = runtime.settings, runtime.metrics
    metrics.received.inc()
    raw = await read_body(request, settings.webhook_max_body_bytes)
    if raw is None:
        metrics.rejected.labels(reason="too_large").inc()
        count_webhook_event(None, "too_large")
        _security(request, "webhook_body_too_large", "webhook body over the size limit")
        return _answer(413, error="body too large")

    check = verify_signature(raw, request.headers.get(SIGNATURE_HEADER), settings.webhook_secrets())
    if check.signed_with is None:
        reason = check.problem.value if check.problem else "mismatch"
        metrics.invalid_signatures.labels(reason=reason).inc()
        count_webhook_event(None, "invalid_signature")  # the body is not trusted: no type
        _security(
            request,
            "webhook_signature_invalid",
            "webhook signature invalid",
            reason=reason,
            body_bytes=len(raw),
        )
        return _answer(400, error="invalid signature")
    metrics.valid_signatures.labels(secret=check.signed_with).inc()

    try:
        envelope, body = parse_event(raw)
    except NotAnEvent as exc:
        metrics.rejected.labels(reason="not_event").inc()
        count_webhook_event(None, "not_event")
        _security(
            request, "webhook_not_an_event", "signed webhook body is not an event", detail=str(exc)
        )
        return _answer(400, error="not a Razorpay event")

    event_id, source = event_id_for(request.headers.get(EVENT_ID_HEADER), raw)
    if source == "body_sha256":
        log.info(
            "webhook without a usable event id header: deduplicating on the body hash",
            extra={"event_id": mask(event_id), "event_type": envelope.event},
        )
    now = datetime.now(UTC)
    # The request applies it first, and the worker takes over if that does not finish; with no
    # apply budget (WEBHOOK_APPLY_BUDGET_SECONDS=0) the answer comes once the event is stored and
    # the event is due for the worker at once.
    store_only = settings.webhook_apply_budget_seconds <= 0
    grace = timedelta(0) if store_only else timedelta(seconds=ANSWER_WITHIN_SECONDS + 1)
    new = store.NewEvent(
        event_id=event_id,
        event_id_source=source,
        event_type=envelope.event,
        payload=body,
        body_sha256=body_sha256(raw),
        signed_with=check.signed_with,
        received_at=now,
        provider_key=provider_key(envelope),
        next_attempt_at=now + grace,
    )
    try:
        async with asyncio.timeout(settings.webhook_store_timeout_seconds):
            event_pk = await _store(runtime, new)
    except Exception:
        metrics.unavailable.inc()
        count_webhook_event(envelope.event, "unavailable")
        log.error(
            "webhook event could not be stored: answering 503 so Razorpay retries",
            extra={"event_id": mask(event_id), "event_type": envelope.event},
            exc_info=True,
        )
        return _answer(503, error="temporarily unavailable")

    if event_pk is None:
        metrics.duplicates.inc()
        count_webhook_event(envelope.event, "duplicate")
        log.info(
            "webhook event already stored",
            extra={"event_id": mask(event_id), "event_type": envelope.event},
        )
        return _answer(200, status="duplicate")
    label = envelope.event if envelope.event in HANDLERS else "other"
    metrics.stored.labels(event_type=label).inc()
    count_webhook_event(envelope.event, "stored")
    outcome = await _apply_now(runtime, event_pk, started, new)
    return _answer(200, status="stored", outcome=outcome)


async def _store(runtime: Runtime, new: store.NewEvent) -> uuid.UUID | None:
    """Insert and commit; the new row's id, or None when this exact event is already stored.

    The event id header is not covered by the signature: a stored id with a DIFFERENT body is
    not a duplicate (it could hide a real event), so that body is kept under a derived id; a
    stored body under a NEW id is one (Razorpay's identity of the event, `provider_key`, is
    unique too)."""
    async with runtime.sessionmaker() as session, session.begin():
        event_pk = await store.insert_event(session=session, event=new)
        if event_pk is not None:
            return event_pk
        known = await store.stored_body_sha256(session=session, event_id=new.event_id)
        if known is None:
            # Not this id: Razorpay's identity of the event (`provider_key`) is stored already.
            log.warning(
                "webhook event already stored under another event id: duplicate",
                extra={
                    "security_event": "webhook_event_replayed",
                    "event_id": mask(new.event_id),
                    "event_type": new.event_type,
                },
            )
            return None
        if known == new.body_sha256:
            return None
        log.warning(
            "webhook event id reused with a different body: stored separately",
            extra={
                "security_event": "webhook_event_id_reused",
                "event_id": mask(new.event_id),
                "event_type": new.event_type,
            },
        )
        variant = replace(new, event_id=f"{new.event_id[:60]}~{new.body_sha256[:32]}")
        return await store.insert_event(session=session, event=variant)


async def _apply_now(
    runtime: Runtime, event_pk: uuid.UUID, started: float, new: store.NewEvent
) -> str:
    """Apply in a new transaction within what is left of the time budget; the worker retries
    whatever does not finish (the event is stored either way)."""
    budget = min(
        runtime.settings.webhook_apply_budget_seconds,
        ANSWER_WITHIN_SECONDS - (time.monotonic() - started),
    )
    if budget <= 0:
        return "deferred"
    try:
        async with asyncio.timeout(budget):
            row = await apply_stored_event(
                sessionmaker=runtime.sessionmaker,
                policy=runtime.policy,
                metrics=runtime.metrics,
                path="request",
                event_pk=event_pk,
            )
    except Exception as exc:
        outcome = "timeout" if isinstance(exc, TimeoutError) else "error"
        runtime.metrics.failures.labels(outcome=outcome, path="request").inc()
        count_webhook_event(new.event_type, outcome)
        log.warning(
            "webhook event stored but not applied in the request: the worker will retry",
            extra={"event_id": mask(new.event_id), "event_type": new.event_type, "why": outcome},
            exc_info=outcome == "error",
        )
        return "deferred"
    if row is None or row.outcome is None:
        return "deferred"  # being applied elsewhere
    return row.outcome
