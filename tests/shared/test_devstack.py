"""The orchestrator's decisions, without starting the processes."""

from __future__ import annotations

import socket
from pathlib import Path

from devtools.devstack import DEFAULT_PORTS, SIMULATOR_KEY_ID, DevStack, listening_socket
from tests.conftest import Infra


def make_stack(infra: Infra, tmp_path: Path, **env: str) -> DevStack:
    return DevStack(
        app_env="test",
        data_dir=tmp_path,
        ports=dict.fromkeys(DEFAULT_PORTS, 0),
        base_env=env,
        database_url=infra.database_url,
        redis_url=infra.redis_url,
    )


def test_without_a_razorpay_url_the_simulator_plays_razorpay(infra: Infra, tmp_path: Path) -> None:
    stack = make_stack(infra, tmp_path)
    try:
        stack.prepare()
        env = stack.env
        assert stack.use_simulator
        assert env["RAZORPAY_KEY_ID"] == SIMULATOR_KEY_ID
        assert env["RAZORPAY_API_BASE_URL"] == stack.url("simulator", "")
        assert env["RAZORPAY_WEBHOOK_URLS"] == stack.url("webhooks", "/webhooks/razorpay")
        assert len(env["RAZORPAY_KEY_SECRET"]) >= 24
        assert ("Razorpay simulator", stack.url("simulator", "/_sim/docs")) in stack.summary()
        first = (
            env["RAZORPAY_KEY_SECRET"],
            env["RAZORPAY_WEBHOOK_SECRET"],
            env["JWT_PRIVATE_KEY"],
            env["TOTP_ENCRYPTION_KEY"],
        )
        totp_key = tmp_path / "secrets" / "totp_encryption_key"
        assert totp_key.read_text().strip() == env["TOTP_ENCRYPTION_KEY"]
        assert totp_key.stat().st_mode & 0o777 == 0o600
    finally:
        stack.stop()
    again = make_stack(infra, tmp_path)
    try:
        again.prepare()
        # Secrets are made once and kept with the data.
        assert first == (
            again.env["RAZORPAY_KEY_SECRET"],
            again.env["RAZORPAY_WEBHOOK_SECRET"],
            again.env["JWT_PRIVATE_KEY"],
            again.env["TOTP_ENCRYPTION_KEY"],
        )
    finally:
        again.stop()


def test_a_given_razorpay_is_used_as_it_is(infra: Infra, tmp_path: Path) -> None:
    given = {
        "RAZORPAY_API_BASE_URL": "http://127.0.0.1:9/razorpay-compatible",
        "RAZORPAY_KEY_ID": "rzp_test_elsewhere",
        "RAZORPAY_KEY_SECRET": "their-secret-value-123",
        "RAZORPAY_WEBHOOK_SECRET": "their-webhook-secret-456",
        "SMTP_HOST": "smtp.example.internal",
        "ROUTER_HMAC_SECRET": "given-router-secret",
    }
    stack = make_stack(infra, tmp_path, **given)
    try:
        stack.prepare()
        assert not stack.use_simulator
        for name, value in given.items():
            assert stack.env[name] == value
        assert "RAZORPAY_WEBHOOK_URLS" not in stack.env
        assert ("Razorpay", given["RAZORPAY_API_BASE_URL"]) in stack.summary()
        assert not (tmp_path / "secrets" / "razorpay_key_secret").exists()
    finally:
        stack.stop()


def test_connections_accepted_on_a_handed_down_socket_send_without_delay() -> None:
    """uvicorn `--fd` takes the socket for AF_UNIX and sets no TCP_NODELAY on what it accepts:
    the listening socket carries it, and Linux copies it to each accepted connection."""
    with (
        listening_socket(0) as listener,
        socket.create_connection(listener.getsockname()) as client,
    ):
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
