"""A TCP relay in front of a subgraph that a test can switch off and on: while off, every
connection (new or open) is reset, so the router's next request to that subgraph fails as it
would with the subgraph down, and the next one after switching on goes through again. Used to
make one entity fetch fail in the middle of an operation or of a subscription."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class SubgraphSwitch:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._on = True
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = False

    def url(self, path: str = "/graphql") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def on(self) -> bool:
        return self._on

    def set(self, on: bool) -> None:
        with self._lock:
            self._on = on
            if not on:
                for sock in list(self._open):
                    _reset(sock)
                self._open.clear()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            with self._lock:
                if not self._on:
                    _reset(client)
                    continue
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), 5)
                except OSError:
                    _reset(client)
                    continue
                upstream.settimeout(None)
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(target)
            for sock in (source, target):
                _reset(sock)

    @contextmanager
    def running(self) -> Iterator[SubgraphSwitch]:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            _reset(self._server)
            self.set(False)
            thread.join(timeout=5)


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the peer sees ECONNRESET, as from a crashed process. The
    shutdown first wakes a thread blocked in `accept`/`recv` on it (a bare close does not)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        sock.close()
