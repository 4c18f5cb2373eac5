"""Trusted documents through the real router: the MFE's manifest (built by codegen) is what a
router in production mode runs, by sha256 hash, over HTTP and WebSocket; any other document is
refused before it reaches a subgraph. A router refuses to start when trusted-only mode has no
manifest or a manifest whose hash does not match its document."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from devtools.devstack import DevStack
from devtools.mfe_server import MFE_DIR
from tests.browser.conftest import SEED_PASSWORD
from tests.e2e.conftest import Client
from tests.e2e.routers import RouterProcess, router_process
from tests.e2e.test_payments_flow import subscribed_upstream

MANIFEST = MFE_DIR / "src" / "gql" / "persisted-documents.json"


def manifest() -> dict[str, str]:
    loaded: dict[str, str] = json.loads(MANIFEST.read_text())
    return loaded


def document_hash(operation: str) -> str:
    """The manifest key of the MFE's operation `operation` (e.g. "Login")."""
    pattern = re.compile(rf"\b(query|mutation|subscription) {operation}\b")
    [key] = [key for key, document in manifest().items() if pattern.search(document)]
    return key


def persisted(operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    """A request as the MFE's urql client sends it: the hash, no document."""
    return {
        "operationName": operation,
        "variables": variables,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_hash(operation)}},
    }


@pytest.fixture(scope="module")
def production_router(browser_stack: DevStack) -> Iterator[RouterProcess]:
    """A router in production mode (ROUTER_TRUSTED_DOCUMENTS_ONLY left at its default) over the
    browser stack's subgraphs, with the default manifest (the example MFE's)."""
    with router_process(
        browser_stack, "production-trusted", {"APP_ENV": "production", "CORS_ORIGINS": ""}
    ) as router:
        yield router


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20.0) as client:
        yield client


async def post(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> httpx.Response:
    return await http.post(url, json=body)


async def login(http: httpx.AsyncClient, router: RouterProcess, email: str) -> str:
    response = await post(
        http,
        router.url(),
        persisted("Login", {"input": {"email": email, "password": SEED_PASSWORD}}),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    token: str = body["data"]["login"]["accessToken"]
    return token


def test_the_manifest_maps_each_hash_to_its_document() -> None:
    documents = manifest()
    assert documents, "the MFE's manifest is empty"
    for key, document in documents.items():
        assert key == "sha256:" + hashlib.sha256(document.encode()).hexdigest()
    names = {re.search(r"(?:query|mutation|subscription) (\w+)", d)[1] for d in documents.values()}  # type: ignore[index]
    assert {"Login", "LoginWithTotp", "RefreshToken", "Logout", "CreatePayment"} <= names
    assert {"StartCheckout", "VerifyPayment", "PaymentUpdated"} <= names


async def test_production_serves_a_trusted_document_by_hash(
    production_router: RouterProcess, http: httpx.AsyncClient
) -> None:
    token = await login(http, production_router, "customer@example.com")
    response = await http.post(
        production_router.url(),
        json=persisted("CreatePayment", {"input": {"amount": "120.00", "currency": "INR"}}),
        headers={"authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["createPayment"]["status"] == "PENDING"
    assert body["data"]["createPayment"]["amount"] == "120.00"


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ __typename }"},
        # The trusted document's own text is refused too: only its hash is accepted.
        {"query": next(d for d in manifest().values() if "mutation Login(" in d)},
        # A document and a hash together.
        {"query": "{ __typename }", **persisted("Logout", {"refreshToken": "x"})},
    ],
    ids=["arbitrary", "manifest-text", "text-and-hash"],
)
async def test_production_refuses_a_document_sent_as_text(
    production_router: RouterProcess, http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await post(http, production_router.url(), body)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("Only trusted documents are accepted")


async def test_production_refuses_an_unknown_hash(
    production_router: RouterProcess, http: httpx.AsyncClient
) -> None:
    unknown = hashlib.sha256(b"mutation Evil { deleteUser(id: 1) }").hexdigest()
    response = await post(
        http,
        production_router.url(),
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": unknown}}},
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert (error["message"], error["extensions"]["code"]) == (
        "PersistedQueryNotFound",
        "BAD_USER_INPUT",
    )
    # Nor by the GraphQL-over-HTTP `documentId` form.
    by_id = await post(http, production_router.url(), {"documentId": f"sha256:{unknown}"})
    assert by_id.json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_production_refuses_a_mutation_sent_as_text_and_runs_nothing(
    production_router: RouterProcess, http: httpx.AsyncClient, client: Client
) -> None:
    email = f"untrusted-{uuid.uuid4().hex[:8]}@example.com"
    register = "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }"
    variables = {"i": {"email": email, "password": "Strong-Pass-1234", "name": "U"}}
    refused = await post(http, production_router.url(), {"query": register, "variables": variables})
    assert refused.status_code == 400
    # The address is still free: the development router (arbitrary documents allowed) can
    # register it.
    allowed = await client.gql(register, variables)
    assert "errors" not in allowed, allowed


async def test_production_subscribes_by_hash_over_websocket(
    production_router: RouterProcess, http: httpx.AsyncClient, client: Client
) -> None:
    token = await login(http, production_router, "customer@example.com")
    auth = {"authorization": f"Bearer {token}"}
    created = await http.post(
        production_router.url(),
        json=persisted("CreatePayment", {"input": {"amount": "130.00", "currency": "INR"}}),
        headers=auth,
    )
    payment_id = created.json()["data"]["createPayment"]["id"]
    async with websocket(production_router, token) as ws:
        # The MFE's way: an empty query string and the hash (graphql-ws needs a string).
        payload = {"query": "", **persisted("PaymentUpdated", {"id": payment_id})}
        await ws.send(json.dumps({"id": "hash", "type": "subscribe", "payload": payload}))
        await subscribed_upstream(client, payment_id)
        started = await http.post(
            production_router.url(),
            json=persisted("StartCheckout", {"paymentId": payment_id}),
            headers=auth,
        )
        assert "errors" not in started.json(), started.json()
        message = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert (message["id"], message["type"]) == ("hash", "next"), message
        assert message["payload"]["data"]["paymentUpdated"]["status"] == "PROCESSING"

    # A document sent as text over WebSocket is refused: Hive Gateway closes the connection
    # (4500, with the refusal as the reason) before anything reaches a subgraph.
    async with websocket(production_router, token) as ws:
        text = "subscription($id: ID!) { paymentUpdated(id: $id) { status } }"
        payload = {"query": text, "variables": {"id": payment_id}}
        await ws.send(json.dumps({"id": "text", "type": "subscribe", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            await asyncio.wait_for(ws.recv(), 20)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.reason.startswith("Only trusted documents are accepted")


@asynccontextmanager
async def websocket(router: RouterProcess, token: str) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(
        router.ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(ws.recv(), 20))["type"] == "connection_ack"
        yield ws


@pytest.mark.parametrize("case", ["missing", "tampered"])
def test_trusted_only_mode_refuses_to_start_without_a_sound_manifest(
    browser_stack: DevStack, tmp_path: Path, case: str
) -> None:
    path = tmp_path / "manifest.json"
    if case == "tampered":
        key, document = next(iter(manifest().items()))
        path.write_text(json.dumps({key: document.replace("{", "{ __typename ", 1)}))
    overrides = {"ROUTER_TRUSTED_DOCUMENTS_ONLY": "true", "ROUTER_PERSISTED_DOCUMENTS": str(path)}
    reason = {"missing": "cannot read", "tampered": "does not have that sha256"}[case]
    with (
        pytest.raises(RuntimeError, match=f"ROUTER_PERSISTED_DOCUMENTS: .*{reason}"),
        router_process(browser_stack, f"bad-manifest-{case}", overrides),
    ):
        pass
