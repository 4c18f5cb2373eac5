"""`POST /webhooks/razorpay`: read the raw body, verify its signature, check it is an event,
store it under its event id (committed, by group commit: `ingest.py`) and answer; the worker,
woken by that commit, applies it off the request path. The answers are the contract's: 2xx once
stored (duplicates and ignored types too), 400 for a bad signature or a body that is not an
event, 413 for a body over the limit, 503 when the event cannot be stored within
WEBHOOK_STORE_TIMEOUT_SECONDS (Razorpay retries).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import orjson
from starlette.requests import Request
from starlette.responses import Response

from shared import telemetry
from shared.logging import mask
from shared.metrics import count_webhook_event
from subgraphs.payments.webhooks import store
from subgraphs.payments.webhooks.dispatch import HANDLERS
from subgraphs.payments.webhooks.payloads import NotAnEvent, parse_event, provider_key
from subgraphs.payments.webhooks.runtime import Runtime
from subgraphs.payments.webhooks.verify import body_sha256, event_id_for, verify_signature

log = logging.getLogger("webhooks.receive")

SIGNATURE_HEADER = "x-razorpay-signature"
EVENT_ID_HEADER = "x-razorpay-event-id"
# The answers' bodies, encoded once.
STORED = b'{"status":"stored"}'
DUPLICATE = b'{"status":"duplicate"}'
TOO_LARGE = b'{"error":"body too large"}'
INVALID_SIGNATURE = b'{"error":"invalid signature"}'
NOT_AN_EVENT = b'{"error":"not a Razorpay event"}'
UNAVAILABLE = b'{"error":"temporarily unavailable"}'


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


def _answer(http_status: int, body: bytes, /) -> Response:
    return Response(body, status_code=http_status, media_type="application/json")


def payload_json(raw: bytes, body: dict[str, object]) -> str:
    """What is stored as `payload` (jsonb): the raw body as it came, or the parsed body encoded
    again when parsing had to clean it (U+0000, which jsonb cannot hold)."""
    if b"\\u0000" in raw:
        return orjson.dumps(body).decode()
    return raw.decode()


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


async def receive(request: Request, runtime: Runtime) -> Response:
    started = time.monotonic()
    try:
        return await _receive(request, runtime)
    finally:
        runtime.metrics.latency.observe(time.monotonic() - started)


async def _receive(request: Request, runtime: Runtime) -> Response:
    settings, metrics = runtime.settings, runtime.metrics
    metrics.received.inc()
    raw = await read_body(request, settings.webhook_max_body_bytes)
    if raw is None:
        metrics.rejected.labels(reason="too_large").inc()
        count_webhook_event(None, "too_large")
        _security(request, "webhook_body_too_large", "webhook body over the size limit")
        return _answer(413, TOO_LARGE)

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
        return _answer(400, INVALID_SIGNATURE)
    metrics.valid_signatures.labels(secret=check.signed_with).inc()

    try:
        envelope, body = parse_event(raw)
    except NotAnEvent as exc:
        metrics.rejected.labels(reason="not_event").inc()
        count_webhook_event(None, "not_event")
        _security(
            request, "webhook_not_an_event", "signed webhook body is not an event", detail=str(exc)
        )
        return _answer(400, NOT_AN_EVENT)

    event_id, source = event_id_for(request.headers.get(EVENT_ID_HEADER), raw)
    if source == "body_sha256":
        log.info(
            "webhook without a usable event id header: deduplicating on the body hash",
            extra={"event_id": mask(event_id), "event_type": envelope.event},
        )
    now = datetime.now(UTC)
    new = store.NewEvent(
        event_id=event_id,
        event_id_source=source,
        event_type=envelope.event,
        payload_json=payload_json(raw, body),
        body_sha256=body_sha256(raw),
        signed_with=check.signed_with,
        received_at=now,
        provider_key=provider_key(envelope),
        next_attempt_at=now,  # due for the worker at once (it is woken on commit)
        traceparent=telemetry.current_traceparent(),
    )
    try:
        stored = await runtime.ingest.store(new)  # bounded by WEBHOOK_STORE_TIMEOUT_SECONDS
    except Exception:
        metrics.unavailable.inc()
        count_webhook_event(envelope.event, "unavailable")
        log.error(
            "webhook event could not be stored: answering 503 so Razorpay retries",
            extra={"event_id": mask(event_id), "event_type": envelope.event},
            exc_info=True,
        )
        return _answer(503, UNAVAILABLE)

    if stored.verdict == "duplicate":
        metrics.duplicates.inc()
        count_webhook_event(envelope.event, "duplicate")
        log.info(
            "webhook event already stored",
            extra={"event_id": mask(event_id), "event_type": envelope.event},
        )
        return _answer(200, DUPLICATE)
    label = envelope.event if envelope.event in HANDLERS else "other"
    metrics.stored.labels(event_type=label).inc()
    count_webhook_event(envelope.event, "stored")
    return _answer(200, STORED)
