"""Avatars on the profile subgraph: signed multipart uploads, content checks, re-encoding,
storage, deletion and `GET /avatars/{file}`."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import router_signature
from shared.scopes import Role
from subgraphs.profile.avatar_store import AvatarStore, is_valid_key
from subgraphs.profile.body_limit import MAX_BODY_BYTES
from subgraphs.profile.images import MAX_AVATAR_BYTES, read_limited
from tests.helpers import ROUTER_SECRET, Caller, Subgraph, error_codes

UPLOAD = "mutation Up($file: Upload!) { uploadAvatar(file: $file) { avatarUrl bio } }"
DELETE = "mutation { deleteAvatar { avatarUrl bio } }"


def image_bytes(
    fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: Any
) -> bytes:
    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90 degrees
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.5)
    return image_bytes("JPEG", (80, 40), exif=exif.tobytes(), icc_profile=b"\0" * 128)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares huge dimensions (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def multipart_parts(
    content: bytes, filename: str, content_type: str, *, signed: bool = True
) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    variables: dict[str, Any] = {"file": None}
    operations: dict[str, Any] = {"query": UPLOAD, "variables": variables}
    if signed:
        operations["extensions"] = {
            router_signature.SIGNATURE_EXTENSION: router_signature.sign(
                ROUTER_SECRET, UPLOAD, variables
            )
        }
    data = {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})}
    return data, {"0": (filename, content, content_type)}


async def upload(
    profile: Subgraph,
    caller: Caller | None,
    content: bytes,
    *,
    filename: str = "avatar.png",
    content_type: str = "image/png",
    signed: bool = True,
) -> httpx.Response:
    data, files = multipart_parts(content, filename, content_type, signed=signed)
    headers = {"authorization": f"Bearer {caller.token}"} if caller else {}
    return await profile.client.post("/graphql", data=data, files=files, headers=headers)


async def upload_ok(profile: Subgraph, caller: Caller, content: bytes, **kw: Any) -> str:
    response = await upload(profile, caller, content, **kw)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    url: str = body["data"]["uploadAvatar"]["avatarUrl"]
    assert url.startswith("/avatars/")
    return url


def stored(profile: Subgraph, url: str) -> Path:
    return Path(profile.settings.avatars_path) / url.removeprefix("/avatars/")  # type: ignore[attr-defined]


def bad_input(response: httpx.Response) -> str:
    body = response.json()
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "file"
    assert body["data"] is None
    message: str = body["errors"][0]["message"]
    return message


@pytest.mark.parametrize(
    ("fmt", "mode", "save"),
    [
        ("PNG", "RGBA", {}),
        ("JPEG", "RGB", {"quality": 90}),
        ("WEBP", "RGB", {}),
    ],
)
async def test_upload_reencodes_png_jpeg_webp(
    profile: Subgraph, fmt: str, mode: str, save: dict[str, Any]
) -> None:
    me = profile.caller(Role.CUSTOMER)
    # The declared name and type are ignored: content decides.
    url = await upload_ok(
        profile,
        me,
        image_bytes(fmt, (64, 48), mode, **save),
        filename="x.gif",
        content_type="application/octet-stream",
    )
    key = url.removeprefix("/avatars/")
    assert is_valid_key(key)
    assert key.endswith(".webp")
    with Image.open(stored(profile, url)) as saved:
        assert saved.format == "WEBP"
        assert saved.size == (64, 48)
        assert saved.mode == ("RGBA" if mode == "RGBA" else "RGB")
    mine = await profile.ok("{ myProfile { avatarUrl } }", as_=me)
    assert mine["myProfile"]["avatarUrl"] == url


async def test_large_image_is_downscaled(profile: Subgraph) -> None:
    me = profile.caller(Role.VENDOR)
    url = await upload_ok(profile, me, image_bytes("PNG", (2000, 1000)))
    with Image.open(stored(profile, url)) as saved:
        assert saved.size == (512, 256)


async def test_metadata_and_trailing_data_do_not_survive(profile: Subgraph) -> None:
    me = profile.caller(Role.CUSTOMER)
    source = jpeg_with_gps()
    with Image.open(io.BytesIO(source)) as original:
        assert original.getexif().get_ifd(0x8825)  # the test image does carry GPS
    url = await upload_ok(profile, me, source + b"<script>alert(1)</script>")
    raw = stored(profile, url).read_bytes()
    with Image.open(io.BytesIO(raw)) as saved:
        assert not saved.getexif()
        assert "exif" not in saved.info
        assert "icc_profile" not in saved.info
        assert saved.size == (40, 80)  # oriented per EXIF before the EXIF was dropped
    assert b"SpyCam" not in raw
    assert b"<script" not in raw
    assert b"Exif" not in raw

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<html><script>alert(document.cookie)</script></html>")
    polyglot = image_bytes("PNG", pnginfo=info) + b"<?php system($_GET['c']); ?>"
    url = await upload_ok(profile, me, polyglot)
    raw = stored(profile, url).read_bytes()
    assert b"<script" not in raw
    assert b"<?php" not in raw
    assert raw.startswith(b"RIFF")
    assert raw[8:12] == b"WEBP"


@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"GIF89a" + b"\0" * 40,
        image_bytes("GIF"),
        image_bytes("BMP"),
        b"\x89PNG\r\n\x1a\n" + b"not really a png",
    ],
)
async def test_not_an_accepted_image_is_refused(profile: Subgraph, content: bytes) -> None:
    me = profile.caller(Role.CUSTOMER)
    response = await upload(profile, me, content, filename="avatar.png")
    assert bad_input(response) in (
        "The avatar must be a PNG, JPEG or WebP image",
        "The avatar image could not be decoded",
    )


async def test_truncated_image_is_refused(profile: Subgraph) -> None:
    me = profile.caller(Role.CUSTOMER)
    whole = image_bytes("PNG", (300, 300))
    noisy = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    for content in (out.getvalue()[: len(out.getvalue()) // 2], whole[:60]):
        message = bad_input(await upload(profile, me, content))
        assert message in (
            "The avatar image could not be decoded",
            "The avatar must be a PNG, JPEG or WebP image",
        )


async def test_size_and_dimension_limits(profile: Subgraph) -> None:
    me = profile.caller(Role.CUSTOMER)
    assert "at most 2097152 bytes" in bad_input(
        await upload(profile, me, b"\x89PNG" + b"\0" * (MAX_AVATAR_BYTES + 1 - 4))
    )
    assert "4096x4096" in bad_input(await upload(profile, me, image_bytes("PNG", (4097, 1))))
    assert "4096x4096" in bad_input(await upload(profile, me, png_header_only(100_000, 100_000)))
    assert "empty" in bad_input(await upload(profile, me, b""))
    # Exactly at the limit is accepted by the size check (then judged by content).
    assert "PNG, JPEG or WebP" in bad_input(await upload(profile, me, b"x" * MAX_AVATAR_BYTES))


async def test_body_beyond_the_bound_is_refused_before_parsing(profile: Subgraph) -> None:
    me = profile.caller(Role.CUSTOMER)
    response = await upload(profile, me, b"\0" * MAX_BODY_BYTES)
    assert response.status_code == 413
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]

    async def chunked() -> Any:
        yield (
            b'--x\r\nContent-Disposition: form-data; name="0"; filename="a.png"\r\n'
            b"Content-Type: image/png\r\n\r\n"
        )
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"\0" * 65536

    response = await profile.client.post(
        "/graphql",
        content=chunked(),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413


async def test_read_limited_stops_after_limit_plus_one() -> None:
    class Source:
        def __init__(self) -> None:
            self.served = 0

        async def read(self, size: int = -1) -> bytes:
            assert size > 0
            self.served += size
            return b"a" * size

    source = Source()
    with pytest.raises(Exception, match="at most 100 bytes"):
        await read_limited(source, limit=100)
    assert source.served == 101


async def test_upload_requires_router_signature_token_and_a_file(profile: Subgraph) -> None:
    me = profile.caller(Role.CUSTOMER)
    png = image_bytes("PNG")
    unsigned = (await upload(profile, me, png, signed=False)).json()
    assert error_codes(unsigned) == ["FORBIDDEN"]
    assert error_codes((await upload(profile, None, png)).json()) == ["UNAUTHENTICATED"]
    # A string where the file should be (plain JSON request).
    result = await profile.gql(UPLOAD, {"file": "not a file"}, as_=me)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "file"


async def test_malformed_multipart_is_a_client_error(profile: Subgraph) -> None:
    me = profile.caller(Role.CUSTOMER)
    auth = {"authorization": f"Bearer {me.token}"}
    multipart = {**auth, "content-type": "multipart/form-data; boundary=x"}
    broken = await profile.client.post(
        "/graphql", content=b"not multipart at all", headers=multipart
    )
    assert broken.status_code == 400, broken.text
    # Cut off inside the operations part: no operation, so nothing runs.
    truncated = await profile.client.post(
        "/graphql",
        content=b'--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{',
        headers=multipart,
    )
    assert error_codes(truncated.json()) == ["FORBIDDEN"]
    data, files = multipart_parts(image_bytes("PNG"), "a.png", "image/png")
    # The map names a part that is not there.
    missing = await profile.client.post(
        "/graphql",
        data={**data, "map": json.dumps({"1": ["variables.file"]})},
        files=files,
        headers=auth,
    )
    assert missing.status_code == 400
    for bad_map in ("[1, 2]", json.dumps({"0": ["variables.0.x"]}), "{not json"):
        response = await profile.client.post(
            "/graphql", data={**data, "map": bad_map}, files=files, headers=auth
        )
        assert response.status_code == 400, (bad_map, response.text)
    no_ops = await profile.client.post(
        "/graphql", data={"map": data["map"]}, files=files, headers=auth
    )
    assert no_ops.status_code == 400


async def test_replace_and_delete_remove_old_files(
    profile: Subgraph, profile_engine: AsyncEngine
) -> None:
    me = profile.caller(Role.CUSTOMER)
    first = await upload_ok(profile, me, image_bytes("PNG"))
    second = await upload_ok(profile, me, image_bytes("JPEG"))
    assert first != second
    assert not stored(profile, first).exists()
    assert stored(profile, second).exists()

    result = await profile.ok(DELETE, as_=me)
    assert result["deleteAvatar"] == {"avatarUrl": None, "bio": None}
    assert not stored(profile, second).exists()
    async with profile_engine.connect() as conn:
        key = await conn.scalar(
            text("SELECT avatar_key FROM profile.profiles WHERE user_id = :id"), {"id": me.id}
        )
    assert key is None
    # Again, and for a user who never stored a profile: nothing to remove, no row created.
    assert (await profile.ok(DELETE, as_=me))["deleteAvatar"]["avatarUrl"] is None
    stranger = profile.caller(Role.CUSTOMER)
    assert (await profile.ok(DELETE, as_=stranger))["deleteAvatar"]["avatarUrl"] is None
    async with profile_engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT count(*) FROM profile.profiles WHERE user_id = :id"), {"id": stranger.id}
        )
    assert count == 0
    assert error_codes(await profile.gql(DELETE)) == ["UNAUTHENTICATED"]


async def test_served_avatar_headers(profile: Subgraph) -> None:
    me = profile.caller(Role.CUSTOMER)
    url = await upload_ok(profile, me, image_bytes("PNG"))
    for method in ("GET", "HEAD"):
        response = await profile.client.request(method, url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-disposition"] == "inline"
    body = (await profile.client.get(url)).content
    assert body == stored(profile, url).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/avatars/..%2F..%2Fpyproject.toml",
        "/avatars/%2e%2e",
        "/avatars/..",
        "/avatars/../../etc/passwd",
        "/avatars/%2Fetc%2Fpasswd",
        "/avatars/" + "A" * 32 + ".png",
        "/avatars/" + "A" * 32 + ".webp",
        "/avatars/" + "A" * 31 + "%00.webp",
        "/avatars/.tmp",
        "/avatars/",
    ],
)
async def test_avatar_paths_outside_the_store_are_not_found(profile: Subgraph, path: str) -> None:
    response = await profile.client.get(path)
    assert response.status_code == 404
    assert response.headers.get("content-type", "").startswith(("text/plain", "application/json"))


async def test_store_ignores_foreign_names(tmp_path: Path) -> None:
    store = AvatarStore(tmp_path / "a")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    await store.delete("../victim.txt")
    await store.delete(None)
    assert victim.exists()
    key = await store.save(b"data")
    assert (tmp_path / "a" / key).read_bytes() == b"data"
    assert [p.name for p in (tmp_path / "a").iterdir()] == [key]
    await store.delete(key)
    assert not (tmp_path / "a" / key).exists()
