"""provider/circuit.py with a fake clock."""

from __future__ import annotations

import pytest

from subgraphs.payments.provider.circuit import CircuitBreaker, CircuitOpen, CircuitState


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(name="t", failure_threshold=3, reset_timeout_s=10.0, clock=clock)


def test_opens_after_consecutive_failures_only() -> None:
    circuit = breaker(Clock())
    for _ in range(2):
        circuit.before_call()
        circuit.record_failure()
    circuit.record_success()  # a success in between resets the count
    for _ in range(2):
        circuit.record_failure()
    assert circuit.state is CircuitState.CLOSED
    circuit.record_failure()
    assert circuit.state is CircuitState.OPEN
    with pytest.raises(CircuitOpen):
        circuit.before_call()


def test_half_open_lets_one_trial_through() -> None:
    clock = Clock()
    circuit = breaker(clock)
    for _ in range(3):
        circuit.record_failure()
    clock.now += 10.0
    assert circuit.state is CircuitState.HALF_OPEN
    circuit.before_call()  # the trial
    with pytest.raises(CircuitOpen):
        circuit.before_call()  # a second caller waits for the trial's outcome
    circuit.record_failure()  # the trial failed: open for another cool-down
    assert circuit.state is CircuitState.OPEN
    clock.now += 10.0
    circuit.before_call()
    circuit.release()  # cancelled: someone else may try
    circuit.before_call()
    circuit.record_success()
    assert circuit.state is CircuitState.CLOSED
    circuit.before_call()


def test_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(name="t", failure_threshold=0, reset_timeout_s=1)
