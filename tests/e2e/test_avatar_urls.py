"""`Profile.avatarUrl` works on the router's origin: the router serves `/avatars/<key>.webp` from
the profile subgraph (`router/src/avatars.ts`), with the profile's image headers; other names
never reach the profile subgraph; a profile subgraph that is down is a 503."""

from __future__ import annotations

import io
import uuid

import httpx
from PIL import Image

from devtools.devstack import DevStack, free_port
from tests.e2e.conftest import Client
from tests.e2e.routers import router_process
from tests.e2e.test_avatars import png, post_upload


async def upload(client: Client, token: str) -> str:
    response = await post_upload(client, token, png((80, 40)))
    body = response.json()
    assert "errors" not in body, body
    url: str = body["data"]["uploadAvatar"]["avatarUrl"]
    return url


async def test_the_avatar_url_works_on_the_routers_origin(client: Client) -> None:
    token = await client.login("customer@example.com")
    url = await upload(client, token)
    on_router = client.stack.url("router", url)

    served = await client.http.get(on_router)
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert served.headers["cross-origin-resource-policy"] == "cross-origin"
    with Image.open(io.BytesIO(served.content)) as image:
        assert (image.format, image.size) == ("WEBP", (80, 40))
    # The same bytes as the profile subgraph serves.
    assert served.content == (await client.http.get(client.stack.url("profile", url))).content

    head = await client.http.head(on_router)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(served.content))

    deleted = await client.gql("mutation { deleteAvatar { avatarUrl } }", token=token)
    assert deleted["data"]["deleteAvatar"]["avatarUrl"] is None
    assert (await client.http.get(on_router)).status_code == 404


async def test_only_avatar_names_are_served(client: Client) -> None:
    for path in (
        "/avatars/",
        "/avatars/..%2F..%2Fetc%2Fpasswd",
        "/avatars/%2e%2e%2fgraphql",
        "/avatars/" + "a" * 32 + ".png",
        "/avatars/" + "a" * 31 + ".webp",
    ):
        response = await client.http.get(client.stack.url("router", path))
        assert response.status_code == 404, (path, response.status_code)
    unknown = "/avatars/" + uuid.uuid4().hex + ".webp"
    assert (await client.http.get(client.stack.url("router", unknown))).status_code == 404
    refused = await client.http.post(client.stack.url("router", unknown), content=b"x")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD"


async def test_a_down_profile_subgraph_is_a_503(stack: DevStack) -> None:
    overrides = {"PROFILE_SUBGRAPH_URL": f"http://127.0.0.1:{free_port()}/graphql"}
    with router_process(stack, "avatars-down", overrides) as router:
        async with httpx.AsyncClient(timeout=20.0) as http:
            response = await http.get(router.url("/avatars/" + uuid.uuid4().hex + ".webp"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
