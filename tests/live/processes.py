"""Payments subgraph processes for the live tests (uvicorn, as `make dev` runs them), a JWKS they
fetch tokens' keys from, and a graphql-transport-ws client speaking as the router does."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from devtools.devstack import listening_socket, uvicorn_command
from shared import router_signature
from shared.config import REPO_ROOT
from shared.tokens import SigningKeys

PROTOCOL = Subprotocol("graphql-transport-ws")


class JwksServer:
    """Serves a key set at /.well-known/jwks.json, as the auth subgraph would."""

    def __init__(self, keys: SigningKeys) -> None:
        body = json.dumps(keys.jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@dataclass
class PaymentsProcess:
    name: str
    port: int
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start_payments(name: str, env: dict[str, str], log_dir: Path) -> PaymentsProcess:
    """A payments process on a port of its own: it inherits the listening socket bound here
    (devtools.devstack.listening_socket), so no other process can take or answer on its port."""
    sock = listening_socket(0)
    port = int(sock.getsockname()[1])
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with sock, log_path.open("ab") as log:
        popen = subprocess.Popen(
            uvicorn_command("subgraphs.payments.app:create_app", port, fd=sock.fileno()),
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=(sock.fileno(),),
        )
    return PaymentsProcess(name, port, popen, log_path)


PORT_TAKEN = "address already in use"


async def start_ready(
    name: str, env: dict[str, str], log_dir: Path, attempts: int = 3
) -> PaymentsProcess:
    """A ready payments process. Its port is free when chosen, not necessarily when uvicorn
    binds it (another test run, an outgoing connection): start again on a new port then."""
    for attempt in range(1, attempts + 1):
        process = start_payments(name, env, log_dir)
        try:
            await wait_ready([process])
            return process
        except RuntimeError:
            process.stop()
            if attempt == attempts or PORT_TAKEN not in process.log_tail().lower():
                raise
    raise AssertionError("unreachable")


async def wait_ready(processes: list[PaymentsProcess], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        for process in processes:
            while True:
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
                try:
                    response = await client.get(f"http://127.0.0.1:{process.port}/readyz")
                    if response.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{process.name} not ready:\n{process.log_tail()}")
                await asyncio.sleep(0.1)


def init_payload(
    secret: str | None, token: str | None, request_id: str = "live-test"
) -> dict[str, str]:
    """The `connection_init` payload the router sends a subgraph."""
    payload = {"x-request-id": request_id}
    if secret is not None:
        payload["x-router-signature"] = router_signature.ws_credential(secret)
    if token is not None:
        payload["Authorization"] = f"Bearer {token}"
    return payload


class GraphQLWs:
    """A graphql-transport-ws client over a real WebSocket."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, url: str, payload: dict[str, str]) -> GraphQLWs:
        connection = await connect(url, subprotocols=[PROTOCOL], open_timeout=5)
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        return cls(connection)

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(
            await asyncio.wait_for(self.connection.recv(), timeout)
        )
        return message

    async def acknowledged(self) -> None:
        message = await self.receive()
        assert message["type"] == "connection_ack", message

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any], secret: str | None
    ) -> None:
        payload: dict[str, Any] = {"query": query, "variables": variables}
        if secret is not None:  # the router signs subscribe messages too (not checked here)
            payload["extensions"] = {
                router_signature.SIGNATURE_EXTENSION: router_signature.sign(
                    secret, query, variables
                )
            }
        await self.connection.send(
            json.dumps({"id": operation_id, "type": "subscribe", "payload": payload})
        )

    async def complete(self, operation_id: str) -> None:
        await self.connection.send(json.dumps({"id": operation_id, "type": "complete"}))

    async def close(self) -> None:
        await self.connection.close()
