"""provider/razorpay.py against the simulator's faults: timeouts, 5xx, non-JSON bodies, refused
connections, order recovery by receipt, and the circuit breaker through GraphQL."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from shared.config import PaymentsSettings
from shared.errors import PaymentProviderError
from shared.scopes import Role
from shared.tokens import SigningKeys
from subgraphs.payments.app import create_app
from subgraphs.payments.context import PaymentsDeps
from subgraphs.payments.provider.circuit import CircuitBreaker, CircuitState
from subgraphs.payments.provider.razorpay import ProviderCallFailed, RazorpayGateway
from tests.helpers import Subgraph, app_client, error_codes, verifier_factory
from tests.payments.shop import START, create
from tests.simulator.support import KEY_ID, KEY_SECRET, Sim

# Generous: a loaded machine must not turn a slow answer into a timeout. Tests about timeouts
# pass their own short `timeout_s` together with a fault that sleeps far longer.
TIMEOUT_S = 5.0
SHORT_TIMEOUT_S = 0.3


def gateway(url: str, **kw: Any) -> RazorpayGateway:
    options: dict[str, Any] = {"timeout_s": TIMEOUT_S, "max_attempts": 2, "retry_backoff_s": 0.0}
    options.update(kw)
    return RazorpayGateway(key_id=KEY_ID, key_secret=KEY_SECRET, base_url=url, **options)


def remaining(sim: Sim) -> int | None:
    fault = sim.http.get("/_sim/faults").json()["fault"]
    return None if fault is None else int(fault["remaining"])


async def test_typed_results(simulator: Sim) -> None:
    client = gateway(simulator.url)
    receipt = f"rcpt_{uuid.uuid4().hex}"
    order = await client.create_order(
        amount_minor=12345, currency="INR", receipt=receipt, notes={"paymentId": "p"}
    )
    assert (order.amount_minor, order.currency, order.receipt, order.status) == (
        12345,
        "INR",
        receipt,
        "created",
    )
    assert await client.find_order_by_receipt(receipt) == order
    assert await client.find_order_by_receipt(f"rcpt_{uuid.uuid4().hex}") is None
    handler = simulator.pay(order.id)
    payment = await client.fetch_payment(handler["razorpay_payment_id"])
    assert (payment.order_id, payment.status, payment.amount_minor) == (order.id, "captured", 12345)
    assert await client.order_payments(order.id) == [payment]
    refund = await client.create_refund(
        payment_id=payment.id, amount_minor=100, key=f"rfd_{uuid.uuid4().hex}", notes={}
    )
    assert (refund.payment_id, refund.amount_minor, refund.status) == (payment.id, 100, "processed")
    assert await client.payment_refunds(payment.id) == [refund]
    client.close()


@pytest.mark.parametrize(
    ("mode", "reason"), [("error500", "server_error"), ("non_json", "non_json_response")]
)
async def test_outages_become_one_safe_error(
    simulator: Sim, faults: Callable[..., None], mode: str, reason: str
) -> None:
    client = gateway(simulator.url)
    faults(mode, count=None)
    with pytest.raises(ProviderCallFailed) as caught:
        await client.fetch_payment("pay_" + "A" * 14)
    assert isinstance(caught.value, PaymentProviderError)
    assert (caught.value.reason, caught.value.rejected) == (reason, False)
    assert caught.value.message == "The payment provider is unavailable; please try again shortly"
    assert caught.value.__cause__ is None


async def test_a_declined_request_is_final_and_keeps_the_circuit_closed(simulator: Sim) -> None:
    client = gateway(simulator.url, breaker=CircuitBreaker(name="t", failure_threshold=1,
                                                           reset_timeout_s=60))  # fmt: skip
    with pytest.raises(ProviderCallFailed) as caught:
        await client.fetch_payment("pay_" + "B" * 14)
    assert (caught.value.reason, caught.value.rejected) == ("bad_request", True)
    assert client.breaker.state is CircuitState.CLOSED


async def test_timeout(simulator: Sim, faults: Callable[..., None]) -> None:
    client = gateway(simulator.url, timeout_s=SHORT_TIMEOUT_S)
    faults("timeout", count=None, sleep_s=3.0)
    started = time.monotonic()
    with pytest.raises(ProviderCallFailed) as caught:
        await client.fetch_payment("pay_" + "C" * 14)
    assert caught.value.reason == "timeout"
    # Two attempts of 0.3 s, not even one of 3.0 s: the client gave up at its own timeout.
    assert time.monotonic() - started < 3.0


async def test_refused_connection_is_known_unsent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = gateway(f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderCallFailed) as caught:
        await client.create_order(amount_minor=100, currency="INR", receipt="r", notes={})
    assert (caught.value.reason, caught.value.sent) == ("connection_error", False)


async def test_order_recovered_by_receipt_after_a_lost_answer(
    simulator: Sim, faults: Callable[..., None]
) -> None:
    """The create is served after the client gave up; the listing finds it."""
    client = gateway(simulator.url, max_attempts=3, timeout_s=SHORT_TIMEOUT_S)
    receipt = f"rcpt_{uuid.uuid4().hex}"
    faults("timeout", count=2, path_prefix="/v1/orders", sleep_s=0.45)
    order = await client.create_order(amount_minor=5000, currency="INR", receipt=receipt, notes={})
    assert order.receipt == receipt
    await asyncio.sleep(0.3)
    assert len(simulator.rzp.order.all({"receipt": receipt})["items"]) == 1


@pytest.fixture
async def fragile(
    shop_settings: PaymentsSettings, keys: SigningKeys, simulator: Sim
) -> AsyncIterator[Subgraph]:
    """A payments app whose circuit opens after 2 failures and half-opens after 0.5 s."""
    breaker = CircuitBreaker(name="razorpay", failure_threshold=2, reset_timeout_s=0.5)
    app = create_app(
        shop_settings,
        deps=PaymentsDeps(
            verifier_factory=verifier_factory(keys),
            gateway=gateway(simulator.url, max_attempts=3, breaker=breaker),
        ),
    )
    async with app_client(app) as client:
        yield Subgraph(client, app.state.resources.engine, shop_settings, keys)


async def test_outage_opens_the_circuit_then_recovers(
    fragile: Subgraph, simulator: Sim, faults: Callable[..., None]
) -> None:
    customer = fragile.caller(Role.CUSTOMER)
    payment_id = await create(fragile, customer)
    faults("error500", count=100)
    first = await fragile.gql(START, {"id": payment_id}, as_=customer)
    assert error_codes(first) == ["PAYMENT_PROVIDER_ERROR"]
    assert remaining(simulator) == 98  # two calls, then the circuit opened
    fast = await fragile.gql(START, {"id": payment_id}, as_=customer)
    assert error_codes(fast) == ["PAYMENT_PROVIDER_ERROR"]
    # Failed fast: Razorpay was not called (a count, not a stopwatch).
    assert remaining(simulator) == 98
    faults("none")
    await asyncio.sleep(0.55)
    recovered = await fragile.ok(START, {"id": payment_id}, as_=customer)
    assert recovered["startCheckout"]["payment"]["status"] == "PROCESSING"
