"""`shared.key_reads.KeyReads`: the requests' revocation reads pipelined on a connection of their
own read what the client reads, each its own answer, and survive a lost connection."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from redis.exceptions import BusyLoadingError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.key_reads import KeyReads, parse_reply
from shared.outages import is_dependency_failure
from shared.redis import create_redis
from tests.conftest import Infra

REPLIES = [
    (b"*3\r\n$-1\r\n$5\r\nh\xc3\xa9ll\r\n$0\r\n\r\n", [None, "héll".encode(), b""]),
    (b"+OK\r\n", "OK"),
    (b":42\r\n", 42),
    (b"$-1\r\n", None),
    (b"*0\r\n", []),
    (b"*2\r\n*1\r\n:1\r\n$2\r\nab\r\n", [[1], b"ab"]),
]


def test_a_reply_is_read_only_once_all_of_it_arrived() -> None:
    for data, value in REPLIES:
        for cut in range(len(data)):
            assert parse_reply(data[:cut]) is None, (data, cut)
        assert parse_reply(data) == (value, len(data))
        assert parse_reply(b"xx" + data + b"+next\r\n", 2) == (value, len(data) + 2)


def test_an_error_reply_is_a_response_error_value() -> None:
    parsed = parse_reply(b"-WRONGTYPE Operation against a key\r\n")
    assert parsed is not None
    error, _ = parsed
    assert isinstance(error, ResponseError)
    assert str(error) == "WRONGTYPE Operation against a key"


@pytest.fixture
async def reads(redis: Redis) -> AsyncIterator[KeyReads]:
    reads = KeyReads(redis)
    try:
        yield reads
    finally:
        await reads.aclose()


async def test_concurrent_reads_each_get_their_own_values(redis: Redis, reads: KeyReads) -> None:
    prefix = uuid.uuid4().hex
    keys = [f"test:reads:{prefix}:{i}" for i in range(60)]
    for i, key in enumerate(keys[::2]):
        await redis.set(key, f"v{i}é", ex=60)
    asked = [(keys[i], keys[i + 1], keys[(i * 7) % len(keys)]) for i in range(len(keys) - 1)]
    answers = await asyncio.gather(*(reads.mget(*three) for three in asked))
    for three, answer in zip(asked, answers, strict=True):
        assert answer == await redis.mget(*three)
    assert answers[0][0] == "v0é"


async def test_a_read_sees_a_write_that_finished_before_it(redis: Redis, reads: KeyReads) -> None:
    key = f"test:reads:{uuid.uuid4().hex}"
    assert await reads.mget(key) == [None]
    await redis.set(key, "revoked", ex=60)
    assert await reads.mget(key) == ["revoked"]


async def test_the_database_of_the_url_is_read(infra: Infra) -> None:
    other = create_redis(infra.redis_url.rstrip("/") + "?db=3")
    reads = KeyReads(other)
    key = f"test:reads:{uuid.uuid4().hex}"
    try:
        await other.set(key, "in db 3", ex=60)
        assert await reads.mget(key) == ["in db 3"]
    finally:
        await reads.aclose()
        await other.aclose()


async def test_a_connection_the_server_closed_is_replaced(redis: Redis, reads: KeyReads) -> None:
    key = f"test:reads:{uuid.uuid4().hex}"
    await redis.set(key, "1", ex=60)
    assert await reads.mget(key) == ["1"]
    mine = [c for c in await redis.client_list() if c.get("name") == "bff-key-reads"]
    assert mine
    for client in mine:
        await redis.client_kill_filter(_id=client["id"])
    assert await reads.mget(key) == ["1"]  # retried on a fresh connection


async def test_reads_made_in_one_turn_of_the_loop_go_out_in_one_write(
    redis: Redis, reads: KeyReads
) -> None:
    key = f"test:reads:{uuid.uuid4().hex}"
    await redis.set(key, "1", ex=60)
    assert await reads.mget(key) == ["1"]  # connected
    protocol = reads._protocol
    assert protocol is not None
    assert protocol._transport is not None
    transport = protocol._transport
    writes: list[bytes] = []
    write = transport.write

    def counted(data: bytes | bytearray | memoryview) -> None:
        writes.append(bytes(data))
        write(data)

    protocol._transport = cast(Any, SimpleNamespace(write=counted, abort=transport.abort))
    try:
        answers = await asyncio.gather(*(reads.mget(key, f"{key}:{i}") for i in range(20)))
    finally:
        protocol._transport = transport
    assert answers == [["1", None]] * 20
    assert len(writes) == 1
    assert writes[0].count(b"MGET") == 20


class FakeRedis:
    """A TCP server speaking just enough RESP for these tests: `answers(command)` gives the raw
    reply to each command (None: no answer ever, a paused Redis whose kernel still accepts)."""

    def __init__(self, answers: Any) -> None:
        self.answers = answers
        self.accepted = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}/0"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        buffer = b""
        try:
            while data := await reader.read(65536):
                buffer += data
                while (parsed := parse_reply(buffer)) is not None:
                    command, position = parsed
                    buffer = buffer[position:]
                    reply = self.answers([part.decode() for part in command])
                    if reply is not None:
                        writer.write(reply)
        finally:
            writer.close()


@asynccontextmanager
async def reads_of(server: FakeRedis, timeout: float = 2) -> AsyncIterator[KeyReads]:
    """`KeyReads` of a client of `server` (both timeouts `timeout`), closed afterwards."""
    async with server as url:
        client = create_redis(url, socket_timeout=timeout, connect_timeout=timeout)
        reads = KeyReads(client)
        try:
            yield reads
        finally:
            await reads.aclose()
            await client.aclose()


async def test_callers_of_a_redis_that_does_not_answer_share_one_connection_attempt() -> None:
    # Each caller making its own attempt, one after another, made the k-th wait k timeouts.
    server = FakeRedis(lambda command: None)
    async with reads_of(server, timeout=0.2) as reads:
        outcomes = await asyncio.gather(
            *(reads.mget("a", "b") for _ in range(20)), return_exceptions=True
        )
    assert all(isinstance(o, RedisTimeoutError) for o in outcomes), outcomes
    assert server.accepted == 1
    assert all(is_dependency_failure(cast(BaseException, o)) for o in outcomes)


async def test_a_redis_still_loading_its_data_is_a_dependency_failure() -> None:
    def answers(command: list[str]) -> bytes:
        if command[0] == "MGET":
            return b"-LOADING Redis is loading the dataset in memory\r\n"
        return b"+OK\r\n"

    async with reads_of(FakeRedis(answers)) as reads:
        with pytest.raises(BusyLoadingError) as raised:
            await reads.mget("a")
    assert is_dependency_failure(raised.value)  # SERVICE_UNAVAILABLE, as through redis-py


async def test_a_refused_client_name_does_not_stop_the_reads() -> None:
    def answers(command: list[str]) -> bytes:
        if command[0] == "CLIENT":
            return b"-NOPERM this user has no permissions to run the 'client' command\r\n"
        return b"*1\r\n$1\r\n1\r\n"

    async with reads_of(FakeRedis(answers)) as reads:
        assert await reads.mget("a") in ([b"1"], ["1"])


async def test_no_connection_is_opened_once_closed(redis: Redis) -> None:
    reads = KeyReads(redis)
    await reads.mget("a")
    await reads.aclose()
    with pytest.raises(RedisConnectionError):
        await reads.mget("a")
