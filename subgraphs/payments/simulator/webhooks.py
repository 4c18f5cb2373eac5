"""Webhook delivery with Razorpay's habits.

Each event is serialised and signed once: every retry and duplicate carries the same bytes,
the same `X-Razorpay-Signature` (hex HMAC-SHA256 of the raw body with the webhook secret) and
the same `X-Razorpay-Event-Id`. Delivery runs in background tasks; the first attempts of a
batch go out in order (reversed with `reorder`), failed ones are retried independently with
backoff, so a retried event naturally arrives after later ones, as with Razorpay.

Habits (settings, overridable per /_sim request):
- `duplicate`: each event is delivered once more after it was accepted;
- `reorder`: the events of one action go out last-first;
- `delay_ms`: wait before the first delivery;
- `fail_first`: the first N attempts of each event are sent but treated as failed, as when the
  receiver's answer is lost on the way back, so the receiver sees the same event N + 1 times;
- `drop`: nothing is delivered (a lost or disabled webhook; the product must poll);
- `quirks`: payload variants seen in the wild (see `apply_quirks`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from subgraphs.payments.simulator.checkout import WebhookOverrides
from subgraphs.payments.simulator.events import Event
from subgraphs.payments.simulator.settings import SimulatorSettings

log = logging.getLogger("razorpay_simulator.webhooks")

JSON = dict[str, Any]
_OPTIONAL_PAYMENT_FIELDS = (
    "error_source", "error_step", "error_reason", "acquirer_data", "base_amount",
    "amount_transferred",
)  # fmt: skip


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float
    timeout_s: float

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.backoff_base_s * 2.0 ** (attempt - 1), self.backoff_max_s))


@dataclass(frozen=True)
class WebhookOptions:
    urls: tuple[str, ...] = ()
    duplicate: bool = False
    reorder: bool = False
    delay_ms: int = 0
    fail_first: int = 0
    quirks: frozenset[str] = frozenset()
    drop: bool = False

    @classmethod
    def from_settings(cls, settings: SimulatorSettings) -> WebhookOptions:
        return cls(
            urls=tuple(settings.webhook_urls),
            duplicate=settings.webhook_duplicate,
            reorder=settings.webhook_reorder,
            delay_ms=settings.webhook_delay_ms,
            fail_first=settings.webhook_fail_first,
            quirks=frozenset(settings.webhook_quirks),
        )

    def merged(self, overrides: WebhookOverrides | None) -> WebhookOptions:
        if overrides is None:
            return self
        given = overrides.model_dump(exclude_none=True)
        if "urls" in given:
            given["urls"] = tuple(given["urls"])
        if "quirks" in given:
            given["quirks"] = frozenset(given["quirks"])
        return replace(self, **given)

    def to_json(self) -> JSON:
        return {
            "urls": list(self.urls),
            "duplicate": self.duplicate,
            "reorder": self.reorder,
            "delay_ms": self.delay_ms,
            "fail_first": self.fail_first,
            "quirks": sorted(self.quirks),
            "drop": self.drop,
        }


def apply_quirks(body: JSON, quirks: frozenset[str]) -> JSON:
    """Payload variants Razorpay has been seen to send.

    - `notes_dict`: an empty `notes` as `{}` instead of Razorpay's usual `[]`;
    - `empty_error_strings`: `error_code` / `error_description` as `""` instead of null on a
      payment that did not fail (as in Razorpay's documented card payloads);
    - `extra_fields`: fields the receiver does not know (`provider`, `reward` on payments and a
      top-level `x_sim_unknown`);
    - `drop_optional`: optional payment fields left out (`error_source`, `error_step`,
      `error_reason`, `acquirer_data`, `base_amount`, `amount_transferred`), as in older payloads.
    """
    if not quirks:
        return body
    for wrapper in body["payload"].values():
        entity: JSON = wrapper["entity"]
        if "notes_dict" in quirks and entity.get("notes") == []:
            entity["notes"] = {}
        if entity.get("entity") != "payment":
            continue
        if "empty_error_strings" in quirks and entity.get("status") != "failed":
            entity["error_code"] = ""
            entity["error_description"] = ""
        if "extra_fields" in quirks:
            entity.update({"provider": None, "reward": None})
        if "drop_optional" in quirks:
            for name in _OPTIONAL_PAYMENT_FIELDS:
                entity.pop(name, None)
    if "extra_fields" in quirks:
        body["x_sim_unknown"] = {"added_by": "simulator"}
    return body


def sign(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    """One attempt to deliver one event to one URL."""

    seq: int
    event_id: str
    event: str
    url: str
    attempt: int
    duplicate: bool
    started_at: float
    status_code: int | None = None
    error: str | None = None
    outcome: str = "pending"  # delivered | failed | simulated_failure
    elapsed_ms: float = 0.0

    def to_json(self) -> JSON:
        return dict(self.__dict__)


@dataclass
class _Prepared:
    event: Event
    raw: bytes
    headers: dict[str, str]
    attempts: dict[str, int] = field(default_factory=dict)  # url -> attempts so far


class WebhookDispatcher:
    def __init__(
        self, *, secret: str, account_id: str, retry: RetryPolicy, defaults: WebhookOptions
    ) -> None:
        self._secret = secret
        self._account_id = account_id
        self.retry = retry
        self.defaults = defaults
        self.deliveries: deque[Delivery] = deque(maxlen=10_000)
        self.events: deque[JSON] = deque(maxlen=2_000)
        self._seq = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.retry.timeout_s)

    async def cancel_pending(self) -> None:
        """Stop every delivery and retry under way."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.cancel_pending()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def wait_idle(self, within_s: float) -> int:
        """Wait until no delivery is under way (or `within_s` passes); the number left."""
        deadline = time.monotonic() + within_s
        while self._tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return len(self._tasks)

    def dispatch(self, events: list[Event], overrides: WebhookOverrides | None = None) -> None:
        """Record the events and deliver them in the background with the resolved habits."""
        if not events:
            return
        options = self.defaults.merged(overrides)
        prepared = [self._prepare(item, options) for item in events]
        if options.drop or not options.urls:
            return
        self._spawn(self._deliver_batch(prepared, options))

    def _prepare(self, item: Event, options: WebhookOptions) -> _Prepared:
        body = apply_quirks(item.body(self._account_id), options.quirks)
        raw = json.dumps(body, separators=(",", ":")).encode()
        self.events.append({"id": item.id, "event": item.name, "body": body})
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": sign(self._secret, raw),
            "X-Razorpay-Event-Id": item.id,
            "User-Agent": "Razorpay-Webhook/v1",
        }
        return _Prepared(event=item, raw=raw, headers=headers)

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_batch(self, batch: list[_Prepared], options: WebhookOptions) -> None:
        if options.delay_ms:
            await asyncio.sleep(options.delay_ms / 1000)
        ordered = list(reversed(batch)) if options.reorder else batch
        await asyncio.gather(
            *(self._deliver_in_order(ordered, url, options) for url in options.urls)
        )

    async def _deliver_in_order(
        self, batch: list[_Prepared], url: str, options: WebhookOptions
    ) -> None:
        for prepared in batch:
            if await self._attempt(prepared, url, options, duplicate=False):
                if options.duplicate:
                    self._spawn(self._attempt(prepared, url, options, duplicate=True))
            else:
                self._spawn(self._retry(prepared, url, options))

    async def _retry(self, prepared: _Prepared, url: str, options: WebhookOptions) -> None:
        while prepared.attempts[url] < self.retry.max_attempts:
            await asyncio.sleep(self.retry.delay(prepared.attempts[url]))
            if await self._attempt(prepared, url, options, duplicate=False):
                if options.duplicate:
                    await self._attempt(prepared, url, options, duplicate=True)
                return
        log.warning("gave up on event %s to %s", prepared.event.id, url)

    async def _attempt(
        self, prepared: _Prepared, url: str, options: WebhookOptions, *, duplicate: bool
    ) -> bool:
        await self.start()
        assert self._client is not None
        number = prepared.attempts.get(url, 0) + 1
        prepared.attempts[url] = number
        self._seq += 1
        record = Delivery(
            seq=self._seq,
            event_id=prepared.event.id,
            event=prepared.event.name,
            url=url,
            attempt=number,
            duplicate=duplicate,
            started_at=time.time(),
        )
        self.deliveries.append(record)
        began = time.monotonic()
        try:
            response = await self._client.post(url, content=prepared.raw, headers=prepared.headers)
            record.status_code = response.status_code
            accepted = 200 <= response.status_code < 300
        except httpx.TimeoutException:
            record.error, accepted = "timeout", False
        except httpx.HTTPError as exc:
            record.error, accepted = f"{type(exc).__name__}: {exc}", False
        record.elapsed_ms = round((time.monotonic() - began) * 1000, 1)
        if accepted and not duplicate and number <= options.fail_first:
            record.outcome = "simulated_failure"
            return False
        record.outcome = "delivered" if accepted else "failed"
        return accepted
