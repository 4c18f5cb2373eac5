"""A circuit breaker for calls to Razorpay: an outage fails fast instead of tying up requests.

CLOSED: calls go through; `failure_threshold` consecutive failures open it. OPEN: calls are
refused at once (`CircuitOpen`) until `reset_timeout_s` has passed; then HALF_OPEN lets one trial
call through: success closes the circuit, failure opens it again for another cool-down.

Only failures that say Razorpay is unreachable or broken count (timeouts, connection errors, 5xx,
unparseable answers); a 4xx answer means Razorpay is up and counts as a success. All state is
touched from the event loop (before and after the worker-thread hop), so no lock is needed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import StrEnum

from shared import metrics

log = logging.getLogger("bff.payments.circuit")


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    """The breaker refused the call without trying it."""


class CircuitBreaker:
    def __init__(
        self,
        *,
        name: str,
        failure_threshold: int,
        reset_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or reset_timeout_s < 0:
            raise ValueError("failure_threshold must be >= 1 and reset_timeout_s >= 0")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        metrics.watch_circuit(name, self.is_open)

    def is_open(self) -> bool:
        """Not closed: open, or waiting for its trial call (`bff_circuit_breaker_open`)."""
        return self._opened_at is not None

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._clock() - self._opened_at >= self.reset_timeout_s:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go through now (claims the half-open trial)."""
        state = self.state
        if state is CircuitState.CLOSED:
            return
        if state is CircuitState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return
        raise CircuitOpen(self.name)

    def record_success(self) -> None:
        if self._opened_at is not None:
            log.info("circuit closed", extra={"circuit": self.name})
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        reopen = self._trial_in_flight
        self._trial_in_flight = False
        if reopen or (self._opened_at is None and self._failures >= self.failure_threshold):
            self._opened_at = self._clock()
            log.warning(
                "circuit opened",
                extra={"circuit": self.name, "failures": self._failures},
            )

    def release(self) -> None:
        """Give back a claimed trial whose call ended neither way (e.g. it was cancelled)."""
        self._trial_in_flight = False
