"""`shared.key_reads.KeyReads`: the requests' revocation reads pipelined on a connection of their
own read what the client reads, each its own answer, and survive a lost connection."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.key_reads import KeyReads, parse_reply
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
