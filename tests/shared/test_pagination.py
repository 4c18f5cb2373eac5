"""Relay connections: cursors, `first` bounds, page assembly."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, DateTime, MetaData, Table, select
from sqlalchemy.dialects import postgresql

from shared.errors import BadUserInput
from shared.pagination import (
    MAX_PAGE_SIZE,
    Edge,
    Keyset,
    PageInfo,
    PageRequest,
    build_connection,
    decode_cursor,
    encode_cursor,
    keyset_before,
    validate_first,
)


def test_cursor_round_trip_is_exact_and_opaque() -> None:
    row_id = uuid.uuid4()
    moment = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)
    cursor = encode_cursor(moment, row_id)
    assert str(row_id) not in cursor
    assert "2024" not in cursor
    assert "=" not in cursor
    assert "/" not in cursor
    assert "+" not in cursor
    assert decode_cursor(cursor) == Keyset(moment, row_id)
    ist = timezone(timedelta(hours=5, minutes=30))
    other = decode_cursor(encode_cursor(moment.astimezone(ist), row_id))
    assert other.created_at == moment
    early = datetime(1960, 1, 1, tzinfo=UTC)
    assert decode_cursor(encode_cursor(early, row_id)).created_at == early
    with pytest.raises(ValueError, match="timezone"):
        encode_cursor(datetime(2024, 1, 1), row_id)


def _reference_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    """The cursor format, spelt out: base64url of `k1:<microseconds since the epoch>:<hex>`."""
    micros = (created_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    raw = f"k1:{micros}:{row_id.hex}"
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [
                UTC,
                timezone(timedelta(hours=5, minutes=30)),
                timezone(timedelta(hours=-11, minutes=-15)),
            ]
        ),
    ),
    ident=st.integers(min_value=0, max_value=2**128 - 1),
)
def test_cursor_is_the_documented_format_and_decodes(moment: datetime, ident: int) -> None:
    row_id = uuid.UUID(int=ident)
    cursor = encode_cursor(moment, row_id)
    assert cursor == _reference_cursor(moment, row_id)
    assert decode_cursor(cursor) == Keyset(moment, row_id)


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "x" * 201,
        _b64("k2:1:" + "0" * 32),
        _b64("k1:abc:" + "0" * 32),
        _b64("k1:1:" + "0" * 31),
        _b64("k1:1:" + "z" * 32),
        _b64("k1:" + "9" * 40 + ":" + "0" * 32),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_bad_cursors_are_bad_user_input_on_after(cursor: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        decode_cursor(cursor)
    assert caught.value.extensions == {"field": "after"}


def test_first_bounds() -> None:
    assert validate_first(1) == 1
    assert validate_first(MAX_PAGE_SIZE) == MAX_PAGE_SIZE
    for bad in (0, -1, MAX_PAGE_SIZE + 1):
        with pytest.raises(BadUserInput) as caught:
            validate_first(bad)
        assert caught.value.extensions == {"field": "first"}
    assert PageRequest.from_args(first=None, after=None).first == 20
    assert PageRequest.from_args(first=None, after=None, default=50).first == 50
    assert PageRequest.from_args(first=5, after=None).fetch_size == 6


async def test_build_connection_pages() -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [(base - timedelta(seconds=i), uuid.uuid4()) for i in range(4)]

    async def total() -> int:
        return 42

    page = PageRequest.from_args(first=3, after=None)
    connection = build_connection(
        rows, page, node=lambda r: str(r[1]), key=lambda r: r, total_count=total
    )
    assert [e.node for e in connection.edges] == [str(r[1]) for r in rows[:3]]
    assert connection.page_info.has_next_page is True
    assert connection.page_info.has_previous_page is False
    assert connection.page_info.end_cursor == encode_cursor(*rows[2])
    assert await connection.total_count() == 42

    after = PageRequest.from_args(first=3, after=connection.page_info.end_cursor)
    last = build_connection(rows[3:], after, node=lambda r: r, key=lambda r: r, total_count=total)
    assert last.page_info.has_next_page is False
    assert last.page_info.has_previous_page is True
    empty = build_connection([], after, node=lambda r: r, key=lambda r: r, total_count=total)
    assert empty.edges == []
    assert empty.page_info.start_cursor is None
    assert empty.page_info.end_cursor is None


async def test_cursors_are_encoded_on_first_read_with_the_same_values() -> None:
    base = datetime(2024, 1, 1, 12, 30, 15, 123456, tzinfo=UTC)
    rows = [(base - timedelta(seconds=i), uuid.uuid4()) for i in range(5)]
    reads: list[tuple[datetime, uuid.UUID]] = []

    def key(row: tuple[datetime, uuid.UUID]) -> tuple[datetime, uuid.UUID]:
        reads.append(row)
        return row

    async def total() -> int:
        return 5

    page = PageRequest.from_args(first=4, after=None)
    connection = build_connection(rows, page, node=lambda r: r[1], key=key, total_count=total)
    assert reads == []  # nothing encoded until a cursor is read
    assert all(type(edge) is Edge for edge in connection.edges)
    assert type(connection.page_info) is PageInfo
    assert [edge.node for edge in connection.edges] == [r[1] for r in rows[:4]]
    assert connection.page_info.end_cursor == encode_cursor(*rows[3])
    assert reads == [rows[3]]
    cursors = [edge.cursor for edge in connection.edges]
    assert cursors == [encode_cursor(*row) for row in rows[:4]]
    assert [decode_cursor(c) for c in cursors] == [Keyset(*row) for row in rows[:4]]
    assert connection.page_info.start_cursor == cursors[0]
    assert connection.edges[1].cursor is cursors[1]  # read once, then kept
    assert len(reads) == 4  # each edge's position once; start/end reuse the edges' cursors
    # The same objects as if built with every value: equality, repr, the page's flags.
    expected = [Edge(cursor=encode_cursor(*row), node=row[1]) for row in rows[:4]]
    assert connection.edges == expected
    assert repr(connection.edges[0]) == repr(expected[0])
    assert connection.page_info == PageInfo(
        has_next_page=True,
        has_previous_page=False,
        start_cursor=cursors[0],
        end_cursor=cursors[-1],
    )
    with pytest.raises(AttributeError):
        getattr(connection.edges[0], "nothing")  # noqa: B009
    with pytest.raises(AttributeError):
        getattr(connection.page_info, "nothing")  # noqa: B009


def test_keyset_condition_sql() -> None:
    table = Table(
        "t",
        MetaData(),
        Column("created_at", DateTime(timezone=True)),
        Column("id", postgresql.UUID()),
    )
    assert keyset_before(table.c.created_at, table.c.id, None) is None
    condition = keyset_before(
        table.c.created_at, table.c.id, Keyset(datetime.now(UTC), uuid.uuid4())
    )
    assert condition is not None
    sql = str(select(table).where(condition).compile(dialect=postgresql.dialect()))
    assert "(t.created_at, t.id) < (" in sql
