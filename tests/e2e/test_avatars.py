"""Avatar uploads through the real router (GraphQL multipart request spec), the file then served
by the profile subgraph."""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable
from typing import Any

import httpx
from PIL import Image

from tests.e2e.conftest import Client

UPLOAD = "mutation Up($file: Upload!) { uploadAvatar(file: $file) { avatarUrl } }"
CSRF = {"apollo-require-preflight": "true"}


def codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


def png(size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


async def post_upload(
    client: Client,
    token: str | None,
    content: bytes,
    *,
    filename: str = "me.png",
    content_type: str = "image/png",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    operations = {"query": UPLOAD, "variables": {"file": None}}
    data = {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})}
    all_headers = dict(CSRF if headers is None else headers)
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    return await client.http.post(
        client.stack.url("router"),
        data=data,
        files={"0": (filename, content, content_type)},
        headers=all_headers,
    )


async def test_upload_through_router_and_serve(client: Client) -> None:
    token = await client.login("customer@example.com")
    response = await post_upload(client, token, png())
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    url = body["data"]["uploadAvatar"]["avatarUrl"]
    assert url.startswith("/avatars/")
    assert url.endswith(".webp")

    mine = await client.gql("{ myProfile { avatarUrl } }", token=token)
    assert mine["data"]["myProfile"]["avatarUrl"] == url

    served = await client.http.get(client.stack.url("profile", url))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["content-disposition"] == "inline"
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.format == "WEBP"
        assert image.size == (96, 64)
    traversal = await client.http.get(
        client.stack.url("profile", "/avatars/..%2F..%2Fetc%2Fpasswd")
    )
    assert traversal.status_code == 404

    deleted = await client.gql("mutation { deleteAvatar { avatarUrl } }", token=token)
    assert deleted["data"]["deleteAvatar"]["avatarUrl"] is None
    gone = await client.http.get(client.stack.url("profile", url))
    assert gone.status_code == 404


async def refused_at_router(sending: Awaitable[httpx.Response]) -> None:
    """An upload over the router's bound gets 413 BAD_USER_INPUT. The router answers and closes
    while the client may still be sending; whether the client reads that answer first is a race
    on the socket, so a connection closed mid-upload counts as the same refusal (the caller
    checks that nothing was stored)."""
    try:
        response = await sending
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        return
    assert response.status_code == 413
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_refused_uploads_through_router(client: Client) -> None:
    token = await client.login("customer@example.com")

    script = await post_upload(client, token, b"<script>alert(1)</script>", filename="x.png")
    result = script.json()
    assert codes(result) == ["BAD_USER_INPUT"], result
    assert result["errors"][0]["extensions"]["field"] == "file"

    # 2 MiB + 1: passes the router's body bound, refused by the subgraph while reading.
    oversized = await post_upload(client, token, b"\x89PNG" + b"\0" * (2 * 1024 * 1024 - 3))
    result = oversized.json()
    assert codes(result) == ["BAD_USER_INPUT"], result
    assert "at most 2097152 bytes" in result["errors"][0]["message"]

    # Beyond the router's multipart bound: refused before anything is forwarded.
    before = await client.gql("{ myProfile { avatarUrl } }", token=token)
    await refused_at_router(post_upload(client, token, b"\0" * (3 * 1024 * 1024)))

    async def chunked() -> Any:  # no Content-Length: the router counts while reading
        yield b'--b\r\nContent-Disposition: form-data; name="0"; filename="a.png"\r\n\r\n'
        for _ in range(37):  # just over the bound (2 MiB + 256 KiB)
            yield b"\0" * 65536

    await refused_at_router(
        client.http.post(
            client.stack.url("router"),
            content=chunked(),
            headers={
                **CSRF,
                "authorization": f"Bearer {token}",
                "content-type": "multipart/form-data; boundary=b",
            },
        )
    )
    after = await client.gql("{ myProfile { avatarUrl } }", token=token)
    assert after == before  # nothing was stored

    anonymous = await post_upload(client, None, png())
    assert codes(anonymous.json()) == ["UNAUTHENTICATED"]

    no_csrf = await post_upload(client, token, png(), headers={})
    assert no_csrf.status_code == 400
    assert codes(no_csrf.json()) == ["BAD_USER_INPUT"]


async def test_malformed_multipart_through_router(client: Client) -> None:
    token = await client.login("customer@example.com")
    headers = {
        **CSRF,
        "authorization": f"Bearer {token}",
        "content-type": "multipart/form-data; boundary=xyz",
    }
    router = client.stack.url("router")
    garbage = await client.http.post(router, content=b"this is not multipart", headers=headers)
    assert 400 <= garbage.status_code < 500
    assert codes(garbage.json()) == ["BAD_USER_INPUT"]

    no_operations = await client.http.post(
        router,
        files={"0": ("a.png", png(), "image/png")},
        data={"map": json.dumps({"0": ["variables.file"]})},
        headers={**CSRF, "authorization": f"Bearer {token}"},
    )
    assert codes(no_operations.json()) == ["BAD_USER_INPUT"], no_operations.text

    bad_operations = await client.http.post(
        router,
        files={"0": ("a.png", png(), "image/png")},
        data={"operations": "{not json", "map": json.dumps({"0": ["variables.file"]})},
        headers={**CSRF, "authorization": f"Bearer {token}"},
    )
    assert codes(bad_operations.json()) == ["BAD_USER_INPUT"]

    # A map that points nowhere leaves the Upload! variable null.
    no_file = await client.http.post(
        router,
        files={"0": ("a.png", png(), "image/png")},
        data={
            "operations": json.dumps({"query": UPLOAD, "variables": {"file": None}}),
            "map": json.dumps({"1": ["variables.file"]}),
        },
        headers={**CSRF, "authorization": f"Bearer {token}"},
    )
    assert codes(no_file.json()) == ["BAD_USER_INPUT"]
