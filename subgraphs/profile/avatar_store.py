"""Avatar files on disk and `GET /avatars/{file}`.

A stored avatar is `<AVATAR_DIR>/<key>`, the key a random `secrets.token_urlsafe(24)` plus the
extension of the stored format. Files are written under a temporary name and renamed into place,
so a reader never sees half a file. The route serves only names of exactly that shape.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from shared.config import ProfileSettings
from subgraphs.profile.images import OUTPUT_EXTENSION

CONTENT_TYPES: Final = {".webp": "image/webp"}
KEY_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{32}\.(webp)$")

SAFE_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
SERVED_HEADERS: Final = {
    **SAFE_HEADERS,
    # A key is never reused: a new avatar gets a new name.
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Disposition": "inline",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


def new_key() -> str:
    return secrets.token_urlsafe(24) + OUTPUT_EXTENSION


def is_valid_key(key: str) -> bool:
    return KEY_PATTERN.fullmatch(key) is not None


class AvatarStore:
    """The avatar directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_of(self, key: str) -> Path | None:
        if not is_valid_key(key):
            return None
        return self.directory / key

    def _write(self, key: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / key
        temporary = self.directory / f".{key}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    async def save(self, data: bytes) -> str:
        """Store `data` under a new random key; returns the key."""
        key = new_key()
        await asyncio.to_thread(self._write, key, data)
        return key

    async def delete(self, key: str | None) -> None:
        """Remove a stored avatar (nothing if absent or not a key of ours)."""
        path = self.path_of(key) if key else None
        if path is not None:
            await asyncio.to_thread(path.unlink, True)


def store_for(settings: ProfileSettings) -> AvatarStore:
    return AvatarStore(settings.avatars_path)


def _not_found() -> Response:
    return Response("Not found", status_code=404, media_type="text/plain", headers=SAFE_HEADERS)


async def serve_avatar(request: Request) -> Response:
    store = request.app.state.deps.avatar_store  # the app's `ProfileDeps`
    assert isinstance(store, AvatarStore)
    key = request.path_params.get("file", "")
    path = store.path_of(key) if isinstance(key, str) else None
    if path is None or not await asyncio.to_thread(path.is_file):
        return _not_found()
    return FileResponse(
        path,
        media_type=CONTENT_TYPES[path.suffix],
        headers=SERVED_HEADERS,
    )


AVATAR_ROUTES: Final = (Route("/avatars/{file}", serve_avatar, methods=["GET"]),)
