"""Issue 8, router and transport findings, through the real router (and, where the finding is
about a subgraph's door, the real subgraph processes): metrics on their own port with bounded
labels, CSRF-safe request shapes, variables the signature scheme cannot carry, no internals or
suggestions in errors, operation size limits, the per-caller rate limit, subscription limits,
single-use WebSocket credentials, and a down subgraph answered with SERVICE_UNAVAILABLE."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from devtools.devstack import DevStack, free_port
from shared import router_signature
from shared.redis import create_redis
from subgraphs.payments.live.slots import slots_key
from tests.e2e.conftest import Client, router_secret
from tests.e2e.routers import RouterProcess, router_process

PROTOCOL = websockets.Subprotocol("graphql-transport-ws")
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { user { id email } } }"
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"
SUBSCRIPTION = "subscription($id: ID!) { paymentUpdated(id: $id) { id status } }"
PRODUCTION_SECRET = "a-production-router-secret-of-40-characters!"


def codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


def fresh_email() -> str:
    return f"hardening-{uuid.uuid4().hex[:12]}@example.com"


def register_body(email: str) -> dict[str, Any]:
    return {
        "query": REGISTER,
        "variables": {"i": {"email": email, "password": "Strong-Pass-1234", "name": "CSRF"}},
    }


async def assert_not_registered(client: Client, email: str) -> None:
    """The refused request executed nothing: the address is still free."""
    result = await client.gql(REGISTER, register_body(email)["variables"])
    assert "errors" not in result, result
    assert result["data"]["register"]["user"]["email"] == email


@pytest.fixture(scope="module")
def production_router(stack: DevStack) -> Iterator[RouterProcess]:
    """A router in production mode over the e2e subgraphs. Its secret differs from theirs (a
    production secret must be 32+ characters), so only what the router itself answers is tested
    through it."""
    with router_process(
        stack,
        "production",
        {
            "APP_ENV": "production",
            "ROUTER_HMAC_SECRET": PRODUCTION_SECRET,
            "CORS_ORIGINS": "",
            # What production does with documents sent as text (introspection, suggestions):
            # trusted-only mode, which refuses them all first, is tested in tests/browser.
            "ROUTER_TRUSTED_DOCUMENTS_ONLY": "false",
        },
    ) as router:
        yield router


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20.0) as client:
        yield client


# ----------------------------------------------------------------------------- 2. metrics


async def test_metrics_are_on_their_own_port_only(stack: DevStack, http: httpx.AsyncClient) -> None:
    assert (await http.get(stack.url("router", "/metrics"))).status_code == 404
    response = await http.get(stack.url("router_metrics", "/metrics"))
    assert response.status_code == 200
    assert "bff_graphql_operations_total" in response.text
    assert "bff_live_subscriptions" in response.text


async def test_random_query_strings_and_names_leave_the_metrics_flat(
    stack: DevStack, http: httpx.AsyncClient
) -> None:
    async def call(n: int) -> None:
        marker = uuid.uuid4().hex
        response = await http.post(
            stack.url("router", f"/graphql?cachebust={marker}&n={n}"),
            json={"query": f"query Q{marker} {{ __typename }}", "operationName": f"Q{marker}"},
            headers={"x-request-id": f"req-{marker}"},
        )
        assert response.status_code == 200, response.text

    async def batch(start: int, count: int) -> None:
        for first in range(start, start + count, 50):
            await asyncio.gather(*(call(n) for n in range(first, min(first + 50, start + count))))

    def series(text: str) -> set[str]:
        """Each sample's name and labels, less Node's runtime families (their label values are
        the runtime's own, e.g. a GC kind first seen under load)."""
        return {
            line.rsplit(" ", 1)[0]
            for line in text.splitlines()
            if line and not line.startswith(("#", "nodejs_", "process_"))
        }

    await batch(0, 100)  # every series these requests touch exists now
    before = (await http.get(stack.url("router_metrics", "/metrics"))).text
    await batch(100, 2_000)
    after = (await http.get(stack.url("router_metrics", "/metrics"))).text
    # Counters grow; no new series per URL, query string or operation name.
    new = series(after) - series(before)
    assert len(new) < 10, sorted(new)
    assert "cachebust" not in after
    assert "req-" not in after
    assert f"127.0.0.1:{stack.ports['auth']}" not in after  # no subgraph URLs
    assert 'operation_name="other"' in after


# ----------------------------------------------------------------------------- 3. CSRF


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [
        ("application/x-www-form-urlencoded", "form"),
        ("text/plain", "json"),
        ("application/graphql", "query"),
    ],
)
async def test_simple_content_types_are_refused_and_execute_nothing(
    client: Client, content_type: str, encode: str
) -> None:
    email = fresh_email()
    body = register_body(email)
    mutation = REGISTER.replace("$i: RegisterInput!", "").replace(
        "input: $i",
        f'input: {{email: "{email}", password: "Strong-Pass-1234", name: "CSRF"}}',
    )
    content: str | bytes
    if encode == "form":
        content = httpx.QueryParams({"query": mutation.replace("mutation()", "mutation")}).__str__()
    elif encode == "json":
        content = json.dumps(body)
    else:
        content = mutation.replace("mutation()", "mutation")
    response = await client.http.post(
        client.stack.url("router"), content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 415, response.text
    assert codes(response.json()) == ["BAD_USER_INPUT"]
    await assert_not_registered(client, email)


async def test_a_mutation_over_get_is_refused_and_executes_nothing(client: Client) -> None:
    email = fresh_email()
    mutation = (
        f'mutation {{ register(input: {{email: "{email}", password: "Strong-Pass-1234", '
        f'name: "CSRF"}}) {{ user {{ id }} }} }}'
    )
    response = await client.http.get(client.stack.url("router"), params={"query": mutation})
    assert 400 <= response.status_code < 500, response.text
    await assert_not_registered(client, email)


async def test_multipart_without_a_csrf_header_is_refused(client: Client) -> None:
    email = fresh_email()
    response = await client.http.post(
        client.stack.url("router"),
        files={"operations": (None, json.dumps(register_body(email))), "map": (None, "{}")},
    )
    assert response.status_code == 400
    await assert_not_registered(client, email)


async def test_json_posts_still_work(client: Client) -> None:
    result = await client.gql("{ __typename }")
    assert result == {"data": {"__typename": "Query"}}


async def test_form_posts_are_refused_in_production_too(
    production_router: RouterProcess, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        production_router.url(),
        content="query=mutation%7BdeleteAvatar%7BavatarUrl%7D%7D",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert codes(response.json()) == ["BAD_USER_INPUT"]


# ----------------------------------------------------------------------------- 6. variables

PREFERENCES = "mutation($p: JSON!) { updatePreferences(preferences: $p) { preferences } }"


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "raw_preferences",
    [
        '{"a": ' * 1_000 + "1" + "}" * 1_000,  # RangeError in the router before
        '{"__proto__": {"theme": "dark"}}',  # FORBIDDEN "must come through the router" before
        str(2**64 + 1),  # the same, integers beyond 64 bits
        "100000000000000000000000",  # 1e+23: JavaScript re-serialises it differently
        '"\\ud800 lone surrogate"',
    ],
    ids=["nested-1000", "proto-key", "int-above-2^64", "1e23", "lone-surrogate"],
)
async def test_variables_the_router_cannot_carry_are_bad_user_input(
    client: Client, raw_preferences: str
) -> None:
    token = await client.login("customer@example.com")
    body = f'{{"query": {json.dumps(PREFERENCES)}, "variables": {{"p": {raw_preferences}}}}}'
    response = await client.http.post(
        client.stack.url("router"),
        content=body,
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    assert 200 <= response.status_code < 500, response.text
    result = response.json()
    assert codes(result) == ["BAD_USER_INPUT"], result
    assert "stack" not in response.text
    assert "RangeError" not in response.text


async def test_variables_within_bounds_still_reach_the_subgraph(client: Client) -> None:
    token = await client.login("customer@example.com")
    result = await client.gql(PREFERENCES, {"p": nested(3)}, token=token)
    # The subgraph judges the content (unknown keys are BAD_USER_INPUT there): what matters is
    # that it was reached with a valid signature, so not FORBIDDEN.
    assert "FORBIDDEN" not in codes(result), result


# ----------------------------------------------------------------------------- 7. error leaks


async def test_malformed_json_is_not_echoed(client: Client) -> None:
    marker = f"secret-{uuid.uuid4().hex}"
    response = await client.http.post(
        client.stack.url("router"),
        content=f'{{"query": "{{ me {{ id }} }}", "x": "{marker}" ',
        headers={"content-type": "application/json"},
    )
    # 200 for `accept: application/json` clients (GraphQL over HTTP), 400 otherwise.
    assert response.status_code in (200, 400)
    assert codes(response.json()) == ["BAD_USER_INPUT"]
    for leak in (marker, "originalError", "SyntaxError", "stack", "JSON at position"):
        assert leak not in response.text, response.text


async def test_production_gives_no_suggestions(
    production_router: RouterProcess, http: httpx.AsyncClient, client: Client
) -> None:
    token = await client.login("customer@example.com")
    enum_query = "query($s: [PaymentStatus!]) { payments(filter: {status: $s}) { totalCount } }"
    enum_result = (
        await http.post(
            production_router.url(),
            json={"query": enum_query, "variables": {"s": ["COMPLETE"]}},
            headers={"authorization": f"Bearer {token}"},
        )
    ).json()
    field_result = (
        await http.post(production_router.url(), json={"query": "{ mee { id } }"})
    ).json()
    for result in (enum_result, field_result):
        assert codes(result) == ["BAD_USER_INPUT"], result
        assert "Did you mean" not in json.dumps(result), result


async def test_development_keeps_suggestions(client: Client) -> None:
    result = await client.gql("{ mee { id } }")
    assert "Did you mean" in json.dumps(result)


# ----------------------------------------------------------------------------- 8. operation size


async def test_more_than_30_aliases_are_refused(client: Client) -> None:
    fields = " ".join(f"a{n}: __typename" for n in range(31))
    result = await client.gql(f"{{ {fields} }}")
    assert codes(result) == ["BAD_USER_INPUT"], result
    assert "data" not in result or result["data"] is None
    thirty = " ".join(f"a{n}: __typename" for n in range(30))
    assert "errors" not in await client.gql(f"{{ {thirty} }}")


async def test_aliases_inside_fragments_count(client: Client) -> None:
    inner = " ".join(f"b{n}: __typename" for n in range(16))
    query = f"{{ ...F x: __typename ...F }} fragment F on Query {{ {inner} }}"
    assert codes(await client.gql(query)) == ["BAD_USER_INPUT"]


async def test_more_than_10_mutation_fields_are_refused_and_execute_nothing(
    client: Client,
) -> None:
    emails = [fresh_email() for _ in range(11)]
    fields = " ".join(
        f'r{n}: register(input: {{email: "{email}", password: "Strong-Pass-1234", '
        f'name: "Many"}}) {{ user {{ id }} }}'
        for n, email in enumerate(emails)
    )
    result = await client.gql(f"mutation {{ {fields} }}")
    assert codes(result) == ["BAD_USER_INPUT"], result
    await assert_not_registered(client, emails[0])


# ----------------------------------------------------------------------------- 11. rate limit


async def test_requests_beyond_the_rate_limit_are_rate_limited(
    stack: DevStack, client: Client
) -> None:
    with router_process(stack, "ratelimit", {"API_RATE_LIMIT_PER_MINUTE": "5"}) as router:
        async with httpx.AsyncClient(timeout=20.0) as http:

            async def call(token: str | None = None) -> httpx.Response:
                headers = {"authorization": f"Bearer {token}"} if token else {}
                return await http.post(
                    router.url(), json={"query": "{ __typename }"}, headers=headers
                )

            for _ in range(5):
                assert (await call()).json() == {"data": {"__typename": "Query"}}
            refused = await call()
            assert refused.status_code == 429
            error = refused.json()["errors"][0]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert 1 <= error["extensions"]["retryAfter"] <= 60
            assert refused.headers["retry-after"] == str(error["extensions"]["retryAfter"])
            # Another caller (a user, keyed by its id) has a budget of its own.
            token = await client.login("vendor@example.com")
            assert (await call(token)).json() == {"data": {"__typename": "Query"}}


# ----------------------------------------------------------------------------- 1. subscriptions


async def open_ws(url: str, token: str) -> ClientConnection:
    ws = await websockets.connect(url, subprotocols=[PROTOCOL], open_timeout=5)
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert ack["type"] == "connection_ack", ack
    return ws


async def subscribe(ws: ClientConnection, op: str, payment_id: str) -> None:
    await ws.send(
        json.dumps(
            {
                "id": op,
                "type": "subscribe",
                "payload": {"query": SUBSCRIPTION, "variables": {"id": payment_id}},
            }
        )
    )


async def receive(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def expect_refused(ws: ClientConnection, op: str) -> None:
    message = await receive(ws)
    assert message["id"] == op, message
    if message["type"] == "next":
        assert codes(message["payload"]) == ["RATE_LIMITED"], message
        assert message["payload"]["errors"][0]["extensions"]["retryAfter"] >= 1
        message = await receive(ws)
    else:
        assert message["type"] == "error", message
        assert [e["extensions"]["code"] for e in message["payload"]] == ["RATE_LIMITED"]
        return
    assert message == {"id": op, "type": "complete"}, message


async def create_payment(client: Client, token: str) -> str:
    result = await client.gql(
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }",
        {"i": {"amount": "150.00", "currency": "INR", "description": "ws limits"}},
        token=token,
    )
    assert "errors" not in result, result
    payment_id: str = result["data"]["createPayment"]["id"]
    return payment_id


async def live_on_router(router: RouterProcess) -> int:
    """The router's `bff_live_subscriptions` gauge: subscriptions it has accepted and counted."""
    metrics = httpx.get(f"http://127.0.0.1:{router.metrics_port}/metrics").text
    for line in metrics.splitlines():
        if line.startswith('bff_live_subscriptions{service="router"} '):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


async def until(predicate: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.05)


async def test_subscriptions_beyond_the_limits_are_rate_limited_and_others_keep_working(
    stack: DevStack, client: Client
) -> None:
    # A user of the test's own: the subscription slots payments holds for it in Redis are ours.
    registered = await client.gql(
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }",
        {
            "i": {
                "email": f"ws-{uuid.uuid4().hex[:10]}@example.com",
                "password": "A-long-enough-passphrase-42",
                "name": "Wes Limits",
            }
        },
    )
    assert "errors" not in registered, registered
    token = registered["data"]["register"]["accessToken"]
    slots = slots_key(registered["data"]["register"]["user"]["id"])
    payment_id = await create_payment(client, token)
    redis = create_redis(stack.env["REDIS_URL"])
    overrides = {"WS_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2", "WS_MAX_SUBSCRIPTIONS_PER_USER": "3"}
    with router_process(stack, "wslimits", overrides) as router:

        async def live(count: int) -> None:
            async def counted() -> bool:
                return await live_on_router(router) == count

            await until(counted)

        first = await open_ws(router.ws_url, token)
        second = await open_ws(router.ws_url, token)
        try:
            for count, op in enumerate(("1", "2"), start=1):
                await subscribe(first, op, payment_id)
                await live(count)
            await subscribe(first, "3", payment_id)  # third on this connection
            await expect_refused(first, "3")
            await subscribe(second, "1", payment_id)  # the user's third: allowed
            await live(3)
            await subscribe(second, "2", payment_id)  # the user's fourth
            await expect_refused(second, "2")
            assert await live_on_router(router) == 3

            # The live ones keep working: a status change reaches all three, once each has read
            # the payment upstream (payments takes the user's slot right after that read).
            async def read_upstream() -> bool:
                return int(await redis.zcard(slots)) == 3

            await until(read_upstream)
            cancelled = await client.gql(
                "mutation($id: ID!) { cancelPayment(id: $id) { status } }",
                {"id": payment_id},
                token=token,
            )
            assert "errors" not in cancelled, cancelled
            seen = set()
            for ws, name in ((first, "first"), (first, "first"), (second, "second")):
                message = await receive(ws)
                assert message["type"] == "next", message
                assert message["payload"]["data"]["paymentUpdated"]["status"] == "CANCELLED"
                seen.add((name, message["id"]))
            assert seen == {("first", "1"), ("first", "2"), ("second", "1")}

            # Completing one frees its slot on the connection.
            await first.send(json.dumps({"id": "1", "type": "complete"}))
            await live(2)
            await subscribe(first, "4", payment_id)
            await live(3)
            await subscribe(first, "5", payment_id)
            await expect_refused(first, "5")
        finally:
            await first.close()
            await second.close()
            await redis.aclose()


# ----------------------------------------------------------------------------- 5. WS credential


async def ws_to_subgraph(stack: DevStack, service: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Opens a graphql-transport-ws connection to a subgraph as the router would; returns the
    answer to connection_init (or the close)."""
    url = f"ws://127.0.0.1:{stack.ports[service]}/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL], open_timeout=5) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        except ConnectionClosed as closed:
            return {"closed": closed.rcvd.code if closed.rcvd else None}
        return message


async def test_a_fresh_router_credential_is_accepted_once(stack: DevStack) -> None:
    credential = router_signature.ws_credential(router_secret(stack))
    payload = {"x-router-signature": credential}
    assert (await ws_to_subgraph(stack, "payments", payload))["type"] == "connection_ack"
    assert await ws_to_subgraph(stack, "payments", payload) == {"closed": 4403}  # replayed


async def test_a_stale_or_forged_router_credential_is_refused(stack: DevStack) -> None:
    stale = router_signature.ws_credential(router_secret(stack), now=time.time() - 120)
    future = router_signature.ws_credential(router_secret(stack), now=time.time() + 120)
    forged = router_signature.ws_credential("not-the-secret")
    old_constant = "qbOc5cS6Q2m7eCqvOZZ0YYk8xgGoZf7Ua0kq6oEPwvQ="  # the v1 shape
    for credential in (stale, future, forged, old_constant):
        answer = await ws_to_subgraph(stack, "payments", {"x-router-signature": credential})
        assert answer == {"closed": 4403}, (credential, answer)


@pytest.mark.parametrize("service", ["auth", "admin", "profile"])
async def test_websockets_are_refused_on_subgraphs_without_subscriptions(
    stack: DevStack, service: str
) -> None:
    url = f"ws://127.0.0.1:{stack.ports[service]}/graphql"
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(url, subprotocols=[PROTOCOL], open_timeout=5):
            pass
    assert refused.value.response.status_code == 403


async def test_subscriptions_through_the_router_still_work(client: Client) -> None:
    token = await client.login("customer@example.com")
    payment_id = await create_payment(client, token)
    ws = await open_ws(client.stack.url("router").replace("http://", "ws://"), token)
    try:
        await subscribe(ws, "1", payment_id)
        await asyncio.sleep(1.0)
        await client.gql(
            "mutation($id: ID!) { cancelPayment(id: $id) { status } }",
            {"id": payment_id},
            token=token,
        )
        message = await receive(ws)
        assert message["type"] == "next", message
        assert message["payload"]["data"]["paymentUpdated"]["status"] == "CANCELLED"
    finally:
        await ws.close()


# ----------------------------------------------------------------------------- 13. subgraph down


async def test_a_down_or_hanging_subgraph_is_service_unavailable_quickly(
    stack: DevStack, client: Client
) -> None:
    # admin: nothing listens on its port (a stopped process); profile: a socket that accepts and
    # never answers (a hung process).
    accepted: list[asyncio.StreamWriter] = []

    def never_answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    hung = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    hung_port = hung.sockets[0].getsockname()[1]
    overrides = {
        "ADMIN_SUBGRAPH_URL": f"http://127.0.0.1:{free_port()}/graphql",
        "PROFILE_SUBGRAPH_URL": f"http://127.0.0.1:{hung_port}/graphql",
        "ROUTER_UPSTREAM_TIMEOUT_MS": "1500",
    }
    admin = await client.login("admin@example.com")
    try:
        with router_process(stack, "down", overrides) as router:
            async with httpx.AsyncClient(timeout=20.0) as http:
                for query, service in (
                    ("{ systemConfig { key } }", "admin"),
                    ("{ myProfile { bio } }", "profile"),
                ):
                    started = time.monotonic()
                    response = await http.post(
                        router.url(),
                        json={"query": query},
                        headers={"authorization": f"Bearer {admin}"},
                    )
                    elapsed = time.monotonic() - started
                    assert elapsed < 5, (query, elapsed)
                    assert response.status_code == 503, response.text
                    result = response.json()
                    assert codes(result) == ["SERVICE_UNAVAILABLE"], result
                    assert result["errors"][0]["extensions"]["retryAfter"] >= 1
                    # docs/errors.md: which subgraph was down (stopped) or slow (hung)
                    assert result["errors"][0]["extensions"]["serviceName"] == service, result
                    assert response.headers["retry-after"].isdigit()
                    assert "127.0.0.1" not in response.text
                # The rest of the graph still answers.
                me = await http.post(
                    router.url(),
                    json={"query": "{ me { email } }"},
                    headers={"authorization": f"Bearer {admin}"},
                )
                assert me.json() == {"data": {"me": {"email": "admin@example.com"}}}
    finally:
        for writer in accepted:
            writer.close()
        hung.close()
        await hung.wait_closed()


# ------------------------------------------------------------------------- 14. subgraph not GraphQL

# What a subgraph URL answers when it does not lead to a GraphQL server (a misrouted path, a
# proxy's error page, a misconfigured service): (status, content type, body).
NOT_GRAPHQL_ANSWERS = {
    "404 json": (404, "application/json", b'{"detail":"Not Found"}'),
    "502 html": (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "200 empty object": (200, "application/json", b"{}"),
    "200 not json": (200, "text/plain", b"OK, not JSON at all"),
    "503 no body": (503, "text/plain", b""),
}


async def test_a_subgraph_answering_something_not_graphql_is_service_unavailable(
    stack: DevStack, client: Client
) -> None:
    """Nothing a client sends produces INTERNAL_SERVER_ERROR: a subgraph URL that answers a
    non-GraphQL response is a dependency fault, answered like a down subgraph."""
    answer: list[tuple[int, str, bytes]] = [NOT_GRAPHQL_ANSWERS["404 json"]]
    requests: list[bytes] = []

    async def not_graphql(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            requests.append(await reader.readexactly(length))
            status, content_type, body = answer[0]
            writer.write(
                f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(not_graphql, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    overrides = {"PROFILE_SUBGRAPH_URL": f"http://127.0.0.1:{port}/graphql"}
    token = await client.login("customer@example.com")
    headers = {"authorization": f"Bearer {token}"}
    # A query with a field of a healthy subgraph (auth: me.email) next to one of the broken one
    # (User.profile is nullable), a query of the broken one alone, and a mutation of it.
    partial = "{ me { email profile { bio } } }"
    alone = "{ myProfile { bio } }"
    mutation = 'mutation { updateProfile(input: {bio: "not reached"}) { bio } }'
    try:
        with router_process(stack, "notgraphql", overrides) as router:
            async with httpx.AsyncClient(timeout=20.0) as http:
                for case, reply in NOT_GRAPHQL_ANSWERS.items():
                    answer[0] = reply
                    for query in (partial, alone, mutation):
                        seen = len(requests)
                        response = await http.post(
                            router.url(), json={"query": query}, headers=headers
                        )
                        assert len(requests) > seen, (case, query)  # the subgraph was asked
                        result = response.json()
                        assert codes(result) == ["SERVICE_UNAVAILABLE"], (case, query, result)
                        error = result["errors"][0]
                        assert error["extensions"]["serviceName"] == "profile", (case, result)
                        assert error["extensions"]["retryAfter"] >= 1, (case, result)
                        assert "127.0.0.1" not in response.text, (case, response.text)
                        if reply[2]:
                            assert reply[2].decode() not in response.text, (case, response.text)
                        if query == partial:
                            # The healthy subgraph's field resolves, as with a down subgraph.
                            assert response.status_code == 200, (case, response.text)
                            assert result["data"] == {
                                "me": {"email": "customer@example.com", "profile": None}
                            }, (case, result)
                        else:
                            assert response.status_code == 503, (case, response.text)
                            assert response.headers["retry-after"].isdigit(), case
                            assert result.get("data") is None, (case, result)
            # Logged at error level with the subgraph's name and the HTTP status it answered.
            logged = [
                json.loads(line)
                for line in router.log_path.read_text(errors="replace").splitlines()
                if "not GraphQL" in line
            ]
            assert {(e["level"], e["serviceName"]) for e in logged} == {("error", "profile")}
            assert {e["status"] for e in logged} == {404, 502, 200, 503}, logged
            assert all(len(e["message"]) <= 121 for e in logged), logged
    finally:
        server.close()
        await server.wait_closed()
