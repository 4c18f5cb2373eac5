"""The requests' revocation reads on one Redis connection of their own (`KeyReads`), pipelined:
see the class. `shared.redis` builds the client it takes its URL and bounds from."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any, cast

from redis._parsers.base import BaseParser
from redis.asyncio import Redis
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError


class KeyReads:
    """`mget(*keys)` (what `shared.context.ensure_not_revoked` asks of Redis on every request) on
    one connection of its own, pipelined: each call writes its MGET at once and its reply is the
    next one in order on that connection, so concurrent requests share the connection without
    waiting for one another, and no call pays redis-py's per-command work (pool checkout and its
    liveness read, command object, stream reader, response callbacks): about 50 us of CPU per
    call through the client against a few here (docs/performance.md).

    Every call is a real read of Redis made after the call started. The client's bounds hold:
    connecting within its connect timeout, each reply within its socket timeout (else
    `redis.exceptions.TimeoutError`, and the connection is dropped: the next call opens
    another); a connection that breaks fails its calls with `redis.exceptions.ConnectionError`,
    each retried once on a fresh connection (an MGET can be repeated). The client's URL
    decides where (TCP or unix socket), the user, password and database; a TLS client
    (`rediss://`) or any other connection class is served by the client's own `mget`."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        pool = redis.connection_pool
        options = pool.connection_kwargs
        self._direct = pool.connection_class in (Connection, UnixDomainSocketConnection)
        self._path: str | None = options.get("path")
        self._host: str = options.get("host", "localhost")
        self._port: int = int(options.get("port", 6379))
        self._setup = _setup_commands(options)
        self._decode = bool(options.get("decode_responses", False))
        self._timeout: float | None = options.get("socket_timeout")
        self._connect_timeout: float | None = options.get("socket_connect_timeout")
        self._protocol: _Replies | None = None
        # The connection attempt in progress, shared by every call that needs it: they all wait
        # for that one attempt (bounded by the connect timeout) and fail together, never queue
        # one attempt after another.
        self._connecting: asyncio.Future[_Replies] | None = None
        self._closed = False

    async def mget(self, *keys: str) -> list[Any]:
        if not self._direct:
            return list(await self._redis.mget(keys))
        command = _command("MGET", *keys)
        try:
            reply = await self._call(command)
        except RedisConnectionError:
            reply = await self._call(command)  # once, on a fresh connection
        if not isinstance(reply, list):
            raise ResponseError(f"MGET answered {type(reply).__name__}")
        if self._decode:
            return [v.decode() if isinstance(v, bytes) else v for v in reply]
        return reply

    async def aclose(self) -> None:
        self._closed = True  # a call still in flight cannot open another connection
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol.close()

    async def _call(self, command: bytes) -> Any:
        protocol = await self._connected()
        reply = protocol.send(command)
        try:
            async with asyncio.timeout(self._timeout):
                return await reply
        except TimeoutError as error:
            if reply.cancelled() or not reply.done():
                # No answer in time: this connection is not trusted with another command.
                protocol.close()
                if self._protocol is protocol:
                    self._protocol = None
                raise RedisTimeoutError("Timeout reading from Redis") from error
            raise

    async def _connected(self) -> _Replies:
        protocol = self._protocol
        if protocol is not None and protocol.open:
            return protocol
        if self._closed:
            raise RedisConnectionError("Connection closed.")
        connecting = self._connecting
        if connecting is None or connecting.done():
            connecting = self._connecting = asyncio.ensure_future(self._open())
            connecting.add_done_callback(_retrieve)
        # Shielded: a caller that gives up (its request cancelled) does not cancel the attempt
        # the other callers wait for.
        return await asyncio.shield(connecting)

    async def _open(self) -> _Replies:
        protocol = await self._connect()
        if self._closed:
            protocol.close()
            raise RedisConnectionError("Connection closed.")
        self._protocol = protocol
        return protocol

    async def _connect(self) -> _Replies:
        loop = asyncio.get_running_loop()
        protocol: _Replies | None = None
        try:
            async with asyncio.timeout(self._connect_timeout):
                if self._path is not None:
                    _, protocol = await loop.create_unix_connection(_Replies, self._path)
                else:
                    _, protocol = await loop.create_connection(_Replies, self._host, self._port)
                for command in self._setup:  # AUTH, SELECT (errors are exceptions)
                    await protocol.send(command)
                # Best effort, as redis-py's own: an ACL user without CLIENT may still read.
                with contextlib.suppress(ResponseError):
                    await protocol.send(_command("CLIENT", "SETNAME", CLIENT_NAME))
        except TimeoutError as error:
            if protocol is not None:
                protocol.close()
            raise RedisTimeoutError("Timeout connecting to Redis") from error
        except OSError as error:
            if protocol is not None:
                protocol.close()
            raise RedisConnectionError(f"Error connecting to Redis: {error}") from error
        except BaseException:
            if protocol is not None:
                protocol.close()
            raise
        return protocol


CLIENT_NAME = "bff-key-reads"
"""How `KeyReads`' connections show in Redis' CLIENT LIST."""


def _setup_commands(options: dict[str, Any]) -> list[bytes]:
    commands = []
    password, username = options.get("password"), options.get("username")
    if password is not None:
        args = ("AUTH", username, password) if username else ("AUTH", password)
        commands.append(_command(*args))
    if options.get("db"):
        commands.append(_command("SELECT", str(options["db"])))
    return commands


def _retrieve(attempt: asyncio.Future[Any]) -> None:
    """A failed connection attempt whose callers all gave up is not logged as never retrieved
    (its error reached, or would have reached, every caller)."""
    if not attempt.cancelled():
        attempt.exception()


def _command(*args: str) -> bytes:
    """A command in RESP: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


class _Replies(asyncio.Protocol):
    """One Redis connection: replies handed out in the order the commands were sent. The
    commands of one turn of the event loop go out in one write (requests that arrived together
    check together: one system call, and one wake-up of Redis, instead of one each)."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._outgoing: list[bytes] = []
        self._buffer = b""
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.open = True

    def send(self, command: bytes) -> asyncio.Future[Any]:
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self.open or self._transport is None:
            reply.set_exception(RedisConnectionError("Connection closed by server."))
            return reply
        self._waiting.append(reply)  # even when its caller gives up: replies come in order
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing.append(command)
        return reply

    def _flush(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if self.open and self._transport is not None and outgoing:
            self._transport.write(b"".join(outgoing))

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        position = 0
        try:
            while position < len(buffer):
                parsed = parse_reply(buffer, position)
                if parsed is None:
                    break
                value, position = parsed
                reply = self._waiting.popleft()
                if reply.done():  # its caller gave up
                    continue
                if isinstance(value, RedisError):
                    reply.set_exception(value)
                else:
                    reply.set_result(value)
        except (ValueError, IndexError) as error:  # not RESP, or a reply nobody asked for
            self._fail(RedisConnectionError(f"Unreadable reply from Redis: {error}"))
            self.close()
            return
        self._buffer = buffer[position:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self._fail(RedisConnectionError("Connection closed by server."))

    def close(self) -> None:
        self.open = False
        self._outgoing = []
        if self._transport is not None:
            self._transport.abort()
        self._fail(RedisConnectionError("Connection closed."))

    def _fail(self, error: Exception) -> None:
        while self._waiting:
            reply = self._waiting.popleft()
            if not reply.done():
                reply.set_exception(error)


def parse_reply(data: bytes, position: int = 0) -> tuple[Any, int] | None:
    """One RESP2 reply starting at `position`: (value, position after it), or None when `data`
    does not hold all of it yet. Bulk strings are bytes, errors `ResponseError` values."""
    end = data.find(b"\r\n", position)
    if end < 0:
        return None
    kind, line = data[position : position + 1], data[position + 1 : end]
    after = end + 2
    if kind == b"$":
        length = int(line)
        if length < 0:
            return None, after
        if len(data) < after + length + 2:
            return None
        return data[after : after + length], after + length + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, after
        items: list[Any] = []
        for _ in range(count):
            parsed = parse_reply(data, after)
            if parsed is None:
                return None
            item, after = parsed
            items.append(item)
        return items, after
    if kind == b"+":
        return line.decode(), after
    if kind == b":":
        return int(line), after
    if kind == b"-":
        # redis-py's own classes: LOADING, NOAUTH, "max number of clients reached" and the like
        # are connection errors (Redis unavailable: SERVICE_UNAVAILABLE), the rest ResponseError.
        error: RedisError = BaseParser.parse_error(line.decode(errors="replace"))  # type: ignore[no-untyped-call]
        return error, after
    raise ValueError(f"unknown RESP type {kind!r}")
