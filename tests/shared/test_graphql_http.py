"""The lean HTTP path of `/graphql` (`shared.graphql_http`) answers exactly as Strawberry's view:
a corpus of requests sent to the payments app twice, once with the lean path and once without
(`SubgraphGraphQL.lean_http = False`), compared status, headers and body byte for byte (the
request id is sent, so its value is the same), and what escapes the app (ServerErrorMiddleware
answers 500 and re-raises) by type."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared import app as app_module
from shared import router_signature
from shared.app import SubgraphGraphQL
from shared.config import PaymentsSettings
from shared.scopes import Role
from shared.tokens import SigningKeys, generate_private_key_pem
from subgraphs.payments import queries
from subgraphs.payments.app import create_app
from subgraphs.payments.context import PaymentsDeps
from tests.conftest import Infra
from tests.helpers import ROUTER_SECRET, make_caller, verifier_factory
from tests.payments.factories import insert_payment

LIST = (
    "query($t: DateTime, $first: Int) { payments(first: $first, filter: {createdTo: $t}) "
    "{ edges { node { id amount currency status createdAt } } } }"
)
SEVERAL = "query A { __typename } query B { payments(first: 1) { edges { node { id } } } }"
CANCEL = "mutation($id: ID!) { cancelPayment(id: $id) { id status } }"
UPDATES = "subscription($id: ID!) { paymentUpdated(id: $id) { id } }"


@dataclass(frozen=True)
class Answer:
    status: int | None
    headers: list[tuple[bytes, bytes]]
    body: bytes
    raised: str | None


@dataclass
class Payments:
    app: Any
    view: SubgraphGraphQL
    token: str
    user_id: uuid.UUID
    settings: PaymentsSettings
    keys: SigningKeys


@pytest.fixture(scope="module")
async def payments(infra: Infra) -> AsyncIterator[Payments]:
    keys = SigningKeys(generate_private_key_pem())
    settings = PaymentsSettings(
        app_env="test",
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        router_hmac_secret=ROUTER_SECRET,
        log_json=False,
        log_level="WARNING",
    )
    app = create_app(
        settings, deps=PaymentsDeps.from_settings(settings, verifier_factory=verifier_factory(keys))
    )
    view = next(
        route.app
        for route in app.router.routes
        if isinstance(getattr(route, "app", None), SubgraphGraphQL)
    )
    caller = make_caller(keys, settings, Role.CUSTOMER)
    async with app.router.lifespan_context(app):
        yield Payments(app, view, caller.token, caller.id, settings, keys)


def signed(
    query: Any,
    variables: Any = None,
    *,
    operation_name: Any = None,
    sign: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if operation_name is not None:
        body["operationName"] = operation_name
    if sign:
        body["extensions"] = {
            router_signature.SIGNATURE_EXTENSION: router_signature.sign(
                ROUTER_SECRET, query, variables
            )
        }
    body.update(extra)
    return body


def encoded(body: object) -> bytes:
    return json.dumps(body).encode()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


JSON = "application/json"
LIST_VARIABLES = {"t": "2100-01-01T00:00:00+00:00", "first": 20}

CORPUS: dict[str, tuple[str, str, bytes]] = {
    # name: (method, content type, body)
    "list query": ("POST", JSON, encoded(signed(LIST, LIST_VARIABLES))),
    "query without variables": ("POST", JSON, encoded(signed("{ __typename }"))),
    "variables null": ("POST", JSON, encoded({**signed("{ __typename }"), "variables": None})),
    "mutation": ("POST", JSON, encoded(signed(CANCEL, {"id": str(uuid.uuid4())}))),
    "mutation, bad id": ("POST", JSON, encoded(signed(CANCEL, {"id": "nope"}))),
    "named operation among several": (
        "POST",
        JSON,
        encoded(signed(SEVERAL, operation_name="B")),
    ),
    "unknown operationName": ("POST", JSON, encoded(signed(SEVERAL, operation_name="C"))),
    "several operations, no name": ("POST", JSON, encoded(signed(SEVERAL))),
    "operationName not a string": ("POST", JSON, encoded(signed(SEVERAL, operation_name=7))),
    "subscription over POST": ("POST", JSON, encoded(signed(UPDATES, {"id": "x"}))),
    "syntax error": ("POST", JSON, encoded(signed("{ payments("))),
    "unknown field": ("POST", JSON, encoded(signed("{ nope }"))),
    "missing query": ("POST", JSON, encoded({"variables": {}})),
    "query null": ("POST", JSON, encoded({"query": None})),
    "query not a string": ("POST", JSON, encoded({"query": 12})),
    "variables a list": ("POST", JSON, encoded({"query": "{ __typename }", "variables": [1]})),
    "variables a string": ("POST", JSON, encoded({"query": "{ __typename }", "variables": "x"})),
    "extensions a list": ("POST", JSON, encoded({"query": "{ __typename }", "extensions": []})),
    "body a JSON list (batch)": ("POST", JSON, encoded([signed("{ __typename }")])),
    "body a JSON string": ("POST", JSON, encoded("{ __typename }")),
    "body not JSON": ("POST", JSON, b"{query: nope"),
    "body not UTF-8": ("POST", JSON, b'{"query": "\xff"}'),
    "empty body": ("POST", JSON, b""),
    "deeply nested variables": (
        "POST",
        JSON,
        b'{"query": "{ __typename }", "variables": {"v": ' + nested(1_000).encode() + b"}}",
    ),
    "variables nested past orjson's limit": (
        "POST",
        JSON,
        b'{"query": "{ __typename }", "variables": {"v": ' + nested(5_000).encode() + b"}}",
    ),
    "integer beyond 64 bits": (
        "POST",
        JSON,
        encoded(signed(LIST, {**LIST_VARIABLES, "first": 2**70}, sign=False)),
    ),
    "charset in content type": (
        "POST",
        "application/json; charset=utf-8",
        encoded(signed(LIST, LIST_VARIABLES)),
    ),
    "other spelling of the content type": (
        "POST",
        "Application/JSON",
        encoded(signed("{ __typename }")),
    ),
    "graphql-response+json content type": (
        "POST",
        "application/graphql-response+json",
        encoded(signed("{ __typename }")),
    ),
    "text/plain": ("POST", "text/plain", encoded(signed("{ __typename }"))),
    "unsigned": ("POST", JSON, encoded(signed(LIST, LIST_VARIABLES, sign=False))),
    "signed for other variables": (
        "POST",
        JSON,
        encoded({**signed(LIST, LIST_VARIABLES), "variables": {**LIST_VARIABLES, "first": 2}}),
    ),
    "GET": ("GET", "", b""),
}


async def call(
    payments: Payments,
    method: str,
    content_type: str,
    body: bytes,
    *,
    token: str | None,
    path_query: bytes = b"",
    chunks: int = 1,
    disconnect: bool = False,
) -> Answer:
    headers = [(b"host", b"subgraph"), (b"x-request-id", b"differential-1")]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": path_query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5555),
        "server": ("subgraph", 80),
        "state": {},
    }
    size = -(-len(body) // chunks) if body else 1
    messages = [
        {"type": "http.request", "body": body[i : i + size], "more_body": i + size < len(body)}
        for i in range(0, max(len(body), 1), size)
    ]
    if disconnect:
        messages = [*messages[:1], {"type": "http.disconnect"}]
    status: int | None = None
    sent_headers: list[tuple[bytes, bytes]] = []
    sent: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, sent_headers
        if message["type"] == "http.response.start":
            status = message["status"]
            sent_headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            sent.append(message.get("body", b""))

    raised = None
    try:
        await payments.app(scope, receive, send)
    except Exception as error:  # ServerErrorMiddleware re-raises after its 500
        raised = type(error).__name__
    return Answer(status, sent_headers, b"".join(sent), raised)


@pytest.fixture
def counted(payments: Payments, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts, per run, contexts built (`authenticate`) and requests given to the view."""
    counts = {"authenticate": 0, "view": 0}
    authenticate = app_module.authenticate
    run = payments.view.run

    async def counting_authenticate(*args: Any, **kwargs: Any) -> Any:
        counts["authenticate"] += 1
        return await authenticate(*args, **kwargs)

    async def counting_run(*args: Any, **kwargs: Any) -> Any:
        counts["view"] += 1
        return await run(*args, **kwargs)

    monkeypatch.setattr(app_module, "authenticate", counting_authenticate)
    monkeypatch.setattr(payments.view, "run", counting_run)
    yield counts
    payments.view.lean_http = True


async def both(
    payments: Payments, counts: dict[str, int], *args: Any, **kwargs: Any
) -> tuple[Answer, Answer, dict[str, int]]:
    """The answer of the lean path, Strawberry's view's, and the lean run's counts."""
    payments.view.lean_http = True
    counts.update(authenticate=0, view=0)
    lean = await call(payments, *args, **kwargs)
    lean_counts = dict(counts)
    payments.view.lean_http = False
    counts.update(authenticate=0, view=0)
    view = await call(payments, *args, **kwargs)
    assert counts == {"authenticate": 1, "view": 1}
    payments.view.lean_http = True
    return lean, view, lean_counts


LEAN_SHAPED = {
    "list query",
    "query without variables",
    "variables null",
    "mutation",
    "mutation, bad id",
    "named operation among several",
    "unknown operationName",
    "several operations, no name",
    "subscription over POST",
    "syntax error",
    "unknown field",
    "deeply nested variables",
    "integer beyond 64 bits",
    "charset in content type",
    "unsigned",
    "signed for other variables",
}


@pytest.mark.parametrize("name", list(CORPUS))
async def test_the_lean_path_answers_as_strawberrys_view(
    payments: Payments, counted: dict[str, int], name: str
) -> None:
    method, content_type, body = CORPUS[name]
    path_query = b"query=%7B__typename%7D" if method == "GET" else b""
    lean, view, lean_counts = await both(
        payments, counted, method, content_type, body, token=payments.token, path_query=path_query
    )
    assert lean == view
    assert view.status is not None
    # Each request builds one context; only shapes the lean path does not take reach the view.
    assert lean_counts == {"authenticate": 1, "view": 0 if name in LEAN_SHAPED else 1}


async def test_the_lean_path_serves_the_list_query(
    payments: Payments, counted: dict[str, int], committed: AsyncSession
) -> None:
    for amount in (1_000, 2_550, 99_999_999):
        await insert_payment(
            committed, created_by=payments.user_id, payer_id=payments.user_id, amount_minor=amount
        )
    lean, view, _ = await both(payments, counted, *CORPUS["list query"], token=payments.token)
    assert lean == view
    assert lean.status == 200
    assert lean.headers == [
        (b"content-length", str(len(lean.body)).encode()),
        (b"content-type", b"application/json"),
        (b"x-request-id", b"differential-1"),
    ]
    edges = json.loads(lean.body)["data"]["payments"]["edges"]
    assert sorted(edge["node"]["amount"] for edge in edges) == ["10.00", "25.50", "999999.99"]


async def test_a_body_in_several_messages_answers_as_strawberrys_view(
    payments: Payments, counted: dict[str, int]
) -> None:
    for name in ("list query", "body not JSON", "variables a list"):
        lean, view, _ = await both(payments, counted, *CORPUS[name], token=payments.token, chunks=5)
        assert lean == view
        whole, _, _ = await both(payments, counted, *CORPUS[name], token=payments.token)
        assert lean == whole


async def test_a_client_gone_before_the_whole_body_answers_as_strawberrys_view(
    payments: Payments, counted: dict[str, int]
) -> None:
    lean, view, _ = await both(
        payments, counted, *CORPUS["list query"], token=payments.token, chunks=3, disconnect=True
    )
    assert lean == view
    assert lean.raised == "ClientDisconnect"


@pytest.mark.parametrize(
    "token", [None, "not-a-token", "Bearer", "eyJhbGciOiJub25lIn0.e30."], ids=str
)
async def test_no_or_a_bad_token_answers_as_strawberrys_view(
    payments: Payments, counted: dict[str, int], token: str | None
) -> None:
    lean, view, lean_counts = await both(payments, counted, *CORPUS["list query"], token=token)
    assert lean == view
    assert b"UNAUTHENTICATED" in lean.body or b"FORBIDDEN" in lean.body
    assert lean_counts["view"] == 0


async def test_a_revoked_or_expired_token_answers_as_strawberrys_view(
    payments: Payments, counted: dict[str, int]
) -> None:
    expired, _ = payments.keys.issue(
        user_id=str(uuid.uuid4()),
        email="expired@example.com",
        role=Role.CUSTOMER.value,
        scopes=frozenset(),
        issuer=payments.settings.jwt_issuer,
        audience=payments.settings.jwt_audience,
        ttl_seconds=-60,
        session_id=uuid.uuid4().hex,
    )
    lean, view, _ = await both(payments, counted, *CORPUS["list query"], token=expired)
    assert lean == view
    assert lean.status == 200


async def test_a_resolver_raising_is_masked_alike(
    payments: Payments, counted: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: Any) -> Any:
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(queries.service, "list_payments", broken)
    lean, view, lean_counts = await both(
        payments, counted, *CORPUS["list query"], token=payments.token
    )
    assert lean == view
    assert lean.status == 200
    assert b"secret detail" not in lean.body
    assert b"RuntimeError" not in lean.body
    assert lean_counts["view"] == 0


async def test_an_exception_outside_execution_is_a_500_alike(
    payments: Payments, counted: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any, **__: Any) -> Any:
        counted["authenticate"] += 1
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(app_module, "authenticate", broken)
    lean, view, _ = await both(payments, counted, *CORPUS["list query"], token=payments.token)
    assert lean == view
    assert lean.status == 500
    assert lean.raised == "RuntimeError"
    assert b"secret detail" not in lean.body
    assert b"RuntimeError" not in lean.body


async def test_an_exception_inside_schema_execute_is_a_500_alike(
    payments: Payments, counted: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("secret detail of the failure")

    monkeypatch.setattr(payments.view.schema, "execute", broken)
    lean, view, _ = await both(payments, counted, *CORPUS["list query"], token=payments.token)
    assert lean == view
    assert lean.status == 500
    assert b"secret detail" not in lean.body


def test_an_override_of_a_reproduced_hook_turns_the_lean_path_off(payments: Payments) -> None:
    from shared.graphql_http import lean_json_post_ready

    class Custom(SubgraphGraphQL):
        async def process_result(self, request: Any, result: Any) -> Any:
            return await super().process_result(request, result)

    class OwnContext(SubgraphGraphQL):  # the lean path builds it with `request_context`
        async def get_context(self, request: Any, response: Any) -> Any:
            return await super().get_context(request, response)

    class OwnJson(SubgraphGraphQL):  # the lean path encodes with `json_bytes`
        def encode_json(self, data: object) -> str:
            return super().encode_json(data)

    assert lean_json_post_ready(payments.view)
    for custom in (Custom, OwnContext, OwnJson):
        assert not lean_json_post_ready(custom(payments.view.schema)), custom
