"""Serve an ASGI app on a listening socket inherited from `devtools.devstack` (`--fd`), exactly
as `uvicorn --port` serves it in production (the Dockerfile).

uvicorn's own `--fd` wraps the descriptor as `socket.fromfd(fd, AF_UNIX, SOCK_STREAM)`, so a TCP
socket is taken for a Unix one: uvloop serves it through its pipe transport, and neither uvloop
nor asyncio sets `TCP_NODELAY` on the connections it accepts (Nagle's algorithm then holds small
responses for the client's delayed ACK). Here the socket is adopted with its real family
(`socket.socket(fileno=fd)`) and handed to `uvicorn.Server.run(sockets=...)`: the same TCP
transport, the same per-connection options, the same client addresses as a port of its own.

    python -m devtools.serve subgraphs.payments.app:create_app --fd 3 [uvicorn options]
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Sequence
from typing import Any

import uvicorn


def serve(app: Any, fd: int, **config: Any) -> None:
    """Run `app` (an ASGI app, or an import string) on the inherited listening socket `fd` until
    SIGINT/SIGTERM; `config`: `uvicorn.Config`'s keyword arguments."""
    listener = socket.socket(fileno=fd)  # the kernel's family (AF_INET), not AF_UNIX
    uvicorn.Server(uvicorn.Config(app, **config)).run(sockets=[listener])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("factory", help="module:function returning the ASGI app")
    parser.add_argument("--fd", type=int, required=True, help="the inherited listening socket")
    parser.add_argument("--ws", default="auto")
    parser.add_argument("--ws-per-message-deflate", choices=("true", "false"), default="true")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args(argv)
    serve(
        args.factory,
        args.fd,
        factory=True,
        ws=args.ws,
        ws_per_message_deflate=args.ws_per_message_deflate == "true",
        log_level=args.log_level,
        access_log=not args.no_access_log,
    )


if __name__ == "__main__":
    main()
