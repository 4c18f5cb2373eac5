"""Run the simulator in a uvicorn thread on a free port, and receive its webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import razorpay
import uvicorn
from fastapi import FastAPI

KEY_ID = "rzp_test_simulator"
KEY_SECRET = "test-key-secret"
WEBHOOK_SECRET = "test-webhook-secret"


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


class ServerThread:
    """A uvicorn server for `app` in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app: FastAPI) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", ws="none", lifespan="on", timeout_graceful_shutdown=3
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Started and not (yet successfully) stopped: tests/conftest.py fails a folder that leaves one.
    running: ClassVar[set[ServerThread]] = set()

    def start(self) -> ServerThread:
        ServerThread.running.add(self)
        self._thread.start()
        try:
            wait_until(lambda: self.server.started)
        except BaseException:
            self.stop()  # a server that did not start is not left running either
            raise
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        assert not self._thread.is_alive(), "the simulator did not stop"
        ServerThread.running.discard(self)


@dataclass
class Received:
    headers: dict[str, str]
    raw: bytes
    status: int
    at: float

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.raw)
        return parsed

    @property
    def event_id(self) -> str:
        return self.headers["X-Razorpay-Event-Id"]

    @property
    def event(self) -> str:
        return str(self.body["event"])

    def signature_ok(self, secret: str = WEBHOOK_SECRET) -> bool:
        expected = hmac.new(secret.encode(), self.raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers["X-Razorpay-Signature"])


@dataclass
class Receiver:
    """A webhook endpoint: records every delivery; can answer 500 to the first N deliveries
    of each event id, or answer slowly to the first delivery of each event id."""

    fail_times: int = 0
    slow_first_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    _seen: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                event_id = self.headers.get("X-Razorpay-Event-Id", "")
                with receiver._lock:
                    seen = receiver._seen.get(event_id, 0)
                    receiver._seen[event_id] = seen + 1
                if seen == 0 and receiver.slow_first_s:
                    time.sleep(receiver.slow_first_s)
                status = 500 if seen < receiver.fail_times else 200
                with receiver._lock:
                    receiver.received.append(
                        Received(dict(self.headers.items()), raw, status, time.monotonic())
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # a slow answer whose client gave up: nothing to report

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/razorpay"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        wait_until(lambda: len(self.snapshot()) >= count, timeout)
        return self.snapshot()

    def accepted(self) -> list[Received]:
        return [item for item in self.snapshot() if item.status == 200]


@dataclass
class Sim:
    """A running simulator with the real SDK client and a plain HTTP client for /_sim."""

    url: str
    rzp: razorpay.Client
    http: httpx.Client

    @classmethod
    def of(cls, server: ServerThread, *, timeout: float) -> Sim:
        """The SDK and HTTP clients of a started simulator server (`close()` them)."""
        return cls(
            url=server.url,
            rzp=razorpay.Client(auth=(KEY_ID, KEY_SECRET), base_url=server.url),
            http=httpx.Client(base_url=server.url, timeout=timeout),
        )

    def close(self) -> None:
        self.rzp.session.close()
        self.http.close()

    def order(self, amount: int = 50_000, **fields: Any) -> dict[str, Any]:
        order: dict[str, Any] = self.rzp.order.create(
            {"amount": amount, "currency": "INR", "receipt": "rcpt-1", **fields}
        )
        return order

    def pay(self, order_id: str, **body: Any) -> dict[str, Any]:
        response = self.http.post(f"/_sim/orders/{order_id}/pay", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def settle(self, timeout_s: float = 5.0) -> None:
        response = self.http.post("/_sim/deliveries/wait", json={"timeout_s": timeout_s})
        assert response.json() == {"pending": 0}

    def deliveries(self, **params: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.http.get("/_sim/deliveries", params=params).json()[
            "items"
        ]
        return items
