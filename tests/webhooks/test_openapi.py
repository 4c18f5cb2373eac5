"""The sidecar's OpenAPI 3.1 document: valid, committed (`docs/webhooks.openapi.json`, no drift),
served at /openapi.json outside production only, and true to what the sidecar answers."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from openapi_spec_validator import validate

from shared.config import WebhookSettings
from subgraphs.payments.webhooks import openapi
from subgraphs.payments.webhooks.app import create_app
from subgraphs.payments.webhooks.openapi import EXAMPLE_EVENT, Accepted, Refused
from tests.webhooks.conftest import Sidecar
from tests.webhooks.factories import delivery


def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(openapi.DOCUMENT_PATH.read_text())
    return document


def test_the_committed_document_matches_the_app() -> None:
    assert openapi.DOCUMENT_PATH.read_text() == openapi.generated(), (
        "docs/webhooks.openapi.json is stale: run `make schema`"
    )


def test_it_is_a_valid_openapi_3_1_document() -> None:
    document = committed()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_it_describes_the_endpoint_its_headers_and_answers() -> None:
    document = committed()
    webhook = document["paths"]["/webhooks/razorpay"]["post"]
    headers = {p["name"]: p for p in webhook["parameters"] if p["in"] == "header"}
    assert headers["X-Razorpay-Signature"]["required"] is True
    assert headers["X-Razorpay-Event-Id"]["required"] is False
    assert set(webhook["responses"]) == {"200", "400", "413", "503"}
    assert webhook["requestBody"]["required"] is True
    assert set(document["paths"]) == {"/webhooks/razorpay", "/healthz", "/readyz", "/metrics"}
    assert set(document["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}


async def test_it_is_served_outside_production(sidecar: Sidecar) -> None:
    response = await sidecar.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == committed()


async def test_production_does_not_serve_it() -> None:
    settings = WebhookSettings(
        app_env="production",
        database_url="postgresql://db.internal/payments",
        redis_url="redis://cache.internal",
        razorpay_webhook_secret="a-real-production-webhook-secret-0123456789",
        router_hmac_secret="a-real-production-router-secret-0123456789",
        log_json=False,
        log_level="WARNING",
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)  # no lifespan: nothing is connected
    async with httpx.AsyncClient(transport=transport, base_url="http://sidecar") as client:
        assert (await client.get("/openapi.json")).status_code == 404


async def test_the_documented_example_and_answers_are_what_the_sidecar_does(
    sidecar: Sidecar,
) -> None:
    example = copy.deepcopy(EXAMPLE_EVENT)
    example["payload"]["payment"]["entity"]["id"] = f"pay_{uuid.uuid4().hex[:14]}"
    stored = await sidecar.deliver(delivery(example))
    assert stored.status_code == 200, stored.text
    assert Accepted.model_validate(stored.json()).status == "stored"

    refused = await sidecar.deliver(delivery(example, signature="0" * 64))
    assert refused.status_code == 400
    assert Refused.model_validate(refused.json()).error == "invalid signature"


def test_the_cli_writes_and_checks_the_file(tmp_path: Path) -> None:
    out = tmp_path / "webhooks.openapi.json"
    assert openapi.main(["--check", "--out", str(out)]) == 1
    assert openapi.main(["--out", str(out)]) == 0
    assert openapi.main(["--check", "--out", str(out)]) == 0
    assert out.read_text() == openapi.generated()
