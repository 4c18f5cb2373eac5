"""Test stacks are their own (devtools.devstack, docs/development.md#ports): two stacks started at
once never share a port and each answers only its own clients; a port another process takes
between its choice and its bind is noticed and the stack comes up elsewhere; the logs of a stack
that failed are kept (secrets redacted) and the failure says where."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from devtools.devstack import DEFAULT_PORTS, DevStack, listener_state, listening_socket
from shared import router_signature
from tests.conftest import Infra
from tests.e2e import conftest as e2e
from tests.e2e.conftest import SEED_PASSWORD, own_database, report_stack_logs, start_stack

LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"
ME = "{ me { email } }"
CREATE = "mutation($i: CreatePaymentInput!) { createPayment(input: $i) { status } }"


def gql(url: str, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
    token = kw.pop("token", None)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = {"query": query, **({"variables": variables} if variables else {})}
    body.update(kw)
    return httpx.post(url, json=body, headers=headers, timeout=30).json()


def login(stack: DevStack, email: str = "customer@example.com") -> str:
    answer = gql(stack.url("router"), LOGIN, {"i": {"email": email, "password": SEED_PASSWORD}})
    assert "errors" not in answer, answer
    token: str = answer["data"]["login"]["accessToken"]
    return token


def codes(answer: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in answer.get("errors") or []]


def assert_owns_its_ports(stack: DevStack) -> None:
    for process in stack.processes:
        assert process.popen.poll() is None, process.name
        for port in process.ports:
            assert listener_state(process.popen.pid, port) == "ours", (process.name, port)


@contextmanager
def stacks_at_once(infra: Infra, names: list[str]) -> Iterator[list[DevStack]]:
    with ExitStack() as cleanup:
        urls = [cleanup.enter_context(own_database(infra.database_url)) for _ in names]
        # Each holds its ports while the other prepares; their processes start at the same time.
        # The threads live until the stacks are stopped: a process started with
        # PR_SET_PDEATHSIG (devstack) gets SIGTERM when the thread that started it ends.
        together = threading.Barrier(len(names), timeout=300)
        pool = ThreadPoolExecutor(len(names))
        cleanup.callback(pool.shutdown)
        futures = [
            pool.submit(start_stack, infra, url, name=name, before_start=lambda _: together.wait())
            for url, name in zip(urls, names, strict=True)
        ]
        wait(futures)
        started = []
        for future in futures:  # every one is stopped, whichever failed
            if future.exception() is None:
                stack = future.result()
                cleanup.callback(stack.stop)
                started.append(stack)
        for future in futures:
            future.result()  # raises the first failure
        yield started


def test_two_stacks_started_at_once_answer_only_their_own_clients(infra: Infra) -> None:
    with stacks_at_once(infra, ["twin-a", "twin-b"]) as (a, b):
        used = [{port for p in stack.processes for port in p.ports} for stack in (a, b)]
        assert len(used[0]) == len(used[1]) == 8  # six processes, the router's two ports
        assert not used[0] & used[1]
        assert a.env["ROUTER_HMAC_SECRET"] != b.env["ROUTER_HMAC_SECRET"]
        for stack in (a, b):
            assert_owns_its_ports(stack)

        token_a, token_b = login(a), login(b)
        assert gql(a.url("router"), ME, token=token_a)["data"]["me"]["email"]
        assert gql(b.url("router"), ME, token=token_b)["data"]["me"]["email"]
        # A client of one stack is nobody to the other (its own signing key).
        assert codes(gql(b.url("router"), ME, token=token_a)) == ["UNAUTHENTICATED"]
        # A request signed for one stack's subgraphs is refused by the other's (secret per stack).
        variables = {"i": {"amount": "12.00"}}
        signed_for_a = router_signature.sign(a.env["ROUTER_HMAC_SECRET"], CREATE, variables)
        extensions = {router_signature.SIGNATURE_EXTENSION: signed_for_a}
        answer = gql(b.url("payments"), CREATE, variables, token=token_b, extensions=extensions)
        assert codes(answer) == ["FORBIDDEN"]
        # A bad amount is the contract's BAD_USER_INPUT through each stack's own router.
        for stack, token in ((a, token_a), (b, token_b)):
            answer = gql(stack.url("router"), CREATE, {"i": {"amount": "1.234"}}, token=token)
            assert codes(answer) == ["BAD_USER_INPUT"], answer


class Impostor:
    """Another process's server on a port: answers 200 to anything (a router's /readiness
    included), counting the requests."""

    def __init__(self, port: int) -> None:
        self.requests: list[str] = []
        impostor = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                impostor.requests.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_port_taken_between_choice_and_bind_is_survived(infra: Infra) -> None:
    # The router binds its own ports: another process takes both between the stack's choice and
    # the router's start, and answers there as a router would.
    impostors: list[Impostor] = []

    def take_the_routers_ports(stack: DevStack) -> None:
        impostors.extend(Impostor(stack.ports[name]) for name in ("router", "router_metrics"))

    try:
        with own_database(infra.database_url) as database_url:
            stack = start_stack(
                infra, database_url, name="taken", before_start=take_the_routers_ports
            )
            try:
                taken = {impostor.port for impostor in impostors}
                assert len(taken) == 2
                assert stack.ports["router"] not in taken
                assert stack.ports["router_metrics"] not in taken
                assert_owns_its_ports(stack)
                assert gql(stack.url("router"), ME, token=login(stack))["data"]["me"]
                # The impostors answered no client of the stack.
                assert not [r for i in impostors for r in i.requests if r.startswith("POST")]
            finally:
                stack.stop()
    finally:
        for impostor in impostors:
            impostor.close()


def test_a_python_process_port_is_held_from_its_choice(infra: Infra, tmp_path: Path) -> None:
    stack = DevStack(
        app_env="test",
        data_dir=tmp_path,
        ports=dict.fromkeys(DEFAULT_PORTS, 0),
        base_env={},
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        seed=False,
    )
    try:
        stack.prepare()
        assert stack.ports["payments"] != 0
        with pytest.raises(OSError, match="in use"):
            listening_socket(stack.ports["payments"])
    finally:
        stack.stop()


def test_a_stack_that_does_not_start_keeps_its_logs_without_secrets(
    infra: Infra, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(e2e, "ARTIFACTS", tmp_path)
    secret = secrets.token_urlsafe(32)
    # Every Python process refuses this setting, and echoes the value it refused.
    broken = {"ROUTER_HMAC_SECRET": secret, "DB_POOL_SIZE": secret}
    with own_database(infra.database_url) as database_url, pytest.raises(RuntimeError) as failed:
        start_stack(infra, database_url, name="broken", env=broken)
    folder = tmp_path / "stack-logs" / "broken"
    assert str(folder) in str(failed.value)
    logs = {path.name: path.read_text() for path in folder.glob("*.log")}
    assert "payments.log" in logs, sorted(logs)
    assert any("[redacted ROUTER_HMAC_SECRET]" in text for text in logs.values())
    assert not [name for name, text in logs.items() if secret in text]


def test_a_failed_test_keeps_its_stacks_logs_and_says_where(
    stack: DevStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(e2e, "ARTIFACTS", tmp_path)
    item = SimpleNamespace(funcargs={"stack": stack, "client": SimpleNamespace(stack=stack)})

    def report(outcome: str) -> pytest.TestReport:
        return pytest.TestReport("t", ("t", 0, "t"), {}, outcome, None, "call")

    passed = report("passed")
    report_stack_logs(item, passed)
    assert passed.sections == []
    assert not (tmp_path / "stack-logs").exists()

    failed = report("failed")
    report_stack_logs(item, failed)
    folder = tmp_path / "stack-logs" / "e2e"
    assert failed.sections == [("stack logs", f"the e2e stack's process logs are kept in {folder}")]
    kept = {path.name: path.read_text() for path in folder.glob("*.log")}
    assert {"router.log", "auth.log", "payments.log", "webhooks.log"} <= set(kept)
    hidden = [stack.env["ROUTER_HMAC_SECRET"], stack.env["RAZORPAY_KEY_SECRET"], SEED_PASSWORD]
    assert not [name for name, text in kept.items() for value in hidden if value in text]
