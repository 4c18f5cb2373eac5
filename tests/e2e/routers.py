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

from devtools.devstack import GATEWAY_LOG_LEVELS, ROUTER_DIR, DevStack, free_port
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
    try:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                if popen.poll() is not None:
                    raise RuntimeError(f"router {name} exited:\n{router.log_tail()}")
                try:
                    if client.get(router.url("/readiness")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"router {name} not ready:\n{router.log_tail()}")
                time.sleep(0.1)
        yield router
    finally:
        if popen.poll() is None:
            popen.terminate()
            try:
                popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
