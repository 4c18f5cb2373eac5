"""Configuration from the environment, the command line, persistence, and the real process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import razorpay

from subgraphs.payments.simulator import ConfigurationError, SimulatorSettings, create_app
from subgraphs.payments.simulator.__main__ import build_settings, main
from tests.simulator.conftest import MakeSim
from tests.simulator.support import KEY_ID, KEY_SECRET, WEBHOOK_SECRET

REPO = Path(__file__).resolve().parents[2]


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAZORPAY_KEY_SECRET", "s1")
    monkeypatch.setenv("RAZORPAY_WEBHOOK_SECRET", "w1")
    monkeypatch.setenv("RAZORPAY_WEBHOOK_URLS", "http://a/hook, http://b/hook,")
    monkeypatch.setenv("RAZORPAY_SIM_PORT", "4555")
    monkeypatch.setenv("RAZORPAY_SIM_WEBHOOK_QUIRKS", "notes_dict,drop_optional")
    monkeypatch.setenv("RAZORPAY_SIM_WEBHOOK_DUPLICATE", "true")
    settings = SimulatorSettings()
    assert settings.key_id == "rzp_test_simulator"
    assert settings.require_secrets() == ("s1", "w1")
    assert settings.webhook_urls == ["http://a/hook", "http://b/hook"]
    assert (settings.port, settings.webhook_duplicate) == (4555, True)
    assert settings.webhook_quirks == ["notes_dict", "drop_optional"]
    assert "s1" not in repr(settings)


def test_constructor_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAZORPAY_KEY_ID", "rzp_test_fromenv")
    assert SimulatorSettings(key_id="rzp_test_given").key_id == "rzp_test_given"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"webhook_secret": "w"}, "RAZORPAY_KEY_SECRET must be set"),
        ({"key_secret": "k", "webhook_secret": " "}, "RAZORPAY_WEBHOOK_SECRET must be set"),
        ({"key_secret": "k", "webhook_secret": "w", "app_env": "production"}, "development"),
    ],
)
def test_the_simulator_refuses_to_start(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app(SimulatorSettings(**values))


def test_command_line_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAZORPAY_SIM_PORT", "4999")
    settings = build_settings(
        ["--port", "4011", "--host", "0.0.0.0", "--state-file", str(tmp_path / "s.json"),
         "--webhook-url", "http://a/1", "--webhook-url", "http://b/2"]
    )  # fmt: skip
    assert (settings.port, settings.host) == (4011, "0.0.0.0")
    assert settings.state_file == tmp_path / "s.json"
    assert settings.webhook_urls == ["http://a/1", "http://b/2"]
    assert build_settings([]).port == 4999


def test_main_exits_2_without_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0"]) == 2
    assert "RAZORPAY_KEY_SECRET" in capsys.readouterr().err


def test_state_survives_a_restart(make_sim: MakeSim, tmp_path: Path) -> None:
    state = tmp_path / "state" / "razorpay.json"
    first = make_sim(state_file=state)
    order = first.order()
    handler = first.pay(order["id"])
    refund = first.rzp.payment.refund(
        handler["razorpay_payment_id"], {"amount": 100}, headers={"X-Refund-Idempotency": "k" * 12}
    )
    second = make_sim(state_file=state)
    assert second.rzp.order.fetch(order["id"])["status"] == "paid"
    assert second.rzp.payment.fetch(handler["razorpay_payment_id"])["amount_refunded"] == 100
    again = second.rzp.payment.refund(
        handler["razorpay_payment_id"], {"amount": 100}, headers={"X-Refund-Idempotency": "k" * 12}
    )
    assert again["id"] == refund["id"]
    assert second.http.post("/_sim/reset").status_code == 200
    third = make_sim(state_file=state)
    assert third.rzp.order.all()["count"] == 0


def test_health_and_docs(make_sim: MakeSim) -> None:
    sim = make_sim()
    assert sim.http.get("/healthz").json() == {"status": "ok"}
    paths = sim.http.get("/_sim/openapi.json").json()["paths"]
    assert "/_sim/orders/{order_id}/pay" in paths
    assert "/v1/orders" in paths


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_simulator(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """The simulator as `python -m`, healthy on a free port. A port free when chosen can be
    taken before the child binds it (another test run, an outgoing connection): try again."""
    for _ in range(3):
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "subgraphs.payments.simulator", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    return process, port
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the simulator did not start"
            time.sleep(0.05)
        _, stderr = process.communicate()
        assert b"address already in use" in stderr.lower(), stderr.decode()  # any other exit
    raise AssertionError("no free port for the simulator in three tries")


def test_python_dash_m_runs_the_simulator() -> None:
    env = {
        **os.environ,
        "RAZORPAY_KEY_ID": KEY_ID,
        "RAZORPAY_KEY_SECRET": KEY_SECRET,
        "RAZORPAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PYTHONPATH": str(REPO),
    }
    process, port = _start_simulator(env)
    client = razorpay.Client(auth=(KEY_ID, KEY_SECRET), base_url=f"http://127.0.0.1:{port}")
    try:
        assert client.order.create({"amount": 100, "currency": "INR"})["status"] == "created"
    finally:
        client.session.close()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"http://127.0.0.1:{port}" in stderr.decode()
