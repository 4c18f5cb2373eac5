"""The webhook sidecar's OpenAPI 3.1 document, generated from the app (FastAPI) and committed as
`docs/webhooks.openapi.json`; `tests/webhooks/test_openapi.py` fails when the two differ.

    python -m subgraphs.payments.webhooks.openapi            write docs/webhooks.openapi.json
    python -m subgraphs.payments.webhooks.openapi --check    exit 1 when it is stale

The webhook route reads its raw body itself (the signature covers the exact bytes), so its
headers, body and answers are declared here (`WEBHOOK_ROUTE`, spread into the route in `app.py`);
the body's schema is the envelope model the sidecar validates with (`payloads.EventEnvelope`).
The operational routes come from `shared.ops`; their answers are described here too. The app
serves the document at `GET /openapi.json` outside production (404 in production).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from shared.config import REPO_ROOT
from subgraphs.payments.webhooks.dispatch import HANDLERS
from subgraphs.payments.webhooks.payloads import EventEnvelope

DOCUMENT_PATH = REPO_ROOT / "docs" / "webhooks.openapi.json"
API_VERSION = "1.0.0"
OPENAPI_PATH = "/openapi.json"


class Accepted(BaseModel):
    """The event is durably stored (or was already): Razorpay must not send it again."""

    status: Literal["stored", "duplicate"] = Field(
        description="`stored`: new, committed before this answer; `duplicate`: this event "
        "(same `X-Razorpay-Event-Id` and body, or the same Razorpay event under another id) "
        "was stored before, nothing changed. The event is applied after the answer, by the "
        "sidecar's worker (docs/webhooks.md)."
    )


class Refused(BaseModel):
    """The delivery was refused; nothing was stored or applied."""

    error: str = Field(description="Why, in a few words (no details of the body).")


class Health(BaseModel):
    status: Literal["ok"] = Field(description="Always `ok` while the process serves requests.")
    service: str = Field(description="`webhooks`.")


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"] = Field(
        description="`ready` when PostgreSQL, Redis and the webhook secret all check out."
    )
    service: str | None = Field(default=None, description="`webhooks` (when ready).")
    reason: str | None = Field(
        default=None,
        description="When unavailable because of a rule of the sidecar's own, e.g. `webhook "
        "secret not configured`.",
    )


SIGNATURE_PARAMETER: dict[str, Any] = {
    "name": "X-Razorpay-Signature",
    "in": "header",
    "required": True,
    "description": "Hex HMAC-SHA256 of the raw request body with the webhook secret "
    "(`RAZORPAY_WEBHOOK_SECRET`, or `RAZORPAY_WEBHOOK_PREVIOUS_SECRET` during a rotation). "
    "Verified over the exact bytes before anything is parsed; missing or wrong: 400.",
    "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
}
EVENT_ID_PARAMETER: dict[str, Any] = {
    "name": "X-Razorpay-Event-Id",
    "in": "header",
    "required": False,
    "description": "Razorpay's id of this event, the same on every retry: the sidecar stores "
    "each event once under it. Not covered by the signature: absent or malformed, the body's "
    "SHA-256 is used instead; a known id with a different body is kept as a separate event.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:\\-]{1,100}$"},
}
EXAMPLE_EVENT: dict[str, Any] = {
    "entity": "event",
    "account_id": "acc_BFQ7uQEaa7j2z7",
    "event": "payment.captured",
    "contains": ["payment"],
    "payload": {
        "payment": {
            "entity": {
                "id": "pay_29QQoUBi66xm2f",
                "entity": "payment",
                "amount": 9999,
                "currency": "INR",
                "status": "captured",
                "order_id": "order_9A33XWu170gUtm",
                "amount_refunded": 0,
                "notes": [],
                "created_at": 1700000000,
            }
        }
    },
    "created_at": 1700000001,
}


def _event_schema() -> dict[str, Any]:
    schema = EventEnvelope.model_json_schema()
    schema.pop("title", None)
    return {
        **schema,
        "description": "A Razorpay webhook event. Handled types: "
        + ", ".join(f"`{name}`" for name in HANDLERS)
        + "; any other type is stored and acknowledged (`ignored`). Unknown fields are "
        "accepted; `notes` may be `[]` or `{}`.",
    }


WEBHOOK_ROUTE: dict[str, Any] = {
    "summary": "Receive a Razorpay webhook event",
    "description": "Razorpay posts each event here (at least once, in any order, retried for "
    "24 hours on any answer but 2xx or none within 5 seconds). The signature is verified over "
    "the raw body first; the event is then committed under its event id and the answer sent; the "
    "sidecar's worker applies it right after, off the request path. Each event applies at most "
    "once; none is lost.",
    "operation_id": "receiveRazorpayWebhook",
    "tags": ["webhooks"],
    "responses": {
        200: {"model": Accepted, "description": "Stored (or already stored): do not resend."},
        400: {
            "model": Refused,
            "description": "Bad or missing signature (`invalid signature`), or a signed body "
            "that is not a Razorpay event (`not a Razorpay event`). Logged as a security event; "
            "never applied.",
        },
        413: {"model": Refused, "description": "Body over `WEBHOOK_MAX_BODY_BYTES` (1 MB)."},
        503: {
            "model": Refused,
            "description": "The event could not be stored (PostgreSQL down or slow): Razorpay "
            "retries it later.",
        },
    },
    "openapi_extra": {
        "parameters": [SIGNATURE_PARAMETER, EVENT_ID_PARAMETER],
        "requestBody": {
            "required": True,
            "description": "The raw JSON body exactly as Razorpay sent it (the signature "
            "covers these bytes).",
            "content": {"application/json": {"schema": _event_schema(), "example": EXAMPLE_EVENT}},
        },
    },
}

_OPS: dict[str, dict[str, Any]] = {
    "/healthz": {
        "summary": "Liveness",
        "description": "200 while the process serves requests (checks nothing else).",
        "responses": {"200": ("Alive.", "Health")},
    },
    "/readyz": {
        "summary": "Readiness",
        "description": "PostgreSQL, Redis and the webhook secret, each checked within "
        "`READY_TIMEOUT_SECONDS`: route Razorpay's deliveries here only while this is 200.",
        "responses": {
            "200": ("Ready.", "Readiness"),
            "503": ("Not ready (starting, stopping, or a dependency down).", "Readiness"),
        },
    },
    "/metrics": {
        "summary": "Prometheus metrics",
        "description": "Prometheus text exposition: `bff_webhook_events_total`, request counts "
        "and latencies, signature checks, parked events (docs/webhooks.md).",
        "responses": {"200": ("The metrics.", None)},
    },
}


def _describe_ops(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (Health, Readiness):
        schemas[model.__name__] = model.model_json_schema()
    for path, docs in _OPS.items():
        operation = document["paths"][path]["get"]
        operation["summary"] = docs["summary"]
        operation["description"] = docs["description"]
        operation["tags"] = ["operations"]
        responses: dict[str, Any] = {}
        for status, (description, schema) in docs["responses"].items():
            content = (
                {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
                if schema
                else {"text/plain": {"schema": {"type": "string"}}}
            )
            responses[status] = {"description": description, "content": content}
        operation["responses"] = responses


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The document for `app` (`create_app`'s), without the document's own route."""
    routes = [r for r in app.routes if not (isinstance(r, APIRoute) and r.path == OPENAPI_PATH)]
    document = get_openapi(
        title=app.title,
        version=API_VERSION,
        openapi_version="3.1.0",
        summary="Receives Razorpay's webhooks for the payments BFF.",
        description="The Razorpay webhook sidecar: `POST /webhooks/razorpay` and the operational "
        "endpoints. Runbook: docs/webhooks.md. Served at `GET /openapi.json` outside production; "
        "generated by `python -m subgraphs.payments.webhooks.openapi`.",
        routes=routes,
        tags=[
            {"name": "webhooks", "description": "Deliveries from Razorpay."},
            {"name": "operations", "description": "Health, readiness and metrics."},
        ],
    )
    _describe_ops(document)
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated() -> str:
    from shared.config import AppEnv, WebhookSettings
    from subgraphs.payments.webhooks.app import create_app

    # create_app configures the process's logging: a generator leaves it as it found it.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        app = create_app(WebhookSettings(app_env=AppEnv.DEVELOPMENT, log_json=False))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return render(openapi_document(app))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m subgraphs.payments.webhooks.openapi")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    parser.add_argument("--out", type=Path, default=DOCUMENT_PATH)
    args = parser.parse_args(argv)
    text = generated()
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run `make schema`", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
