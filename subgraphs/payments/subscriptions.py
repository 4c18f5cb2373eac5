"""`Subscription.paymentUpdated`: a payment's status changes, pushed as they are committed.

Authorised when the subscription starts: the field's directives (`@authenticated`, scope
`payments:read`) and the same visibility rule as `payment(id)` (payer, payee, creator or ADMIN;
anyone else, or an unknown id: NOT_FOUND, and the subscription ends with that `error`). Then
each update announced on the payment's Redis channel (`live/pubsub.py`) is re-read and pushed
when its status or `updatedAt` changed. The re-reads (and revocation checks) of every subscriber
of this process woken meanwhile are one statement (one MGET): `live/reads.py`; each subscriber
checks its own visibility on the row. The subscription ends with
UNAUTHENTICATED when the caller's token expires or is revoked, and with RATE_LIMITED when it fell
`LIVE_UPDATES_QUEUE_SIZE` updates behind (`live/hub.py`). At most
`WS_MAX_SUBSCRIPTIONS_PER_CONNECTION` live subscriptions per connection (counted on the
connection's context) and `WS_MAX_SUBSCRIPTIONS_PER_USER` per user (Redis slots, every replica):
the one beyond is refused with RATE_LIMITED.

Over WebSocket the context is per connection (the principal comes from `connection_init`, see
`shared.app.SubgraphGraphQL.on_ws_connect`): nothing here keeps the connection's session open.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Annotated

import strawberry
from opentelemetry.trace import SpanKind
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from shared import telemetry
from shared.context import Principal, ensure_not_revoked
from shared.errors import Unauthenticated
from subgraphs.payments import access, service
from subgraphs.payments.context import Context
from subgraphs.payments.live.hub import Feed, TooManySubscriptions
from subgraphs.payments.models import Payment as PaymentRow
from subgraphs.payments.types import READ, Payment


def _selects_history(info: Info[Context, None]) -> bool:
    """Whether the subscription selects `transactions` (directly or in a fragment)."""
    pending: list[Selection] = list(info.selected_fields)
    seen_root = False
    while pending:
        node = pending.pop()
        if isinstance(node, SelectedField):
            if seen_root and node.name == "transactions":
                return True
            if not seen_root and node.name == "paymentUpdated":
                seen_root = True
                pending = list(node.selections)
                continue
            if seen_root:
                continue
        pending.extend(getattr(node, "selections", ()))
    return False


async def _reload(
    context: Context, principal: Principal, payment_id: uuid.UUID, *, history: bool
) -> PaymentRow:
    """The payment as committed now (read once for every subscriber of this process that asked
    meanwhile: `live.reads`), if the caller may still see it; its history primed for the
    `transactions` field when selected."""
    read = await context.deps.live.reads.read(payment_id, history=history)
    row = access.require_visible(principal, read.row)
    # The connection's loaders live as long as the connection: drop what an earlier event cached.
    loader = context.loaders.transactions_by_payment_id
    loader.clear(payment_id)
    if read.history is not None:
        loader.prime(payment_id, read.history)
    return row


async def _release_connection_session(context: Context) -> None:
    """The event has been resolved: close the session a field may have opened through the
    connection's context, or it would stay checked out (idle in transaction) for as long as
    the WebSocket lives. Under `db()`'s lock, so no sibling operation is using it."""
    async with context.db():
        await context.close()


async def _updates(
    context: Context, principal: Principal, row: PaymentRow, feed: Feed, *, history: bool
) -> AsyncGenerator[Payment, None]:
    last: tuple[str, datetime] = (row.status, row.updated_at)
    deadline = asyncio.get_running_loop().time() + max(0.0, principal.expires_at - time.time())
    revocations = context.deps.live.revocations  # one MGET for the checks made meanwhile
    while True:
        # The first item comes once subscribed: a change committed since `row` was read is
        # pushed then, so none is missed. (The deadline never spans a `yield`.)
        try:
            async with asyncio.timeout_at(deadline):
                update = await anext(feed)
        except TimeoutError:
            raise Unauthenticated("Token expired") from None
        except StopAsyncIteration:
            return  # the process is stopping
        # Linked to the trace that changed the payment (a webhook's, a mutation's); ends before
        # the `yield` (a span must not stay current across it).
        with telemetry.linked_span(
            "paymentUpdated push", [update.traceparent], kind=SpanKind.INTERNAL
        ):
            await ensure_not_revoked(principal, revocations)
            current = await _reload(context, principal, row.id, history=history)
        if (current.status, current.updated_at) == last:
            continue  # already pushed (a duplicate delivery, or no visible change)
        last = (current.status, current.updated_at)
        yield Payment.from_row(current)
        await _release_connection_session(context)


class LiveSubscription:
    """What the resolver returns: the updates, and the subscription's slots (the connection's and
    the user's), given back when it is closed, even if it never started."""

    def __init__(self, context: Context, updates: AsyncGenerator[Payment, None], feed: Feed):
        self._context = context
        self._updates = updates
        self._feed = feed
        self._closed = False

    def __aiter__(self) -> LiveSubscription:
        return self

    async def __anext__(self) -> Payment:
        return await anext(self._updates)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._updates.aclose()
        finally:
            self._context.live_subscriptions -= 1
            await self._feed.aclose()


async def subscribe_payment_updated(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="The payment to watch.")],
) -> AsyncIterator[Payment]:
    context = info.context
    principal = context.require_principal()
    payment_id = service.parse_id(str(id), field="id")
    live = context.deps.live
    if context.live_subscriptions >= live.config.per_connection:
        raise TooManySubscriptions("connection")
    await ensure_not_revoked(principal, live.revocations)
    row = access.require_visible(principal, (await live.reads.read(payment_id)).row)
    context.live_subscriptions += 1
    try:
        feed = await live.open(row.id, principal.id)
    except BaseException:
        context.live_subscriptions -= 1
        raise
    updates = _updates(context, principal, row, feed, history=_selects_history(info))
    return LiveSubscription(context, updates, feed)


@strawberry.type(
    description="Live updates over WebSocket (graphql-transport-ws at the router's /graphql); "
    'authenticate in connection_init: {"Authorization": "Bearer <accessToken>"}.'
)
class Subscription:
    payment_updated = strawberry.federation.field(
        resolver=subscribe_payment_updated,
        is_subscription=True,
        description=(
            "The payment each time its status changes (payer, payee, creator or ADMIN; else "
            "NOT_FOUND). Over graphql-transport-ws; ends when the token expires."
        ),
        authenticated=True,
        requires_scopes=READ,
    )
