"""uploadAvatar's cost bounds: a pixel ceiling read from the header before any decoding, and a
per-user upload rate limit (many aliased uploads in one request used to cost seconds of CPU)."""

from __future__ import annotations

import json
from typing import Any

from PIL import Image

from shared import router_signature
from shared.scopes import Role
from subgraphs.profile.images import MAX_SOURCE_PIXELS
from tests.helpers import ROUTER_SECRET, Subgraph, error_codes
from tests.profile.test_avatars import bad_input, image_bytes, png_header_only, upload


async def test_a_pixel_ceiling_is_checked_before_decoding(profile: Subgraph) -> None:
    me = profile.caller(Role.CUSTOMER)
    # Each side within 4096, but 16.4 megapixels: refused from the header alone (this PNG has
    # no decodable pixels, so anything else would say "could not be decoded").
    message = bad_input(await upload(profile, me, png_header_only(4096, 4000)))
    assert "16 megapixels" in message
    # 12 megapixels (a phone photo's size) passes the ceiling and is then decoded.
    message = bad_input(await upload(profile, me, png_header_only(4000, 3000)))
    assert message == "The avatar image could not be decoded"
    assert Image.MAX_IMAGE_PIXELS == MAX_SOURCE_PIXELS


async def test_uploads_are_rate_limited_per_user_even_in_one_request(profile: Subgraph) -> None:
    me, other = profile.caller(Role.CUSTOMER), profile.caller(Role.CUSTOMER)
    limit = profile.settings.avatar_upload_limit  # type: ignore[attr-defined]
    count = limit + 2
    names = [f"f{i}" for i in range(count)]
    query = (
        "mutation Many("
        + ", ".join(f"${n}: Upload!" for n in names)
        + ") { "
        + " ".join(f"{n}: uploadAvatar(file: ${n}) {{ avatarUrl }}" for n in names)
        + " }"
    )
    variables: dict[str, Any] = dict.fromkeys(names)
    operations = {
        "query": query,
        "variables": variables,
        "extensions": {
            router_signature.SIGNATURE_EXTENSION: router_signature.sign(
                ROUTER_SECRET, query, variables
            )
        },
    }
    png = image_bytes("PNG", (32, 32))
    response = await profile.client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({str(i): [f"variables.{n}"] for i, n in enumerate(names)}),
        },
        files={str(i): ("a.png", png, "image/png") for i in range(count)},
        headers={"authorization": f"Bearer {me.token}"},
    )
    body = response.json()
    # The first `limit` ran; the next is refused (a non-null mutation field: data is null).
    assert error_codes(body) == ["RATE_LIMITED"], body
    assert body["errors"][0]["path"] == [names[limit]]
    assert body["errors"][0]["extensions"]["retryAfter"] >= 1
    assert error_codes((await upload(profile, me, png)).json()) == ["RATE_LIMITED"]

    # Another user is not affected.
    response = await upload(profile, other, png)
    assert "errors" not in response.json()
