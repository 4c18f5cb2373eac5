"""Verification of the router's HMAC upstream signature.

Hive Gateway adds `extensions["hmac-signature"]` to every request it sends a subgraph: base64 of
HMAC-SHA256(secret, canonical JSON of `{"query", "variables"}`), keys sorted, no spaces,
`variables` left out when empty. A subgraph serves GraphQL only to requests that carry a valid
signature (unless `REQUIRE_ROUTER_SIGNATURE=false`, which only tests use and production refuses).
See docs/router.md for the exact scheme and how WebSocket connections are authenticated.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
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


@functools.lru_cache(maxsize=8)
def _keyed(secret: str) -> hmac.HMAC:
    # Keying an HMAC (OpenSSL's set-up for the key) costs more than hashing a request's
    # payload: keyed once per secret, copied per request.
    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def sign(secret: str, query: str | None, variables: dict[str, Any] | None) -> str:
    digest = _keyed(secret).copy()
    digest.update(canonical_payload(query, variables))
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


# The router's WebSocket connections to a subgraph carry a credential in the `connection_init`
# payload (key `x-router-signature`), fresh for every connection and accepted once:
#   v2.<unix seconds>.<nonce>.<mac>
#   mac = base64url(HMAC-SHA256(secret, "payments-bff/router-websocket/v2.<unix seconds>.<nonce>"))
# (`routerWebSocketCredential` in router/src/plugins.ts). The subgraph checks the MAC, that the
# timestamp is within WS_CREDENTIAL_MAX_AGE_SECONDS of its clock, and that the nonce was not seen
# before (remembered in Redis: shared/app.py).
WS_CREDENTIAL_CONTEXT = "payments-bff/router-websocket/v2"
WS_CREDENTIAL_MAX_AGE_SECONDS = 60
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True, slots=True)
class WsCredential:
    timestamp: int
    nonce: str


def _ws_mac(secret: str, timestamp: int, nonce: str) -> str:
    message = f"{WS_CREDENTIAL_CONTEXT}.{timestamp}.{nonce}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ws_credential(secret: str, *, now: float | None = None, nonce: str | None = None) -> str:
    """A credential as the router makes one (tests play the router with it)."""
    timestamp = int(time.time() if now is None else now)
    nonce = nonce or secrets.token_urlsafe(16)
    return f"v2.{timestamp}.{nonce}.{_ws_mac(secret, timestamp, nonce)}"


def verify_ws_credential(
    secret: str, credential: str, *, now: float | None = None
) -> WsCredential | None:
    """The credential's timestamp and nonce when its MAC is right and it is fresh, else None.
    Single use is the caller's part (it has the Redis)."""
    parts = credential.split(".")
    if len(parts) != 4 or parts[0] != "v2" or not parts[1].isdigit() or len(parts[1]) > 12:
        return None
    timestamp, nonce, mac = int(parts[1]), parts[2], parts[3]
    if not _NONCE.fullmatch(nonce):
        return None
    if not hmac.compare_digest(_ws_mac(secret, timestamp, nonce), mac):
        return None
    current = time.time() if now is None else now
    if abs(current - timestamp) > WS_CREDENTIAL_MAX_AGE_SECONDS:
        return None
    return WsCredential(timestamp, nonce)


def ws_nonce_key(nonce: str) -> str:
    return f"router:ws-nonce:{nonce}"
