"""Injected outages, seen through the real SDK."""

from __future__ import annotations

import pytest
import requests
from razorpay.errors import BadRequestError, ServerError

from tests.simulator.support import Sim, wait_until


def inject(api: Sim, **body: object) -> dict[str, object]:
    response = api.http.post("/_sim/faults", json=body)
    assert response.status_code == 200
    fault: dict[str, object] = response.json()
    return fault


def test_error500_raises_server_error_then_recovers(api: Sim) -> None:
    inject(api, mode="error500", count=2)
    for _ in range(2):
        with pytest.raises(
            ServerError, match=r"^We are facing some trouble completing your request"
        ):
            api.order()
    assert api.order()["status"] == "created"
    body = api.http.post("/_sim/faults", json={"mode": "error500"}).json()
    assert body["fault"]["remaining"] == 1
    raw = api.http.get("/v1/orders")
    assert raw.status_code == 500
    assert raw.json() == {
        "error": {
            "code": "SERVER_ERROR",
            "description": (
                "We are facing some trouble completing your request at the moment. "
                "Please try again shortly."
            ),
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
        }
    }


def test_non_json_502_makes_the_sdk_raise_a_json_decode_error(api: Sim) -> None:
    inject(api, mode="non_json")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        api.order()
    inject(api, mode="non_json")
    raw = api.http.get("/v1/orders")
    assert raw.status_code == 502
    assert raw.headers["content-type"].startswith("text/html")


def test_timeout_raises_but_the_order_is_created_anyway(api: Sim) -> None:
    inject(api, mode="timeout", sleep_s=0.6)
    with pytest.raises(requests.exceptions.Timeout):
        api.rzp.order.create({"amount": 100, "currency": "INR", "receipt": "slow-1"}, timeout=0.2)

    def created() -> bool:
        return api.rzp.order.all({"receipt": "slow-1"})["count"] == 1

    wait_until(created, timeout=3)


def test_faults_can_target_a_path_and_last_until_cleared(api: Sim) -> None:
    order = api.order()
    inject(api, mode="error500", count=None, path_prefix="/v1/payments")
    assert api.rzp.order.fetch(order["id"])["id"] == order["id"]
    handler = api.pay(order["id"])
    for _ in range(3):
        with pytest.raises(ServerError):
            api.rzp.payment.fetch(handler["razorpay_payment_id"])
    assert api.http.get("/_sim/faults").json()["fault"]["mode"] == "error500"
    assert inject(api, mode="none") == {"fault": None}
    assert api.rzp.payment.fetch(handler["razorpay_payment_id"])["status"] == "captured"


def test_a_bad_fault_request_is_refused(api: Sim) -> None:
    response = api.http.post("/_sim/faults", json={"mode": "meteor"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "mode"


def test_auth_still_applies_after_a_fault_window(api: Sim) -> None:
    inject(api, mode="error500", count=1)
    assert api.http.get("/v1/orders").status_code == 500
    assert api.http.get("/v1/orders").status_code == 401
    with pytest.raises(BadRequestError):
        api.rzp.order.fetch("order_AAAAAAAAAAAAAA")
