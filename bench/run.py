"""`make bench` (`python -m bench [--quick]`): starts the whole system on embedded PostgreSQL and
Redis (devtools.devstack, as the e2e tests do), seeds one customer with payments, runs each
comparison interleaved A B A B A B with autocannon (bench/load.mjs), prints one
`BENCH <name> key=value ...` line per result, writes bench/results.json and stops everything.
See docs/performance.md for what each result means."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import redis

from bench.core import (
    LoadResult,
    bench_line,
    children_of,
    count_statements,
    median,
    median_ratio,
    parse_load,
    per_request_ms,
    percentile,
    process_cpu,
)
from devtools.devstack import (
    DEFAULT_PORTS,
    GATEWAY_LOG_LEVELS,
    ROUTER_DIR,
    DevStack,
    free_port,
    uvicorn_command,
)
from shared.config import REPO_ROOT
from subgraphs.payments.live.pubsub import encode_update, payment_channel

BENCH_DIR = REPO_ROOT / "bench"
NODE = shutil.which("node") or "node"
ROUTER_SECRET = "bench-router-secret-0123456789abcdef"
SEED_PASSWORD = "Bench-Seed-Password-1"
APPS = ("auth", "payments", "profile")  # the services a `users { profile payments }` reads

LIST_QUERY = (
    "query($t: DateTime, $first: Int) { payments(first: $first, filter: {createdTo: $t}) "
    "{ edges { node { id amount currency status createdAt } } } }"
)
CROSS_QUERY = (
    "query($t: DateTime) { payments(first: 20, filter: {createdTo: $t}) "
    "{ edges { node { id amount status payer { id name } } } } }"
)
USERS_QUERY = (
    "query($n: Int) { users(first: $n) { edges { node { id name profile { bio } "
    "payments(first: 5) { edges { node { id status } } } } } } }"
)


@dataclass(frozen=True)
class Plan:
    quick: bool
    pairs: int = 3
    seconds: float = 10.0
    connections: int = 16
    webhooks: int = 3000
    webhook_connections: int = 32
    subscribers: int = 1000
    list_payments: int = 200  # the customer's payments (the list reads the newest 20)

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(quick=True, seconds=1.5, webhooks=200, subscribers=100)
        return cls(quick=False)


@dataclass
class Watched:
    """Processes whose CPU a run is charged for."""

    name: str
    pids: Callable[[], list[int]]


def tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children_of(current))
    return out


@dataclass
class Bench:
    plan: Plan
    data_dir: Path
    stack: DevStack | None = None
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    customer_id: uuid.UUID | None = None
    customer_token: str = ""
    admin_token: str = ""

    # -- set-up ------------------------------------------------------------------------------

    def start(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)
        stack = DevStack(
            app_env="test",
            data_dir=self.data_dir,
            ports=dict.fromkeys(DEFAULT_PORTS, 0),  # the kernel's, race-free (devtools.devstack)
            log_to_files=True,
            base_env={
                **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
                "ROUTER_HMAC_SECRET": ROUTER_SECRET,
                "LOG_LEVEL": "WARNING",
                "AUTH_RATE_LIMIT_PER_IP": "100000",
                "API_RATE_LIMIT_PER_MINUTE": "1000000",
                "WS_MAX_SUBSCRIPTIONS_PER_USER": "100000",
                "WS_MAX_SUBSCRIPTIONS_PER_CONNECTION": "100",
                "WEBHOOK_WORKER_INTERVAL_SECONDS": "0.1",
                "WEBHOOK_WORKER_BATCH_SIZE": "500",
            },
        )
        self.stack = stack
        stack.prepare()
        from subgraphs.auth.seed import seed

        asyncio.run(seed(stack.env["DATABASE_URL"], SEED_PASSWORD, "test"))
        stack.start()
        self.customer_token = self.login("customer@example.com")
        self.admin_token = self.login("admin@example.com")
        self.customer_id = asyncio.run(self._user_id("customer@example.com"))
        asyncio.run(self._seed_list())

    def login(self, email: str) -> str:
        body = {
            "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            "variables": {"i": {"email": email, "password": SEED_PASSWORD}},
        }
        answer = httpx.post(self.url("router"), json=body, timeout=30).json()
        if "errors" in answer:
            raise RuntimeError(f"login {email}: {answer['errors']}")
        token: str = answer["data"]["login"]["accessToken"]
        return token

    def url(self, name: str, path: str = "/graphql") -> str:
        assert self.stack is not None
        return self.stack.url(name, path)

    @property
    def env(self) -> dict[str, str]:
        assert self.stack is not None
        return self.stack.env

    def pid(self, name: str) -> int:
        assert self.stack is not None
        for process in self.stack.processes:
            if process.name == name:
                return process.popen.pid
        raise KeyError(name)

    def postgres_pids(self) -> list[int]:
        pidfile = self.data_dir / "pg" / "postmaster.pid"
        try:
            return tree(int(pidfile.read_text().split()[0]))
        except (FileNotFoundError, ValueError, IndexError):
            return []

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.env["DATABASE_URL"], server_settings={"application_name": "bench"}
        )

    async def _user_id(self, email: str) -> uuid.UUID:
        conn = await self._connect()
        try:
            value = await conn.fetchval("SELECT id FROM auth.users WHERE email = $1", email)
        finally:
            await conn.close()
        return uuid.UUID(str(value))

    async def _insert_payments(
        self,
        conn: asyncpg.Connection,
        payer: uuid.UUID,
        count: int,
        *,
        status: str = "COMPLETED",
        orders: bool = False,
        start: datetime | None = None,
    ) -> list[tuple[uuid.UUID, str | None]]:
        base = start or datetime(2026, 1, 1, tzinfo=UTC)
        rows = []
        for i in range(count):
            payment_id = uuid.uuid4()
            order = f"order_b{payment_id.hex[:20]}" if orders else None
            created = base + timedelta(minutes=i)
            rows.append((
                payment_id, "PAYMENT", status, 10_000 + i, 0, "INR", f"bench {i}", payer, None,
                payer, order, f"bench-{payment_id.hex[:30]}", created, created, 1,
            ))  # fmt: skip
        await conn.executemany(
            "INSERT INTO payments.payments (id, type, status, amount_minor, "
            "amount_refunded_minor, currency, description, payer_id, payee_id, created_by, "
            "razorpay_order_id, receipt, created_at, updated_at, version) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
            rows,
        )
        return [(row[0], row[10]) for row in rows]

    async def _seed_list(self) -> None:
        assert self.customer_id is not None
        conn = await self._connect()
        try:
            await self._insert_payments(conn, self.customer_id, self.plan.list_payments)
            await conn.execute("ANALYZE payments.payments")
        finally:
            await conn.close()

    # -- processes of the bench's own ---------------------------------------------------------

    def spawn(self, name: str, args: list[str], env: Mapping[str, str], cwd: Path) -> int:
        log = (self.data_dir / "logs" / f"{name}.log").open("ab")
        popen = subprocess.Popen(  # noqa: S603 - fixed commands
            args, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        self.extra.append(popen)
        return popen.pid

    def uvicorn(self, factory: str, port: int, env: Mapping[str, str]) -> int:
        args = uvicorn_command(factory, port)
        return self.spawn(factory.split(":")[0].replace(".", "-"), args, env, REPO_ROOT)

    def router(self, name: str, port: int, env_overrides: Mapping[str, str]) -> int:
        level = self.env.get("LOG_LEVEL", "INFO").upper()
        env = {
            **self.env,
            "LOG_LEVEL": GATEWAY_LOG_LEVELS.get(level, "info"),
            "ROUTER_PORT": str(port),
            "ROUTER_METRICS_PORT": str(free_port()),
            **env_overrides,
        }
        args = [
            NODE, str(ROUTER_DIR / "node_modules" / ".bin" / "hive-gateway"), "supergraph",
            str(REPO_ROOT / "schema" / "supergraph.graphql"), "--port", str(port),
        ]  # fmt: skip
        return self.spawn(name, args, env, ROUTER_DIR)

    def wait_until(
        self, what: str, ready: Callable[[], bool], timeout: float = 90.0, pid: int | None = None
    ) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for popen in self.extra:
                if popen.pid == pid and popen.poll() is not None:
                    raise RuntimeError(f"{what} exited (see {self.data_dir / 'logs'})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not ready in {timeout:.0f}s")
            time.sleep(0.1)

    @staticmethod
    def answers(url: str, method: str = "GET", body: Any = None) -> Callable[[], bool]:
        def check() -> bool:
            try:
                response = httpx.request(method, url, json=body, timeout=2)
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        return check

    def stop(self) -> None:
        for popen in reversed(self.extra):
            if popen.poll() is None:
                popen.terminate()
        for popen in reversed(self.extra):
            try:
                popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
        self.extra.clear()
        if self.stack is not None:
            self.stack.stop()
            self.stack = None

    # -- measuring ------------------------------------------------------------------------------

    def load(
        self, spec: dict[str, Any], watched: list[Watched]
    ) -> tuple[LoadResult, dict[str, float]]:
        spec = {"connections": self.plan.connections, "duration": self.plan.seconds, **spec}
        pids = {w.name: w.pids() for w in watched}
        before = {name: process_cpu(p) for name, p in pids.items()}
        output = subprocess.run(  # noqa: S603 - fixed command
            [NODE, str(BENCH_DIR / "load.mjs"), self.spec_file(spec)],
            cwd=BENCH_DIR, capture_output=True, text=True, check=True, timeout=600,
        ).stdout  # fmt: skip
        after = {name: process_cpu(p) for name, p in pids.items()}
        result = parse_load(json.loads(output.strip().splitlines()[-1]))
        cpu = {name: per_request_ms(after[name] - before[name], result.requests) for name in pids}
        return result, cpu

    def spec_file(self, spec: dict[str, Any]) -> str:
        """The spec in a file (thousands of order ids do not fit in one argument)."""
        path = self.data_dir / f"spec-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(spec))
        return str(path)

    def graphql_spec(self, target: str, query: str, **extra: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": "graphql", "url": target, "query": query, **extra}
        spec.setdefault("token", self.customer_token)
        return spec

    def check_answer(self, url: str, query: str, *, signed: bool, expect_rows: int) -> None:
        """One request before measuring: the target must answer the query, not an error."""
        from shared import router_signature

        variables = {"t": "2100-01-01T00:00:00+00:00", "first": expect_rows}
        body: dict[str, Any] = {"query": query, "variables": variables}
        if signed:
            body["extensions"] = {
                router_signature.SIGNATURE_EXTENSION: router_signature.sign(
                    ROUTER_SECRET, query, variables
                )
            }
        headers = {"authorization": f"Bearer {self.customer_token}"}
        answer = httpx.post(url, json=body, headers=headers, timeout=30).json()
        edges = (answer.get("data") or {}).get("payments", {}).get("edges", [])
        if "errors" in answer or len(edges) != expect_rows:
            raise RuntimeError(f"{url} answered {json.dumps(answer)[:500]}")

    def pairs(
        self, a: dict[str, Any], b: dict[str, Any], watched: list[Watched]
    ) -> list[tuple[tuple[LoadResult, dict[str, float]], tuple[LoadResult, dict[str, float]]]]:
        runs = []
        for _ in range(self.plan.pairs):
            runs.append((self.load(a, watched), self.load(b, watched)))
        return runs

    def report(self, name: str, fields: dict[str, Any]) -> None:
        self.results[name] = fields
        print(bench_line(name, fields), flush=True)

    # -- the results ----------------------------------------------------------------------------

    def subgraph_vs_raw(self) -> None:
        port = free_port()
        env = {**self.env, "BENCH_RAW_USER_ID": str(self.customer_id)}
        raw_pid = self.uvicorn("bench.raw_app:create_app", port, env)
        raw_url = f"http://127.0.0.1:{port}/graphql"
        body = {"query": "", "variables": {"t": "2100-01-01T00:00:00+00:00"}}
        self.wait_until("raw handler", self.answers(raw_url, "POST", body), pid=raw_pid)
        payments = self.url("payments")
        self.check_answer(raw_url, LIST_QUERY, signed=False, expect_rows=20)
        self.check_answer(payments, LIST_QUERY, signed=True, expect_rows=20)
        watched = [
            Watched("raw", lambda: [raw_pid]),
            Watched("payments", lambda: [self.pid("payments")]),
            Watched("postgres", self.postgres_pids),
        ]
        variables = {"first": 20}
        runs = self.pairs(
            self.graphql_spec(raw_url, LIST_QUERY, variables=variables),
            self.graphql_spec(payments, LIST_QUERY, variables=variables, signSecret=ROUTER_SECRET),
            watched,
        )
        self.report(
            "subgraph_vs_raw",
            {
                "ratio": median_ratio([(a.rps, b.rps) for (a, _), (b, _) in runs]),
                "cpu_ms": median([cb["payments"] for _, (_, cb) in runs]),
                "raw_rps": median([a.rps for (a, _), _ in runs]),
                "subgraph_rps": median([b.rps for _, (b, _) in runs]),
                "raw_cpu_ms": median([ca["raw"] for (_, ca), _ in runs]),
                "pg_cpu_ms": median([cb["postgres"] for _, (_, cb) in runs]),
                "raw_pg_cpu_ms": median([ca["postgres"] for (_, ca), _ in runs]),
                "failed": sum(a.failed + b.failed for (a, _), (b, _) in runs),
            },
        )

    def router_overhead(self) -> None:
        payments, router = self.url("payments"), self.url("router")
        self.check_answer(router, LIST_QUERY, signed=False, expect_rows=20)
        watched = [
            Watched("payments", lambda: [self.pid("payments")]),
            Watched("router", lambda: tree(self.pid("router"))),
        ]
        variables = {"first": 20}
        runs = self.pairs(
            self.graphql_spec(payments, LIST_QUERY, variables=variables, signSecret=ROUTER_SECRET),
            self.graphql_spec(router, LIST_QUERY, variables=variables),
            watched,
        )
        self.report(
            "router_overhead",
            {
                "ratio": median_ratio([(a.rps, b.rps) for (a, _), (b, _) in runs]),
                "router_cpu_ms": median([cb["router"] for _, (_, cb) in runs]),
                "direct_rps": median([a.rps for (a, _), _ in runs]),
                "router_rps": median([b.rps for _, (b, _) in runs]),
                "failed": sum(a.failed + b.failed for (a, _), (b, _) in runs),
            },
        )

    def router_vs_apollo(self) -> None:
        if not (BENCH_DIR / "node_modules" / "@apollo" / "gateway").exists():
            self.report("router_vs_apollo", {"skipped": "apollo-gateway-not-installed"})
            return
        port = free_port()
        env = {
            **self.env,
            "PORT": str(port),
            "SUPERGRAPH_PATH": str(REPO_ROOT / "schema" / "supergraph.graphql"),
            "NODE_ENV": "production",
        }
        apollo_pid = self.spawn("apollo", [NODE, str(BENCH_DIR / "apollo.mjs")], env, BENCH_DIR)
        apollo = f"http://127.0.0.1:{port}/graphql"
        try:
            self.wait_until(
                "apollo gateway",
                self.answers(apollo, "POST", {"query": "{ __typename }"}),
                timeout=60,
                pid=apollo_pid,
            )
            self.check_answer(apollo, CROSS_QUERY, signed=False, expect_rows=20)
        except RuntimeError as exc:
            reason = re.sub(r"\W+", "-", str(exc))[:80]
            self.report("router_vs_apollo", {"skipped": reason})
            return
        router = self.url("router")
        self.check_answer(router, CROSS_QUERY, signed=False, expect_rows=20)
        watched = [
            Watched("router", lambda: tree(self.pid("router"))),
            Watched("apollo", lambda: tree(apollo_pid)),
        ]
        runs = self.pairs(
            self.graphql_spec(router, CROSS_QUERY), self.graphql_spec(apollo, CROSS_QUERY), watched
        )
        self.report(
            "router_vs_apollo",
            {
                "ratio": median_ratio([(a.rps, b.rps) for (a, _), (b, _) in runs]),
                "cpu_ratio": median_ratio(
                    [(cb["apollo"], ca["router"]) for (_, ca), (_, cb) in runs]
                ),
                "router_rps": median([a.rps for (a, _), _ in runs]),
                "apollo_rps": median([b.rps for _, (b, _) in runs]),
                "router_cpu_ms": median([ca["router"] for (_, ca), _ in runs]),
                "apollo_cpu_ms": median([cb["apollo"] for _, (_, cb) in runs]),
                "failed": sum(a.failed + b.failed for (a, _), (b, _) in runs),
            },
        )

    def webhook_ingest(self) -> None:
        count = self.plan.webhooks
        prefix = uuid.uuid4().hex[:8]

        async def seed() -> list[tuple[uuid.UUID, str | None]]:
            assert self.customer_id is not None
            conn = await self._connect()
            try:
                return await self._insert_payments(
                    conn, self.customer_id, count, status="PROCESSING", orders=True,
                    start=datetime(2025, 1, 1, tzinfo=UTC),
                )  # fmt: skip
            finally:
                await conn.close()

        rows = asyncio.run(seed())
        orders = [{"orderId": order, "amount": 10_000 + i} for i, (_, order) in enumerate(rows)]
        spec = {
            "kind": "webhook",
            "url": self.url("webhooks", "/webhooks/razorpay"),
            "webhookSecret": self.env["RAZORPAY_WEBHOOK_SECRET"],
            "orders": orders,
            "prefix": prefix,
            "amount": count,
            "connections": self.plan.webhook_connections,
        }
        watched = [Watched("webhooks", lambda: [self.pid("webhooks")])]
        result, cpu = self.load(spec, watched)

        async def stored_and_applied(deadline: float) -> tuple[int, int]:
            conn = await self._connect()
            try:
                while True:
                    stored, applied = await conn.fetchrow(
                        "SELECT count(*), count(applied_at) FROM payments.webhook_events "
                        "WHERE event_id LIKE $1",
                        f"evt_{prefix}%",
                    )
                    if applied >= stored or time.monotonic() > deadline:
                        return int(stored), int(applied)
                    await asyncio.sleep(0.2)
            finally:
                await conn.close()

        started = time.monotonic()
        stored, applied = asyncio.run(stored_and_applied(started + (10 if self.plan.quick else 60)))
        self.report(
            "webhook_ingest",
            {
                "rate": result.rps,
                "p99_ms": result.p99_ms,
                "lost": max(0, result.requests - stored),
                "sent": count,
                "answered_2xx": result.requests,
                "failed": result.failed,
                "applied": applied,
                "apply_lag_s": time.monotonic() - started,
                "cpu_ms": cpu["webhooks"],
            },
        )

    def subscription_fanout(self) -> None:
        count = self.plan.subscribers
        # A second payments process and a second router over it: subscribers are spread over both.
        payments2 = free_port()
        pid = self.uvicorn("subgraphs.payments.app:create_app", payments2, self.env)
        self.wait_until(
            "payments #2", self.answers(f"http://127.0.0.1:{payments2}/readyz"), pid=pid
        )
        router2 = free_port()
        pid = self.router(
            "router-2", router2, {"PAYMENTS_SUBGRAPH_URL": f"http://127.0.0.1:{payments2}/graphql"}
        )
        self.wait_until("router #2", self.answers(f"http://127.0.0.1:{router2}/readiness"), pid=pid)

        async def seed() -> list[uuid.UUID]:
            assert self.customer_id is not None
            conn = await self._connect()
            try:
                rows = await self._insert_payments(
                    conn, self.customer_id, count, status="PENDING",
                    start=datetime(2024, 1, 1, tzinfo=UTC),
                )  # fmt: skip
            finally:
                await conn.close()
            return [payment_id for payment_id, _ in rows]

        ids = asyncio.run(seed())
        spec = {
            "urls": [
                f"ws://127.0.0.1:{self.stack.ports['router']}/graphql",  # type: ignore[union-attr]
                f"ws://127.0.0.1:{router2}/graphql",
            ],
            "token": self.customer_token,
            "paymentIds": [str(i) for i in ids],
            "perConnection": 10,
            "timeoutSeconds": 30,
        }
        node = subprocess.Popen(  # noqa: S603 - fixed command
            [NODE, str(BENCH_DIR / "subscribe.mjs"), self.spec_file(spec)],
            cwd=BENCH_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert node.stdout is not None
            if node.stdout.readline().strip() != "READY":
                raise RuntimeError("subscribers did not start")
            client = redis.Redis.from_url(self.env["REDIS_URL"], decode_responses=True)
            channels = [payment_channel(i) for i in ids]

            def subscribed() -> int:
                return sum(1 for _, n in client.pubsub_numsub(*channels) if n > 0)

            # Every channel subscribed (or, past the deadline, as many as made it: reported).
            deadline = time.monotonic() + (30 if self.plan.quick else 120)
            while subscribed() < count and time.monotonic() < deadline and node.poll() is None:
                time.sleep(0.2)
            ready = subscribed()

            async def change() -> None:
                conn = await self._connect()
                try:
                    await conn.execute(
                        "UPDATE payments.payments SET status = 'PROCESSING', "
                        "updated_at = now(), version = version + 1 WHERE id = ANY($1::uuid[])",
                        ids,
                    )
                finally:
                    await conn.close()

            asyncio.run(change())
            # What the outbox relay publishes after a status change commits (live/relay.py).
            published: dict[str, float] = {}
            for payment_id in ids:
                published[str(payment_id)] = time.time() * 1000
                client.publish(
                    payment_channel(payment_id),
                    encode_update(
                        event_id=uuid.uuid4(),
                        payment_id=payment_id,
                        type="payments:payment:updated",
                    ),
                )
            output, _ = node.communicate("published\n", timeout=120)
            client.close()
        finally:
            if node.poll() is None:
                node.kill()
                node.wait()
        report = json.loads(output.strip().splitlines()[-1])
        latencies = [t - published[pid] for pid, t in report["received"].items()]
        self.report(
            "subscription_fanout",
            {
                "subscribers": count,
                "subscribed": ready,
                "p95_ms": percentile(latencies, 95) if latencies else float("inf"),
                "p50_ms": percentile(latencies, 50) if latencies else float("inf"),
                "delivered": len(latencies),
                "errors": report["errorCount"],
            },
        )
        if report["errors"]:
            print(f"bench: subscription errors (first ones): {report['errors'][:3]}", flush=True)
        self.results["subscription_fanout"]["error_samples"] = report["errors"][:5]

    def list_scaling(self) -> None:
        payments = self.url("payments")
        watched = [Watched("payments", lambda: [self.pid("payments")])]
        cpu: dict[int, float] = {}
        for size in (1, 20, 100):
            self.check_answer(payments, LIST_QUERY, signed=True, expect_rows=size)
            spec = self.graphql_spec(
                payments, LIST_QUERY, variables={"first": size}, signSecret=ROUTER_SECRET,
                duration=max(2.0, self.plan.seconds / 2),
            )  # fmt: skip
            cpu[size] = self.load(spec, watched)[1]["payments"]
        statements = {n: self.count_statements(n) for n in (1, 50)}
        self.report(
            "list_scaling",
            {
                "ms_per_row": (cpu[100] - cpu[1]) / 99,
                "cpu_ms_1": cpu[1],
                "cpu_ms_20": cpu[20],
                "cpu_ms_100": cpu[100],
                "statements_1_user": statements[1],
                "statements_50_users": statements[50],
                "equal": statements[1] == statements[50],
            },
        )

    # -- statement counting (PostgreSQL's statement log) ---------------------------------------

    async def _seed_users(self, count: int) -> None:
        conn = await self._connect()
        try:
            now = datetime.now(UTC)
            for i in range(count):
                user_id = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO auth.users (id, email, name, role, password_hash, "
                    "email_verified, created_at, updated_at, failed_login_count) "
                    "VALUES ($1, $2, $3, 'CUSTOMER', 'x', true, $4, $4, 0)",
                    user_id, f"bench-{i}-{user_id.hex[:6]}@example.com", f"Bench {i}",
                    now - timedelta(seconds=i),
                )  # fmt: skip
                await self._insert_payments(conn, user_id, 3)
        finally:
            await conn.close()

    @contextmanager
    def statement_log(self) -> Iterator[Path]:
        log = self.data_dir / "pg" / "log"
        conn_env = self.env["DATABASE_URL"]

        async def configure(enable: bool) -> None:
            conn = await asyncpg.connect(conn_env)
            try:
                if enable:
                    await conn.execute("ALTER SYSTEM SET log_statement = 'all'")
                    await conn.execute("ALTER SYSTEM SET log_line_prefix = '@@%a|'")
                else:
                    await conn.execute("ALTER SYSTEM RESET log_statement")
                    await conn.execute("ALTER SYSTEM RESET log_line_prefix")
                await conn.execute("SELECT pg_reload_conf()")
            finally:
                await conn.close()

        asyncio.run(configure(True))
        time.sleep(0.5)  # the postmaster signals every backend to reload; no way to wait for it
        try:
            yield log
        finally:
            asyncio.run(configure(False))

    def count_statements(self, users: int) -> int:
        if users > 1 and not getattr(self, "_users_seeded", False):
            asyncio.run(self._seed_users(50))
            self._users_seeded = True
        body = {"query": USERS_QUERY, "variables": {"n": users}}
        headers = {"authorization": f"Bearer {self.admin_token}"}
        counts = []
        with self.statement_log() as log:
            for _ in range(3):
                offset = log.stat().st_size
                answer = httpx.post(self.url("router"), json=body, headers=headers, timeout=30)
                data = answer.json()
                edges = ((data.get("data") or {}).get("users") or {}).get("edges", [])
                if "errors" in data or len(edges) != users:
                    raise RuntimeError(f"users query: {json.dumps(data)[:500]}")
                time.sleep(0.3)  # the log is written by the backends, asynchronously
                with log.open("rb") as f:
                    f.seek(offset)
                    text = f.read().decode(errors="replace")
                counts.append(count_statements(text, APPS))
                # What was counted, to read when the counts differ.
                dump = self.data_dir / "logs" / f"statements-{users}-user.log"
                with dump.open("a") as f:
                    f.write(f"--- try, {counts[-1]} counted\n{text}\n")
        return min(counts)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "node": subprocess.run(  # noqa: S603 - fixed command
            [NODE, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "load_average": os.getloadavg(),
    }


STEPS = ("subgraph_vs_raw", "router_overhead", "router_vs_apollo", "webhook_ingest",
         "subscription_fanout", "list_scaling")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the payments BFF (make bench).")
    parser.add_argument("--quick", action="store_true", help="a few seconds per target (CI)")
    parser.add_argument("--only", nargs="*", choices=STEPS, help="run only these results")
    parser.add_argument(
        "--output",
        type=Path,
        help="default: bench/results.json (committed); build/bench-quick.json in quick mode",
    )
    args = parser.parse_args(argv)
    if not (BENCH_DIR / "node_modules" / "autocannon").exists():
        print("bench: the load generators are not installed: run `make bench`", file=sys.stderr)
        return 2
    plan = Plan.make(args.quick or os.environ.get("BENCH_QUICK") not in (None, "", "0"))
    if args.output is None:  # a smoke run must not overwrite the committed full results
        args.output = (
            REPO_ROOT / "build" / "bench-quick.json" if plan.quick else BENCH_DIR / "results.json"
        )
        args.output.parent.mkdir(parents=True, exist_ok=True)
    bench = Bench(plan, REPO_ROOT / ".data" / "bench")
    started = time.monotonic()
    failures: dict[str, str] = {}
    try:
        bench.start()
        for step in args.only or STEPS:
            try:
                getattr(bench, step)()
            except Exception as exc:  # one result failing does not hide the others
                failures[step] = str(exc)[:300]
                print(bench_line(step, {"error": re.sub(r"\s+", "_", str(exc))[:200]}), flush=True)
    finally:
        bench.stop()
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": plan.quick,
        "plan": dict(plan.__dict__),
        "machine": machine(),
        "seconds": round(time.monotonic() - started, 1),
        "results": bench.results,
        "errors": failures,
    }
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"bench: wrote {args.output} in {document['seconds']}s", flush=True)
    return 1 if failures else 0
