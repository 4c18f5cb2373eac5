"""Extra router processes for tests that need other settings than the e2e stack's router (low
limits, production mode, an unreachable subgraph): the same `hive-gateway` command as
`devtools.devstack`, over the e2e stack's subgraphs unless the overrides say otherwise."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from devtools.devstack import (
    GATEWAY_LOG_LEVELS,
    PORT_TAKEN,
    ROUTER_DIR,
    START_ATTEMPTS,
    DevStack,
    PortTakenError,
    free_port,
    listener_state,
)
from shared.config import REPO_ROOT


@dataclass
class RouterProcess:
    port: int
    metrics_port: int
    popen: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str = "/graphql") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def router_process(
    stack: DevStack, name: str, overrides: Mapping[str, str], timeout: float = 60.0
) -> Iterator[RouterProcess]:
    """A router on ports of its own: the router binds them itself, so a port another process
    took after `free_port` chose it (the router exits: address in use) or answers on (found by
    `listener_state`) means starting again on other ports."""
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            router = _start(stack, name, overrides, timeout)
        except PortTakenError:
            if attempt == START_ATTEMPTS:
                raise
            continue
        try:
            yield router
        finally:
            _stop(router.popen)
        return


def _start(
    stack: DevStack, name: str, overrides: Mapping[str, str], timeout: float
) -> RouterProcess:
    port, metrics_port = free_port(), free_port()
    level = stack.env.get("LOG_LEVEL", "INFO").upper()
    env = {
        **stack.env,
        "LOG_LEVEL": GATEWAY_LOG_LEVELS.get(level, "info"),
        "ROUTER_PORT": str(port),
        "ROUTER_METRICS_PORT": str(metrics_port),
        **overrides,
    }
    log_path = stack.data_dir / "logs" / f"router-{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            [
                shutil.which("node") or "node",
                str(ROUTER_DIR / "node_modules" / ".bin" / "hive-gateway"),
                "supergraph",
                str(REPO_ROOT / "schema" / "supergraph.graphql"),
                "--port",
                str(port),
            ],
            cwd=ROUTER_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    router = RouterProcess(port, metrics_port, popen, log_path)
    own_ports = (port, int(env["ROUTER_METRICS_PORT"]))
    try:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                if popen.poll() is not None:
                    tail = router.log_tail()
                    if PORT_TAKEN.search(tail):
                        raise PortTakenError([name], f"router {name}: port taken:\n{tail}")
                    raise RuntimeError(f"router {name} exited:\n{tail}")
                states = [listener_state(popen.pid, p) for p in own_ports]
                if "foreign" in states:
                    raise PortTakenError([name], f"router {name}: another process has its port")
                try:
                    ready = client.get(router.url("/readiness")).status_code == 200
                except httpx.HTTPError:
                    ready = False
                if ready and all(state in ("ours", "unknown") for state in states):
                    return router
                if time.monotonic() > deadline:
                    raise RuntimeError(f"router {name} not ready:\n{router.log_tail()}")
                time.sleep(0.1)
    except BaseException:
        _stop(popen)
        raise


def _stop(popen: subprocess.Popen[bytes]) -> None:
    if popen.poll() is None:
        popen.terminate()
        try:
            popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
