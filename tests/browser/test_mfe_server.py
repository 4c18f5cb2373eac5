"""devtools/mfe_server.py: the MFE's build and the /config.json that points it at the router and
at Razorpay's checkout.js (the simulator's in development)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from devtools.mfe_server import RAZORPAY_CHECKOUT_JS, config_from_env, create_app


def test_config_defaults_to_razorpays_checkout_and_the_local_router() -> None:
    assert config_from_env({}) == {
        "graphqlUrl": "http://127.0.0.1:4000/graphql",
        "graphqlWsUrl": "ws://127.0.0.1:4000/graphql",
        "razorpayCheckoutUrl": RAZORPAY_CHECKOUT_JS,
    }
    assert RAZORPAY_CHECKOUT_JS == "https://checkout.razorpay.com/v1/checkout.js"


def test_config_follows_the_environment() -> None:
    env = {
        "MFE_GRAPHQL_URL": "https://api.example.com/graphql",
        "RAZORPAY_CHECKOUT_URL": "http://127.0.0.1:4999/v1/checkout.js",
    }
    assert config_from_env(env) == {
        "graphqlUrl": "https://api.example.com/graphql",
        "graphqlWsUrl": "wss://api.example.com/graphql",
        "razorpayCheckoutUrl": "http://127.0.0.1:4999/v1/checkout.js",
    }


async def test_serves_the_build_and_its_config(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<title>mfe</title>")
    config = config_from_env({})
    transport = httpx.ASGITransport(app=create_app(tmp_path, config))
    async with httpx.AsyncClient(transport=transport, base_url="http://mfe") as client:
        assert (await client.get("/")).text == "<title>mfe</title>"
        served = await client.get("/config.json")
        assert served.json() == config
        assert served.headers["cache-control"] == "no-store"
        assert (await client.get("/missing.js")).status_code == 404


def test_refuses_to_serve_without_a_build(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make mfe-build"):
        create_app(tmp_path, config_from_env({}))
