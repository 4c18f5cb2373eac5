"""A bound on request bodies, checked before anything parses them.

Starlette spools multipart files to disk without a size limit, and it parses the form before
the router signature is checked: without this bound anyone who can reach the subgraph could make
it write arbitrarily large temporary files. A declared `Content-Length` over the limit is refused
at once; a body without one (chunked) is cut off with 413 as soon as it passes the limit.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from subgraphs.profile.images import MAX_AVATAR_BYTES

# The largest accepted avatar plus room for the operation, map and multipart framing.
MAX_BODY_BYTES: Final = MAX_AVATAR_BYTES + 256 * 1024

_TOO_LARGE: Final = (
    b'{"errors":[{"message":"Request body too large","extensions":{"code":"BAD_USER_INPUT"}}]}'
)


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.limit + 1
                if declared > self.limit:
                    await self._refuse(send)
                    return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_TOO_LARGE)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _TOO_LARGE})
