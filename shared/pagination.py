"""Relay connections with keyset pagination, shared by every subgraph that lists things.

A list is ordered by `(created_at DESC, id DESC)`; a cursor is the opaque, URL-safe base64 of one
row's position in that order, so a page never skips or repeats rows when rows are inserted
between requests. `first` must be 1..100 (BAD_USER_INPUT, field `first`); a cursor that does not
decode is BAD_USER_INPUT, field `after`. `totalCount` counts every row the filter matches (not just
the rest of the list) and is queried only when selected.

Usage in a subgraph (the generic types are named after the node: `PaymentConnection`,
`PaymentEdge`):

    page = PageRequest.from_args(first=first, after=after)
    rows = await repo.list(..., after=page.after, limit=page.fetch_size)
    return build_connection(rows, page, node=to_type, key=lambda r: (r.created_at, r.id),
                            total_count=lambda: repo.count(...))
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import ColumnElement, Integer, Select, bindparam, desc, tuple_
from sqlalchemy.orm import QueryableAttribute

from shared.errors import BadUserInput
from shared.on_read import made_on_read

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S", bound=tuple[Any, ...])

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_CURSOR_PREFIX = "k1:"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_URLSAFE = bytes.maketrans(b"+/", b"-_")  # what `base64.urlsafe_b64encode` translates
_new = object.__new__

# The two paging arguments of every list field, described once.
First = Annotated[
    int | None,
    strawberry.argument(description="Page size: 1 to 100 (else BAD_USER_INPUT, field `first`)."),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Continue after this cursor: the previous page's pageInfo.endCursor; leave "
        "out for the first page. An unreadable cursor is BAD_USER_INPUT (field `after`)."
    ),
]


@strawberry.federation.type(shareable=True, description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more elements follow: ask again with after = endCursor."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether this page was asked for with a cursor (elements come before it)."
    )
    start_cursor: str | None = strawberry.field(
        description="Cursor of the page's first element; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the page's last element: pass it as after for the next page; "
        "null when the page is empty."
    )


# A `PageInfo` of `build_connection`: its cursors read from the page's first and last edge
# (encoded once, on first read).
made_on_read(
    PageInfo,
    "_edges",
    {
        "start_cursor": lambda info, edges: edges[0].cursor,
        "end_cursor": lambda info, edges: edges[-1].cursor,
    },
)


@strawberry.type(description="One element of a connection and the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this element in the list.")
    node: T = strawberry.field(description="The element.")


# An `Edge` of `build_connection`: its cursor encoded on first read from the row's position
# (most queries never select a cursor).
made_on_read(Edge, "_row", {"cursor": lambda edge, row: encode_cursor(*edge.__dict__["_key"](row))})


async def _total_count(root: Connection[Any]) -> int:
    return await root._count()


@strawberry.type(description="A page of a list, Relay style.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="This page's elements, in list order.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    total_count: int = strawberry.field(
        resolver=_total_count,
        description="How many elements the whole list (all pages) has; queried when selected.",
    )
    _count: strawberry.Private[Callable[[], Awaitable[int]]]


@dataclass(frozen=True, slots=True)
class Keyset:
    """A row's position in `(created_at DESC, id DESC)` order."""

    created_at: datetime
    id: uuid.UUID


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    """Opaque to clients: base64url of `k1:<microseconds since the epoch, UTC>:<uuid hex>`."""
    if created_at.tzinfo is None:
        raise ValueError("cursor timestamps must be timezone-aware")
    micros = (created_at - _EPOCH) // _MICROSECOND
    raw = f"{_CURSOR_PREFIX}{micros}:{row_id.int:032x}"  # `:032x` of the int is `row_id.hex`
    # `base64.urlsafe_b64encode` without its two Python-level calls.
    encoded = binascii.b2a_base64(raw.encode(), newline=False).translate(_URLSAFE)
    return encoded.rstrip(b"=").decode()


def decode_cursor(cursor: str, *, field: str = "after") -> Keyset:
    invalid = BadUserInput("Invalid cursor", field=field)
    if not cursor or len(cursor) > 200:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise invalid
        stamp, _, ident = raw[len(_CURSOR_PREFIX) :].partition(":")
        if not stamp.lstrip("-").isdigit() or len(ident) != 32:
            raise invalid
        created_at = _EPOCH + timedelta(microseconds=int(stamp))
        row_id = uuid.UUID(hex=ident)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise invalid from exc
    return Keyset(created_at, row_id)


def validate_first(first: int, *, field: str = "first") -> int:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}", field=field)
    return first


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int
    after: Keyset | None

    @classmethod
    def from_args(
        cls, *, first: int | None, after: str | None, default: int = DEFAULT_PAGE_SIZE
    ) -> PageRequest:
        """From a field's `first: Int = 20, after: String` (an explicit null `first` = default)."""
        return cls(
            first=validate_first(default if first is None else first),
            after=decode_cursor(after) if after is not None else None,
        )

    @property
    def fetch_size(self) -> int:
        """Rows to fetch: one more than the page, to know whether another page follows."""
        return self.first + 1


Column = ColumnElement[Any] | QueryableAttribute[Any]


def keyset_before(
    created_at: Column, row_id: Column, after: Keyset | None
) -> ColumnElement[bool] | None:
    """The SQL condition selecting rows after the cursor in `(created_at DESC, id DESC)` order."""
    if after is None:
        return None
    return tuple_(created_at, row_id) < tuple_(after.created_at, after.id)


def keyset_page(
    statement: Select[S], created_at: Column, row_id: Column, after: Keyset | None, limit: int
) -> Select[S]:
    """`statement` narrowed to one page of `limit` rows in `(created_at DESC, id DESC)` order,
    starting after the cursor: the one way every listing pages."""
    condition = keyset_before(created_at, row_id, after)
    if condition is not None:
        statement = statement.where(condition)
    return statement.order_by(desc(created_at), desc(row_id)).limit(limit)


AFTER_CREATED_AT = "after_created_at"
AFTER_ID = "after_id"
LIMIT = "limit"


def keyset_page_bound(
    statement: Select[S], created_at: Column, row_id: Column, *, after: bool
) -> Select[S]:
    """`keyset_page` with named bind parameters instead of values (`keyset_params` gives them):
    a statement built once per shape and reused, so neither it nor its SQL is rebuilt per
    request."""
    if after:
        position = tuple_(
            bindparam(AFTER_CREATED_AT, type_=created_at.type),
            bindparam(AFTER_ID, type_=row_id.type),
        )
        statement = statement.where(tuple_(created_at, row_id) < position)
    return statement.order_by(desc(created_at), desc(row_id)).limit(
        bindparam(LIMIT, type_=Integer())
    )


def keyset_params(after: Keyset | None, limit: int) -> dict[str, Any]:
    """The values of `keyset_page_bound`'s parameters."""
    params: dict[str, Any] = {LIMIT: limit}
    if after is not None:
        params[AFTER_CREATED_AT] = after.created_at
        params[AFTER_ID] = after.id
    return params


def build_connection(
    rows: Sequence[R],
    page: PageRequest,
    *,
    node: Callable[[R], T],
    key: Callable[[R], tuple[datetime, uuid.UUID]],
    total_count: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """A connection from up to `page.fetch_size` rows fetched in keyset order.

    A cursor is encoded when it is first read (`Edge.cursor`, `PageInfo.startCursor` and
    `endCursor`), not for every row: most queries select none, or only `endCursor`. The edges
    and the page info are the same types with the same values on read."""
    edges: list[Edge[T]] = []
    append = edges.append
    for row in rows[: page.first]:
        edge: Edge[T] = _new(Edge)
        edge.__dict__ = {"node": node(row), "_key": key, "_row": row}
        append(edge)
    page_info: PageInfo = _new(PageInfo)
    page_info.__dict__ = {
        "has_next_page": len(rows) > page.first,
        "has_previous_page": page.after is not None,
    }
    if edges:
        page_info.__dict__["_edges"] = edges
    else:
        page_info.__dict__.update(start_cursor=None, end_cursor=None)
    return Connection(edges=edges, page_info=page_info, _count=total_count)
