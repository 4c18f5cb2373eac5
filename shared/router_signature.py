"""Verification of the router's HMAC upstream signature.

Hive Gateway adds `extensions["hmac-signature"]` to every request it sends a subgraph: base64 of
HMAC-SHA256(secret, canonical JSON of `{"query", "variables"}`), keys sorted, no spaces,
`variables` left out when empty. A subgraph serves GraphQL only to requests that carry a valid
signature (unless `REQUIRE_ROUTER_SIGNATURE=false`, which only tests use and production refuses).
See docs/router.md for the exact scheme and how WebSocket connections are authenticated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson
from starlette.datastructures import UploadFile

SIGNATURE_EXTENSION = "hmac-signature"


def _upload_as_null(value: Any) -> None:
    # A multipart request (GraphQL multipart request spec) carries `null` where each file goes in
    # its `operations` JSON, and the router signs that (`uploadsAsNull` in router/src/plugins.ts);
    # Strawberry has put the uploaded file there by the time the signature is checked.
    if isinstance(value, UploadFile):
        return
    raise TypeError(f"cannot sign {type(value).__name__}")


def canonical_payload(query: str | None, variables: dict[str, Any] | None) -> bytes:
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    return orjson.dumps(body, default=_upload_as_null, option=orjson.OPT_SORT_KEYS)


def sign(secret: str, query: str | None, variables: dict[str, Any] | None) -> str:
    digest = hmac.new(secret.encode(), canonical_payload(query, variables), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def verify(
    secret: str,
    query: str | None,
    variables: dict[str, Any] | None,
    extensions: dict[str, Any] | None,
) -> bool:
    signature = (extensions or {}).get(SIGNATURE_EXTENSION)
    if not isinstance(signature, str) or not signature:
        return False
    try:
        expected = sign(secret, query, variables)
    except TypeError:  # orjson refuses integers beyond 64 bits: cannot be ours, so not signed
        return False
    return hmac.compare_digest(expected, signature)


# The router's WebSocket connections to a subgraph carry this credential in the `connection_init`
# payload (key `x-router-signature`): base64 HMAC-SHA256(secret, WS_CREDENTIAL_CONTEXT).
WS_CREDENTIAL_CONTEXT = b"payments-bff/router-websocket/v1"


def ws_credential(secret: str) -> str:
    digest = hmac.new(secret.encode(), WS_CREDENTIAL_CONTEXT, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_ws_credential(secret: str, credential: str) -> bool:
    return hmac.compare_digest(ws_credential(secret), credential)
