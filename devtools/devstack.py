"""Runs the whole system on one machine: `make dev` and the end-to-end tests use this.

Steps: embedded PostgreSQL and Redis when DATABASE_URL / REDIS_URL are unset (data kept under
`.data/`), development secrets (router HMAC secret, JWT signing key, TOTP encryption key) created
once, migrations, development seed accounts, an SMTP sink when SMTP_HOST is unset, the four
subgraphs and the router on the contract's ports, readiness checks, then wait; Ctrl-C or SIGTERM
stops everything it started. Every port and URL can be overridden from the environment.

Ports (docs/development.md#ports): a port given as 0 is chosen by the kernel. The Python
processes get their listening socket from the orchestrator, bound before anything else and
inherited (`uvicorn --fd`), so no other process can take it in between. The router (Node) binds
its own two ports: a port it could not bind, or one that another process answers on, is noticed
(`owns_listener`: the listening socket on the port must belong to the process started for it)
and the stack starts again on fresh ports before calling itself up.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from devtools.embedded import EmbeddedPostgres, EmbeddedRedis
from devtools.mailsink import MailSink
from shared.config import REPO_ROOT
from shared.migrations import SERVICES, upgrade_all
from shared.tokens import dev_key_path, ensure_dev_key
from subgraphs.auth.mfa_crypto import dev_key_path as totp_key_path
from subgraphs.auth.mfa_crypto import ensure_dev_key as ensure_totp_key

DEFAULT_PORTS = {
    "router": 4000,
    "auth": 4001,
    "payments": 4002,
    "admin": 4003,
    "profile": 4004,
    "webhooks": 4005,
    "simulator": 4010,
    "mfe": 4020,  # the example micro-frontend (examples/mfe), when serve_mfe
    "router_metrics": 9464,  # the router's Prometheus endpoint (ROUTER_METRICS_PORT), not public
}
PORT_ENV = {
    **{name: f"{name.upper()}_PORT" for name in DEFAULT_PORTS},
    "webhooks": "WEBHOOK_PORT",
    "simulator": "RAZORPAY_SIM_PORT",
}
SIMULATOR_KEY_ID = "rzp_test_simulator"
ROUTER_DIR = REPO_ROOT / "router"
GATEWAY_LOG_LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warn", "ERROR": "error"}


# The processes that take their listening socket from the orchestrator (uvicorn `--fd`): their
# ports cannot be taken between choice and bind. The router binds its own ("router",
# "router_metrics").
INHERITED_SOCKET = frozenset(
    {"auth", "payments", "admin", "profile", "webhooks", "simulator", "mfe"}
)
# How uvicorn (`[Errno 98] ... address already in use`) and Node (`EADDRINUSE`) say it.
PORT_TAKEN = re.compile(r"address already in use|EADDRINUSE", re.IGNORECASE)
START_ATTEMPTS = 4


class PortTakenError(RuntimeError):
    """A process could not have its port: another process holds it or answers on it."""

    def __init__(self, names: list[str], message: str) -> None:
        super().__init__(message)
        self.names = names


def free_port() -> int:
    """A port free NOW: another process may take it before whoever is told binds it. Prefer
    port 0 in `DevStack.ports` (or `listening_socket(0)`), which leaves no such window."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def listening_socket(port: int, host: str = "127.0.0.1") -> socket.socket:
    """A listening TCP socket on `port` (0: one the kernel picks), inheritable by a child
    (`pass_fds`). SO_REUSEADDR as uvicorn and Node set it (a port in TIME_WAIT is reusable)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections send small answers at once even if a server takes the socket
        # for a Unix one (uvicorn's own `--fd`: devtools/serve.py): Linux copies TCP_NODELAY
        # from the listening socket to every accepted one.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _listeners() -> dict[int, set[str]] | None:
    """TCP port -> inodes of the sockets listening on it (any local address), from /proc;
    None where there is no /proc (not Linux)."""
    listening: dict[int, set[str]] = {}
    found_table = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found_table = True
        for line in lines:
            fields = line.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the inode.
            if len(fields) > 9 and fields[3] == "0A":
                port = int(fields[1].rsplit(":", 1)[1], 16)
                listening.setdefault(port, set()).add(fields[9])
    return listening if found_table else None


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, ()))
    return tree


def listener_state(pid: int, port: int, listeners: dict[int, set[str]] | None = None) -> str:
    """Who listens on TCP `port`: "ours" (process `pid` or a descendant holds the listening
    socket), "foreign" (another process), "none" (nobody yet), or "unknown" (no /proc: not
    Linux, nothing to check). The kernel's word that a service answering on the port is the one
    started for it, not another test run's that took the port in between."""
    listening = _listeners() if listeners is None else listeners
    if listening is None:
        return "unknown"
    inodes = listening.get(port)
    if not inodes:
        return "none"
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for member in _process_tree(pid):
        try:
            fds = list(Path(f"/proc/{member}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in wanted:
                    return "ours"
            except OSError:
                continue
    return "foreign"


# Environment variables whose values are kept out of the logs `DevStack.keep_logs` copies.
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PRIVATE_KEY|ENCRYPTION_KEY|TOKEN", re.IGNORECASE)
_JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',]+")
_PEM = re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.DOTALL)
_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]+:)[^@\s]+@")


def redact(text: str, secrets_: Mapping[str, str]) -> str:
    """`text` without the given secret values (named), access tokens, PEM blocks or URL
    passwords."""
    for name, value in sorted(secrets_.items(), key=lambda item: -len(item[1])):
        if len(value) >= 6:
            text = text.replace(value, f"[redacted {name}]")
    text = _PEM.sub("[redacted PEM]", text)
    text = _JWT.sub("[redacted token]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return _URL_PASSWORD.sub(r"\1[redacted]@", text)


def _die_with_parent() -> None:
    """Child processes get SIGTERM if the orchestrator dies without cleaning up (Linux). The
    kernel sends it when the THREAD that started the child ends: start a stack from a thread
    that outlives it (tests/e2e/test_stack_ports.py keeps its pool until the stacks stop)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # pragma: no cover - not Linux
        pass


def _read_or_create(path: Path, make: str) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make)
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    health_url: str
    log_path: Path | None
    ports: tuple[int, ...] = ()  # the ports it must be found listening on (its own)


def uvicorn_command(factory: str, port: int, *, fd: int | None = None) -> list[str]:
    """How every Python process of the system is started (here, in the bench and in tests), as
    the Dockerfile starts it: no per-message-deflate on WebSockets. The router is the only
    WebSocket client of a subgraph and its messages are small JSON; compressing each one cost
    the router about 40% of its CPU in a burst of live updates (docs/performance.md).
    `fd`: serve on that inherited listening socket (`listening_socket`) instead of binding,
    through `devtools.serve` (uvicorn's own `--fd` would take the TCP socket for a Unix one)."""
    options = [
        "--no-access-log", "--log-level", "warning",
        "--ws", "websockets-sansio", "--ws-per-message-deflate", "false",
    ]  # fmt: skip
    if fd is not None:
        return [sys.executable, "-m", "devtools.serve", factory, "--fd", str(fd), *options]
    return [
        sys.executable, "-m", "uvicorn", "--factory", factory,
        "--host", "127.0.0.1", "--port", str(port), *options,
    ]  # fmt: skip


def simulator_command(fd: int) -> list[str]:
    """The Razorpay simulator (`python -m subgraphs.payments.simulator` does the same on a port
    of its own) on an inherited listening socket; its settings come from the environment."""
    return [
        sys.executable, "-m", "devtools.serve", "subgraphs.payments.simulator.app:create_app",
        "--fd", str(fd), "--log-level", "warning", "--ws", "none",
    ]  # fmt: skip


@dataclass
class DevStack:
    app_env: str = "development"
    data_dir: Path = REPO_ROOT / ".data"
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    database_url: str | None = None
    redis_url: str | None = None
    log_to_files: bool = False
    seed: bool = True
    serve_mfe: bool = False  # the example MFE's build on the "mfe" port (make dev, browser tests)
    processes: list[Process] = field(default_factory=list)
    use_simulator: bool = field(default=False, init=False)
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._pg = EmbeddedPostgres(self.data_dir / "pg")
        self._redis = EmbeddedRedis(self.data_dir / "redis")
        self._mail: MailSink | None = None
        self._started_pg = False
        self._started_redis = False
        self._requested_ports = dict(self.ports)  # 0: the kernel chooses (and may choose again)
        self._sockets: dict[str, socket.socket] = {}  # held until the process inherits them
        self._env_without_ports: dict[str, str] = {}

    # -- preparation -------------------------------------------------------------------------

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    def url(self, name: str, path: str = "/graphql") -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def prepare(self) -> None:
        """Infrastructure, secrets, ports, migrations and seed: everything before the processes."""
        env = dict(self.base_env)
        runtime_dir = self.data_dir / "run"
        runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        env.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
        env["APP_ENV"] = self.app_env
        self.use_simulator = not env.get("RAZORPAY_API_BASE_URL")
        self._choose_ports()
        database_url = self.database_url or env.get("DATABASE_URL")
        if not database_url:
            database_url = self._pg.start()
            self._started_pg = True
        redis_url = self.redis_url or env.get("REDIS_URL")
        if not redis_url:
            redis_url = self._redis.start()
            self._started_redis = True
        env["DATABASE_URL"] = database_url
        env["REDIS_URL"] = redis_url

        secrets_dir = self.data_dir / "secrets"
        if not env.get("ROUTER_HMAC_SECRET"):
            env["ROUTER_HMAC_SECRET"] = _read_or_create(
                secrets_dir / "router_hmac_secret", secrets.token_urlsafe(32)
            )
        if not env.get("JWT_PRIVATE_KEY"):
            env["JWT_PRIVATE_KEY"] = ensure_dev_key(dev_key_path(self.data_dir)).read_text()
        if not env.get("TOTP_ENCRYPTION_KEY"):
            env["TOTP_ENCRYPTION_KEY"] = ensure_totp_key(totp_key_path(self.data_dir))
        if not env.get("SMTP_HOST"):
            self._mail = MailSink(self.mail_dir)
            env["SMTP_HOST"] = "127.0.0.1"
            env["SMTP_PORT"] = str(self._mail.start())

        if self.use_simulator:
            # No Razorpay given: the bundled simulator plays it, with development secrets, and
            # posts its webhooks to our sidecar.
            env.setdefault("RAZORPAY_KEY_ID", SIMULATOR_KEY_ID)
            for name in ("razorpay_key_secret", "razorpay_webhook_secret"):
                if not env.get(name.upper()):
                    env[name.upper()] = _read_or_create(
                        secrets_dir / name, secrets.token_urlsafe(24)
                    )
        env.setdefault("LOG_JSON", "true")
        env.setdefault("AVATAR_DIR", str(self.data_dir / "avatars"))  # profile's uploaded avatars
        self._env_without_ports = env
        self._apply_ports()

        upgrade_all(database_url)
        if self.seed and self.app_env == "development":
            self._seed(self.env)

    def _served(self) -> list[str]:
        """The names in `ports` this stack starts a process (or the router's metrics) on."""
        skip = {"simulator"} if not self.use_simulator else set()
        if not self.serve_mfe:
            skip.add("mfe")
        return [name for name in self.ports if name not in skip]

    def _choose_ports(self) -> None:
        """Each served port, bound now for the processes that inherit their socket (no window
        for another process); a port asked as 0 is the kernel's choice, made afresh each time."""
        self._close_sockets()
        for name in self._served():
            asked = self._requested_ports.get(name, self.ports[name])
            if name in INHERITED_SOCKET:
                try:
                    sock = listening_socket(asked)
                except OSError as exc:
                    self._close_sockets()
                    raise RuntimeError(
                        f"{name}: cannot listen on 127.0.0.1:{asked} ({exc.strerror}); stop what "
                        f"holds it or choose another port with {PORT_ENV[name]}"
                    ) from exc
                self._sockets[name] = sock
                self.ports[name] = sock.getsockname()[1]
            elif asked == 0:
                self.ports[name] = free_port()

    def _close_sockets(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()

    def _apply_ports(self) -> None:
        """`env`: what the processes are told of each other's ports and URLs."""
        env = dict(self._env_without_ports)
        if self.use_simulator:
            env["RAZORPAY_API_BASE_URL"] = self.url("simulator", "")
            env["RAZORPAY_WEBHOOK_URLS"] = self.url("webhooks", "/webhooks/razorpay")
        for name, port in self.ports.items():
            env[PORT_ENV[name]] = str(port)
        self._browser_env(env)
        for service in SERVICES:
            env.setdefault(f"{service.upper()}_SUBGRAPH_URL", self.url(service))
        env["AUTH_JWKS_URL"] = self.url("auth", "/.well-known/jwks.json")
        # Where the admin systemHealth query finds the router and the sidecar.
        env.setdefault("ROUTER_HEALTH_URL", self.url("router", "/readiness"))
        env.setdefault("WEBHOOKS_HEALTH_URL", self.url("webhooks", "/readyz"))
        self.env = env

    def _browser_env(self, env: dict[str, str]) -> None:
        """What a browser page on the MFE's origin needs: the router and the simulator accept
        that origin (CORS), and the page learns where the router and checkout.js are."""
        mfe_origins = [f"http://{host}:{self.ports['mfe']}" for host in ("localhost", "127.0.0.1")]
        env.setdefault("CORS_ORIGINS", ",".join(["http://localhost:3000", *mfe_origins]))
        env.setdefault("RAZORPAY_SIM_CORS_ORIGINS", ",".join(mfe_origins))
        if self.use_simulator:
            env.setdefault("RAZORPAY_CHECKOUT_URL", self.url("simulator", "/v1/checkout.js"))
        env.setdefault("MFE_GRAPHQL_URL", self.url("router"))
        env.setdefault("MFE_GRAPHQL_WS_URL", self.url("router").replace("http", "ws", 1))

    def _seed(self, env: dict[str, str]) -> None:
        from subgraphs.auth.seed import seed

        password = env.get("DEV_SEED_PASSWORD") or _read_or_create(
            self.data_dir / "secrets" / "dev_seed_password", secrets.token_urlsafe(12)
        )
        asyncio.run(seed(env["DATABASE_URL"], password, self.app_env))

    # -- processes ---------------------------------------------------------------------------

    def _spawn(
        self,
        name: str,
        args: list[str],
        cwd: Path,
        health_url: str,
        env: dict[str, str] | None = None,
    ) -> None:
        log: IO[bytes] | None = None
        log_path = None
        if self.log_to_files:
            log_path = self.data_dir / "logs" / f"{name}.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = log_path.open("ab")
        # Its listening socket, when the orchestrator bound it (`_choose_ports`): inherited, and
        # closed here, so that the port refuses connections once the process has gone.
        sock = self._sockets.pop(name, None)
        try:
            popen = subprocess.Popen(  # noqa: S603 - fixed commands
                args,
                cwd=cwd,
                env=env or self.env,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                preexec_fn=_die_with_parent,
                start_new_session=True,
                pass_fds=(sock.fileno(),) if sock is not None else (),
            )
        finally:
            if sock is not None:
                sock.close()
            if log is not None:
                log.close()
        owned = (self.ports[name], *((self.ports["router_metrics"],) if name == "router" else ()))
        self.processes.append(Process(name, popen, health_url, log_path, owned))

    def _listen(self, name: str) -> list[str]:
        """uvicorn's options to serve `name` on its inherited socket."""
        return ["--fd", str(self._sockets[name].fileno())]

    def _uvicorn(self, factory: str, port: int) -> list[str]:
        name = next(n for n, p in self.ports.items() if p == port and n in self._sockets)
        return uvicorn_command(factory, port, fd=self._sockets[name].fileno())

    def start(self, timeout: float = 90.0) -> None:
        """Start every process and wait until each answers on its own port(s). When one could
        not have a port the kernel chose (the router binds its own: another process took it, or
        answers on it), everything started is stopped and started again on fresh ports."""
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                self._start_once(timeout)
                return
            except PortTakenError as taken:
                self._stop_processes()
                movable = all(self._requested_ports.get(n) == 0 for n in taken.names)
                if attempt == START_ATTEMPTS or not movable:
                    raise
                print(f"devstack: {taken}; starting again on other ports", file=sys.stderr)
                self._choose_ports()
                self._apply_ports()

    def _start_once(self, timeout: float) -> None:
        if not self._sockets:  # a second start: the first one's sockets went to its processes
            self._choose_ports()
            self._apply_ports()
        if self.use_simulator:
            self._spawn(
                "simulator",
                simulator_command(self._sockets["simulator"].fileno()),
                REPO_ROOT,
                self.url("simulator", "/healthz"),
            )
        self._spawn(
            "webhooks",
            self._uvicorn("subgraphs.payments.webhooks.app:create_app", self.ports["webhooks"]),
            REPO_ROOT,
            self.url("webhooks", "/readyz"),
        )
        for service in SERVICES:
            port = self.ports[service]
            self._spawn(
                service,
                self._uvicorn(f"subgraphs.{service}.app:create_app", port),
                REPO_ROOT,
                f"http://127.0.0.1:{port}/readyz",
            )
        if self.serve_mfe:
            mfe_server = [sys.executable, "-m", "devtools.mfe_server"]
            self._spawn(
                "mfe",
                [*mfe_server, *self._listen("mfe")],
                REPO_ROOT,
                self.url("mfe", "/config.json"),
            )
        # The gateway reads LOG_LEVEL too, with its own names, and refuses to start on others.
        level = self.env.get("LOG_LEVEL", "INFO").upper()
        router_env = {**self.env, "LOG_LEVEL": GATEWAY_LOG_LEVELS.get(level, "info")}
        self._spawn(
            "router",
            [
                shutil.which("node") or "node",
                str(ROUTER_DIR / "node_modules" / ".bin" / "hive-gateway"),
                "supergraph",
                str(REPO_ROOT / "schema" / "supergraph.graphql"),
                "--port",
                str(self.ports["router"]),
            ],
            ROUTER_DIR,
            f"http://127.0.0.1:{self.ports['router']}/readiness",
            env=router_env,
        )
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        """Until every process answers its health URL and is found listening on its own ports
        (`listener_state`): a 200 from a port another process holds is not ours."""
        deadline = time.monotonic() + timeout
        pending = list(self.processes)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                listeners = _listeners()
                for process in list(pending):
                    if process.popen.poll() is not None:
                        tail = self.log_tail(process)
                        if PORT_TAKEN.search(tail):
                            raise PortTakenError(
                                [process.name], f"{process.name} could not bind its port: {tail}"
                            )
                        raise RuntimeError(f"{process.name} exited: {tail}")
                    states = {
                        port: listener_state(process.popen.pid, port, listeners)
                        for port in process.ports
                    }
                    foreign = [port for port, state in states.items() if state == "foreign"]
                    if foreign:
                        raise PortTakenError(
                            [process.name],
                            f"{process.name}: another process listens on its port(s) {foreign}",
                        )
                    try:
                        healthy = client.get(process.health_url).status_code == 200
                    except httpx.HTTPError:
                        healthy = False
                    if healthy and all(state in ("ours", "unknown") for state in states.values()):
                        pending.remove(process)
                if pending and time.monotonic() > deadline:
                    names = ", ".join(p.name for p in pending)
                    raise RuntimeError(f"not healthy in {timeout:.0f}s: {names}")
                if pending:
                    time.sleep(0.1)

    def summary(self) -> list[tuple[str, str]]:
        """What a developer needs to know once everything is up: (label, where) rows."""
        razorpay = (
            ("Razorpay simulator", self.url("simulator", "/_sim/docs"))
            if self.use_simulator
            else ("Razorpay", self.env["RAZORPAY_API_BASE_URL"])
        )
        return [
            ("router (GraphQL, GraphiQL, WebSocket)", self.url("router")),
            *((("example MFE (examples/mfe)", self.url("mfe", "/")),) if self.serve_mfe else ()),
            *((service, self.url(service)) for service in SERVICES),
            ("Razorpay webhook sidecar", self.url("webhooks", "/webhooks/razorpay")),
            razorpay,
            ("JWKS", self.url("auth", "/.well-known/jwks.json")),
            ("mail sink (reset/verification mails)", str(self.mail_dir)),
            (
                "seeded accounts",
                "admin@, vendor@, customer@example.com (password: DEV_SEED_PASSWORD "
                "or .data/secrets/dev_seed_password)",
            ),
        ]

    def log_tail(self, process: Process, lines: int = 30) -> str:
        if process.log_path is None or not process.log_path.exists():
            return "(see the output above)"
        return "\n".join(process.log_path.read_text(errors="replace").splitlines()[-lines:])

    def keep_logs(self, dest: Path, extra_secrets: Mapping[str, str] | None = None) -> list[Path]:
        """Copy the processes' logs (`log_to_files`) to `dest`, without secrets: the values of
        the stack's secret variables (and `extra_secrets`), access tokens, PEM blocks and URL
        passwords are replaced by `[redacted ...]`. Returns the files written."""
        env = {**self.base_env, **self.env}
        hidden = {name: value for name, value in env.items() if _SECRET_NAME.search(name)}
        hidden.update(extra_secrets or {})
        written = []
        for log in sorted((self.data_dir / "logs").glob("*.log")):
            dest.mkdir(parents=True, exist_ok=True)
            target = dest / log.name
            target.write_text(redact(log.read_text(errors="replace"), hidden))
            written.append(target)
        return written

    def _stop_processes(self) -> None:
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                process.popen.terminate()
        for process in reversed(self.processes):
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
        self.processes.clear()

    def stop(self) -> None:
        self._stop_processes()
        self._close_sockets()
        if self._mail is not None:
            self._mail.stop()
            self._mail = None
        if self._started_redis:
            self._redis.stop()
        if self._started_pg:
            self._pg.stop()


def _ports_from_env() -> dict[str, int]:
    return {
        name: int(os.environ.get(PORT_ENV[name], default))
        for name, default in DEFAULT_PORTS.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the whole payments BFF locally.")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / ".data")
    args = parser.parse_args()
    app_env = os.environ.get("APP_ENV", "development")
    if app_env == "production":
        sys.exit("make dev is for development; deploy production with real infrastructure")
    stack = DevStack(
        app_env=app_env, data_dir=args.data_dir, ports=_ports_from_env(), serve_mfe=True
    )
    stopping = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    started = time.monotonic()
    try:
        stack.prepare()
        stack.start()
        print(
            f"\nPayments BFF is up in {time.monotonic() - started:.1f}s ({app_env}):\n"
            + "".join(f"  {label:<38} {where}\n" for label, where in stack.summary())
            + "Ctrl-C stops everything.",
            flush=True,
        )
        while not stopping.is_set():
            for process in stack.processes:
                if process.popen.poll() is not None:
                    print(
                        f"{process.name} exited ({process.popen.returncode}); stopping",
                        file=sys.stderr,
                    )
                    stopping.set()
            stopping.wait(0.5)
    except RuntimeError as exc:  # a port in use, a process that did not start: said plainly
        stack.stop()
        sys.exit(f"make dev: {exc}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
