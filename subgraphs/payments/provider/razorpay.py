"""The one module that talks to Razorpay, through the official SDK.

It owns the SDK client (`razorpay.Client(auth=..., base_url=...)`; the SDK appends `/v1`), runs
every blocking call in a worker thread with a timeout (`asyncio.to_thread` plus the SDK's
`timeout=` on the request), sends amounts as minor-unit integers, retries only what is safe
(reads; a refund, whose `X-Refund-Idempotency` key makes a repeat harmless; an order only when
the request was never sent, otherwise it recovers by listing orders by receipt), fails fast
through a circuit breaker during an outage, and turns every SDK or HTTP failure into one
`PaymentProviderError` whose message is safe to show. Results are typed, never dicts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import razorpay
import requests
from urllib3.exceptions import ConnectTimeoutError

from shared import metrics
from shared.config import PaymentsSettings
from shared.errors import PaymentProviderError
from shared.logging import mask
from subgraphs.payments.provider.circuit import CircuitBreaker, CircuitOpen
from subgraphs.payments.provider.entities import (
    ProviderOrder,
    ProviderPayment,
    ProviderRefund,
    items,
    parse_order,
    parse_payment,
    parse_refund,
)

log = logging.getLogger("bff.payments.razorpay")

T = TypeVar("T")

UNAVAILABLE = "The payment provider is unavailable; please try again shortly"
DECLINED = "The payment provider declined the request"


class ProviderCallFailed(PaymentProviderError):
    """A Razorpay call that failed: `rejected` when Razorpay answered with a 4xx (it is up and
    said no), `sent` unless the request certainly never left (so it may have had an effect)."""

    def __init__(self, message: str, *, reason: str, rejected: bool, sent: bool) -> None:
        super().__init__(message)
        self.reason = reason
        self.rejected = rejected
        self.sent = sent


def _classify(exc: BaseException) -> tuple[str, bool]:
    """(reason, whether the request may have been sent) of a failure that is not a 4xx."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect_timeout", False
    if isinstance(exc, requests.exceptions.Timeout | TimeoutError):
        return "timeout", True
    if isinstance(exc, requests.exceptions.ConnectionError):
        cause = exc.args[0] if exc.args else None
        refused = isinstance(getattr(cause, "reason", None), ConnectTimeoutError)
        return "connection_error", not refused
    if isinstance(exc, requests.exceptions.JSONDecodeError):
        return "non_json_response", True
    if isinstance(exc, razorpay.errors.ServerError | razorpay.errors.GatewayError):
        return "server_error", True
    return "unexpected_response", True


class RazorpayGateway:
    def __init__(
        self,
        *,
        key_id: str,
        key_secret: str,
        base_url: str,
        timeout_s: float = 10.0,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.25,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.key_id = key_id
        self._key_secret = key_secret.encode()
        self._client = razorpay.Client(auth=(key_id, key_secret), base_url=base_url)
        self._timeout = (min(timeout_s, 5.0), timeout_s)  # (connect, read) for requests
        self._deadline_s = timeout_s * 2 + 1.0  # the thread hop's own guard
        self._max_attempts = max_attempts
        self._backoff_s = retry_backoff_s
        self.breaker = breaker or CircuitBreaker(
            name="razorpay", failure_threshold=5, reset_timeout_s=30.0
        )

    @classmethod
    def from_settings(cls, settings: PaymentsSettings) -> RazorpayGateway:
        return cls(
            key_id=settings.secret("razorpay_key_id"),
            key_secret=settings.secret("razorpay_key_secret"),
            base_url=settings.razorpay_base_url(),
            timeout_s=settings.razorpay_timeout_seconds,
            max_attempts=settings.razorpay_max_attempts,
            retry_backoff_s=settings.razorpay_retry_backoff_seconds,
            breaker=CircuitBreaker(
                name="razorpay",
                failure_threshold=settings.razorpay_breaker_threshold,
                reset_timeout_s=settings.razorpay_breaker_cooldown_seconds,
            ),
        )

    def close(self) -> None:
        self._client.session.close()

    def signature_matches(self, *, order_id: str, payment_id: str, signature: str) -> bool:
        """Checkout's `HMAC_SHA256(key_secret, order_id|payment_id)`, compared in constant time."""
        message = f"{order_id}|{payment_id}".encode()
        expected = hmac.new(self._key_secret, message, hashlib.sha256).hexdigest().encode()
        return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))

    async def create_order(
        self, *, amount_minor: int, currency: str, receipt: str, notes: Mapping[str, str]
    ) -> ProviderOrder:
        """Create an order; after an answer that never came, the order found by its receipt."""
        body = {
            "amount": amount_minor,
            "currency": currency,
            "receipt": receipt,
            "notes": dict(notes),
            "payment_capture": True,
        }
        call = self._sdk(self._client.order.create, dict(body))
        try:
            return await self._call("order.create", receipt, call, parse_order, retry_sent=False)
        except ProviderCallFailed as exc:
            if exc.rejected or not exc.sent:
                raise
            found = await self.find_order_by_receipt(receipt)
            if found is None:
                raise
            log.info("order recovered by receipt", extra={"order": mask(found.id)})
            return found

    async def find_order_by_receipt(self, receipt: str) -> ProviderOrder | None:
        call = self._sdk(self._client.order.all, {"receipt": receipt, "count": 10})
        orders = await self._call(
            "order.all", receipt, call, lambda d: [parse_order(i) for i in items(d)]
        )
        matching = [order for order in orders if order.receipt == receipt]
        return matching[0] if matching else None

    async def fetch_payment(self, payment_id: str) -> ProviderPayment:
        call = self._sdk(self._client.payment.fetch, payment_id, {})
        return await self._call("payment.fetch", payment_id, call, parse_payment)

    async def order_payments(self, order_id: str) -> list[ProviderPayment]:
        call = self._sdk(self._client.order.payments, order_id, {})
        return await self._call(
            "order.payments", order_id, call, lambda d: [parse_payment(i) for i in items(d)]
        )

    async def create_refund(
        self, *, payment_id: str, amount_minor: int, key: str, notes: Mapping[str, str]
    ) -> ProviderRefund:
        """Ask for a refund; `key` is sent as `X-Refund-Idempotency` (and as the receipt), so a
        repeat of the same request returns the first refund and retrying is safe."""
        body = {"amount": amount_minor, "speed": "normal", "receipt": key, "notes": dict(notes)}
        headers = {"X-Refund-Idempotency": key}
        call = self._sdk(self._client.payment.refund, payment_id, body, headers=headers)
        return await self._call("payment.refund", payment_id, call, parse_refund)

    async def payment_refunds(self, payment_id: str) -> list[ProviderRefund]:
        call = self._sdk(self._client.payment.fetch_multiple_refund, payment_id, {"count": 100})
        return await self._call(
            "payment.refunds", payment_id, call, lambda d: [parse_refund(i) for i in items(d)]
        )

    async def list_payments(
        self, *, start: int, end: int, count: int = 100, skip: int = 0
    ) -> list[ProviderPayment]:
        """One page of Razorpay's payments created in [start, end] (unix seconds, newest first);
        items that are not payments of an order are left out."""
        query = {"from": start, "to": end, "count": count, "skip": skip}
        call = self._sdk(self._client.payment.all, query)
        return await self._call("payment.all", str(start), call, _parsed(parse_payment))

    async def list_refunds(
        self, *, start: int, end: int, count: int = 100, skip: int = 0
    ) -> list[ProviderRefund]:
        """One page of Razorpay's refunds created in [start, end] (unix seconds, newest first)."""
        query = {"from": start, "to": end, "count": count, "skip": skip}
        call = self._sdk(self._client.refund.all, query)
        return await self._call("refund.all", str(start), call, _parsed(parse_refund))

    def _sdk(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
        """One blocking SDK call with the request timeout; fresh copies of mutable arguments
        (the SDK writes into the dicts it is given)."""

        def run() -> Any:
            fresh = [dict(a) if isinstance(a, dict) else a for a in args]
            extra = {k: dict(v) if isinstance(v, dict) else v for k, v in kwargs.items()}
            return method(*fresh, timeout=self._timeout, **extra)

        return run

    async def _call(
        self,
        operation: str,
        ref: str,
        call: Callable[[], Any],
        parse: Callable[[Any], T],
        *,
        retry_sent: bool = True,
    ) -> T:
        """Run `call` up to `max_attempts` times: a 4xx or an open circuit is final; a failure
        whose request may have been sent is retried only when `retry_sent`."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await self._once(operation, ref, call, parse)
            except ProviderCallFailed as exc:
                final = exc.rejected or exc.reason == "circuit_open"
                if final or (exc.sent and not retry_sent) or attempt == self._max_attempts:
                    raise
            await asyncio.sleep(self._backoff_s * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self, operation: str, ref: str, call: Callable[[], Any], parse: Callable[[Any], T]
    ) -> T:
        extra: dict[str, Any] = {"operation": operation, "ref": mask(ref)}
        try:
            self.breaker.before_call()
        except CircuitOpen:
            metrics.count_razorpay_request(operation, "circuit_open", None)
            log.warning("razorpay circuit open: not calling", extra=extra)
            raise ProviderCallFailed(
                UNAVAILABLE, reason="circuit_open", rejected=False, sent=False
            ) from None
        started = time.perf_counter()
        try:
            raw = await asyncio.wait_for(asyncio.to_thread(call), timeout=self._deadline_s)
            result = parse(raw)
        except razorpay.errors.BadRequestError:
            self.breaker.record_success()
            metrics.count_razorpay_request(operation, "bad_request", time.perf_counter() - started)
            log.info("razorpay declined", extra={**extra, "reason": "bad_request"})
            raise ProviderCallFailed(
                DECLINED, reason="bad_request", rejected=True, sent=True
            ) from None
        except asyncio.CancelledError:
            self.breaker.release()
            metrics.count_razorpay_request(operation, "cancelled", time.perf_counter() - started)
            raise
        except Exception as exc:  # every SDK, HTTP and parsing failure: one safe error
            self.breaker.record_failure()
            reason, sent = _classify(exc)
            duration = time.perf_counter() - started
            metrics.count_razorpay_request(operation, reason, duration)
            log.warning(
                "razorpay call failed",
                extra={
                    **extra,
                    "reason": reason,
                    "error_type": type(exc).__name__,
                    "duration_ms": round(duration * 1000),
                },
            )
            raise ProviderCallFailed(
                UNAVAILABLE, reason=reason, rejected=False, sent=sent
            ) from None
        self.breaker.record_success()
        metrics.count_razorpay_request(operation, "success", time.perf_counter() - started)
        log.debug("razorpay call", extra=extra)
        return result


def _parsed(parse: Callable[[Any], T]) -> Callable[[Any], list[T]]:
    """A collection's items through `parse`, leaving out those it refuses (a list may hold
    entities this product never made, e.g. payments without an order)."""

    def run(data: Any) -> list[T]:
        found: list[T] = []
        for item in items(data):
            try:
                found.append(parse(item))
            except ValueError:
                continue
        return found

    return run
