"""One multiplexed Redis pub/sub listener per payments process, fanning out to every subscriber.

`LiveUpdates` is a background part of the payments app (`shared.lifetime.Background`). It owns a
small Redis client of its own (a blocking pool of `LIVE_UPDATES_REDIS_MAX_CONNECTIONS`: one
pub/sub connection, the rest for slot accounting and the subscribers' revocation checks), so the
Redis connections a process spends on live updates are constant however many subscribers it
serves, and the app's main pool is never drained by them.

- `open(payment_id, user_id)` takes one of the user's slots (`slots.UserSlots`, at most
  `WS_MAX_SUBSCRIPTIONS_PER_USER` across connections and replicas; RATE_LIMITED beyond) and
  returns a `Feed`: a bounded queue of event ids for that payment's channel.
- Channels are reference-counted: the listener task SUBSCRIBEs a channel when its first feed
  opens and UNSUBSCRIBEs it when its last feed closes, all on the one pub/sub connection.
- Each message is offered to the channel's feeds without waiting: a feed whose queue is full
  (`LIVE_UPDATES_QUEUE_SIZE`) is dropped, and its consumer gets `SlowConsumer`; nothing is
  buffered beyond the queue.
- A feed receives `RESYNC` once its channel is subscribed and again after every reconnection
  (Redis restarted or unreachable: the listener retries with back-off and re-subscribes every
  channel still wanted). An idle connection is probed with PING.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from shared import metrics
from shared.config import PaymentsSettings
from shared.errors import RateLimited
from shared.lifetime import Resources
from shared.outbox import Backoff
from shared.tasks import raise_if_cancelling, retrieve_outcome, stop_tasks
from subgraphs.payments.live.pubsub import RESYNC, Update, decode_update, payment_channel
from subgraphs.payments.live.reads import PaymentReads, RevocationReads
from subgraphs.payments.live.slots import UserSlots

log = logging.getLogger("bff.payments.pubsub")

RETRY_AFTER_SECONDS = 5
REDIS_COMMAND_TIMEOUT_SECONDS = 5.0
READ_CANCEL_GRACE_SECONDS = 1.0
DRAIN_MAX = 1000


class SlowConsumer(RateLimited):
    """The subscriber fell `queue_size` updates behind and was dropped."""

    def __init__(self) -> None:
        super().__init__(
            RETRY_AFTER_SECONDS,
            "This subscription fell too far behind its updates and was ended; subscribe again",
        )


class TooManySubscriptions(RateLimited):
    def __init__(self, scope: str) -> None:
        super().__init__(RETRY_AFTER_SECONDS, f"Too many live subscriptions on this {scope}")


@dataclass(frozen=True)
class LiveConfig:
    per_connection: int = 20
    per_user: int = 50
    slot_ttl_seconds: float = 60.0
    queue_size: int = 32
    redis_max_connections: int = 4
    idle_seconds: float = 15.0  # an idle pub/sub connection is PINGed this often
    backoff_initial: float = 0.2
    backoff_max: float = 5.0

    @classmethod
    def from_settings(cls, settings: PaymentsSettings) -> LiveConfig:
        return cls(
            per_connection=settings.ws_max_subscriptions_per_connection,
            per_user=settings.ws_max_subscriptions_per_user,
            slot_ttl_seconds=settings.ws_subscription_slot_ttl_seconds,
            queue_size=settings.live_updates_queue_size,
            redis_max_connections=settings.live_updates_redis_max_connections,
        )


class Feed:
    """One subscriber's updates: `RESYNC` or event ids, until closed, dropped or stopped."""

    def __init__(
        self, hub: LiveUpdates, channel: str, user_id: uuid.UUID, slot: str, size: int
    ) -> None:
        self.channel = channel
        self.user_id = user_id
        self.slot = slot
        self.queue: asyncio.Queue[Update | None] = asyncio.Queue(size)
        self.dropped = False
        self.ended = False
        self.closed = False
        self._hub = hub

    def offer(self, item: Update) -> bool:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            return False
        return True

    def end(self) -> None:
        self.ended = True
        with suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    def __aiter__(self) -> Feed:
        return self

    async def __anext__(self) -> Update:
        if self.dropped:
            raise SlowConsumer()
        if self.ended:
            raise StopAsyncIteration
        item = await self.queue.get()
        if self.dropped:
            raise SlowConsumer()
        if item is None:
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        await self._hub.close(self)


class LiveUpdates:
    """The process's live-update listener (see the module docstring)."""

    def __init__(self, config: LiveConfig | None = None) -> None:
        self._fixed_config = config
        self.config = config or LiveConfig()
        self._redis: Redis | None = None
        self._pool: BlockingConnectionPool | None = None
        self._slots: UserSlots | None = None
        self._reads: PaymentReads | None = None
        self._revocations: RevocationReads | None = None
        self._feeds: dict[str, set[Feed]] = {}
        self._requested: set[str] = set()  # SUBSCRIBE sent (and no UNSUBSCRIBE since)
        self._active: set[str] = set()  # confirmed on the current connection
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.backoff = Backoff()

    # -- the Background protocol ---------------------------------------------------------------

    async def start(self, resources: Resources) -> None:
        if self._tasks:
            return
        settings = resources.settings
        if self._fixed_config is None and isinstance(settings, PaymentsSettings):
            self.config = LiveConfig.from_settings(settings)
        if not settings.redis_url:
            raise RuntimeError("REDIS_URL must be set for live updates")
        self._pool = BlockingConnectionPool.from_url(
            settings.redis_url,
            max_connections=self.config.redis_max_connections,
            timeout=REDIS_COMMAND_TIMEOUT_SECONDS,
            decode_responses=True,
            socket_connect_timeout=REDIS_COMMAND_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
            client_name=f"{settings.service_name}-live",
        )
        self._redis = Redis(connection_pool=self._pool)
        self._slots = UserSlots(
            self._redis, limit=self.config.per_user, ttl_seconds=self.config.slot_ttl_seconds
        )
        self._reads = PaymentReads(resources.sessionmaker)
        self._revocations = RevocationReads(self._redis)
        self.backoff = Backoff(self.config.backoff_initial, self.config.backoff_max)
        self._changed = asyncio.Event()
        metrics.watch_live_subscriptions("payments", self.live_count)
        self._tasks = [
            asyncio.create_task(self._listen(), name="payments-live-listener"),
            asyncio.create_task(self._heartbeat(), name="payments-live-heartbeat"),
        ]

    async def stop(self) -> None:
        await stop_tasks(*self._tasks)
        self._tasks = []
        for feeds in self._feeds.values():
            for feed in feeds:
                feed.end()
        self._feeds.clear()
        if self._redis is not None:
            await self._redis.aclose()
        if self._pool is not None:
            await self._pool.aclose()
        self._redis = self._pool = self._slots = None
        self._reads = self._revocations = None

    # -- subscribers -----------------------------------------------------------------------------

    @property
    def redis(self) -> Redis:
        """The live-update client (bounded pool): per-event checks of subscribers use it."""
        if self._redis is None:
            raise RuntimeError("live updates are not started")
        return self._redis

    @property
    def reads(self) -> PaymentReads:
        """The subscribers' payment reads: one statement per burst of updates (`reads.py`)."""
        if self._reads is None:
            raise RuntimeError("live updates are not started")
        return self._reads

    @property
    def revocations(self) -> Redis:
        """What `shared.context.ensure_not_revoked` reads revocations from, for subscribers: the
        live-update client, one MGET for every check made meanwhile (`reads.RevocationReads`,
        which offers the one command that check uses)."""
        if self._revocations is None:
            raise RuntimeError("live updates are not started")
        return cast(Redis, self._revocations)

    @property
    def subscriber_count(self) -> int:
        return sum(len(feeds) for feeds in self._feeds.values())

    def live_count(self) -> int:
        """`subscriber_count` as a method (`bff_live_subscriptions` reads it at scrape time)."""
        return self.subscriber_count

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._feeds)

    async def open(self, payment_id: uuid.UUID | str, user_id: uuid.UUID) -> Feed:
        """A feed of the payment's updates; RATE_LIMITED when the user holds every slot."""
        if self._slots is None:
            raise RuntimeError("live updates are not started")
        async with asyncio.timeout(REDIS_COMMAND_TIMEOUT_SECONDS):
            slot = await self._slots.acquire(user_id)
        if slot is None:
            raise TooManySubscriptions("account")
        channel = payment_channel(payment_id)
        feed = Feed(self, channel, user_id, slot, self.config.queue_size)
        self._feeds.setdefault(channel, set()).add(feed)
        if channel in self._requested and channel in self._active:
            feed.offer(RESYNC)  # already listening: re-read once, then every message
        else:
            self._changed.set()
        return feed

    async def close(self, feed: Feed) -> None:
        """Stop delivering to the feed and give its slot back (idempotent)."""
        if feed.closed:
            return
        feed.closed = True
        self._forget(feed)
        if self._slots is not None:
            with suppress(RedisError, OSError, TimeoutError):
                async with asyncio.timeout(REDIS_COMMAND_TIMEOUT_SECONDS):
                    await self._slots.release(feed.user_id, feed.slot)

    def _forget(self, feed: Feed) -> None:
        feeds = self._feeds.get(feed.channel)
        if feeds is None or feed not in feeds:
            return
        feeds.discard(feed)
        if not feeds:
            del self._feeds[feed.channel]
            self._changed.set()

    def _deliver(self, channel: str, item: Update) -> None:
        for feed in list(self._feeds.get(channel, ())):
            if not feed.offer(item):
                feed.dropped = True
                self._forget(feed)
                log.warning(
                    "live updates: slow subscriber dropped",
                    extra={"queue_size": self.config.queue_size},
                )

    # -- the listener ----------------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            raise_if_cancelling()
            pubsub = self.redis.pubsub()
            try:
                await self._serve(pubsub)
            except (RedisError, OSError, TimeoutError) as exc:
                if not self.backoff.failing:
                    log.warning(
                        "live updates: Redis unavailable, resubscribing",
                        extra={"error_type": type(exc).__name__},
                    )
            finally:
                self._requested.clear()
                self._active.clear()
                with suppress(RedisError, OSError, TimeoutError):
                    async with asyncio.timeout(1.0):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(self.backoff.next())

    async def _serve(self, pubsub: PubSub) -> None:
        """One connection's life: keep its channels equal to the wanted ones, read messages."""
        read: asyncio.Future[Any] | None = None
        awaiting_pong = False
        synced = False
        try:
            while True:
                raise_if_cancelling()
                if not synced or self._changed.is_set():
                    self._changed.clear()
                    await self._sync(pubsub)
                    synced = True
                if read is None and (self._requested or self._active):
                    read = asyncio.ensure_future(
                        pubsub.get_message(timeout=self.config.idle_seconds)
                    )
                changed = asyncio.ensure_future(self._changed.wait())
                try:
                    await asyncio.wait(
                        {changed} if read is None else {changed, read},
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    changed.cancel()
                if read is None or not read.done():
                    continue
                message, read = read.result(), None
                if message is not None:
                    awaiting_pong = False
                    self._handle(message)
                    await self._drain(pubsub)
                elif self._requested:
                    if awaiting_pong:
                        raise ConnectionError("the pub/sub connection did not answer PING")
                    awaiting_pong = True
                    await pubsub.ping()
        finally:
            if read is not None and not read.done():
                # A read cancelled inside redis-py may keep waiting for its own timeout (seen:
                # 60 s and more, so `stop()` gave up and the task kept its connection). Wait
                # briefly; closing the pub/sub next (`_listen`) ends it for good.
                read.cancel()
                read.add_done_callback(retrieve_outcome)
                await asyncio.wait({read}, timeout=READ_CANCEL_GRACE_SECONDS)

    async def _drain(self, pubsub: PubSub) -> None:
        """Handle the messages already received (a burst) without a wait each; at most
        `DRAIN_MAX` at a time, so subscription changes are not held back for long."""
        for _ in range(DRAIN_MAX):
            if self._changed.is_set():
                return
            message = await pubsub.get_message(timeout=0.0)
            if message is None:
                return
            self._handle(message)

    async def _sync(self, pubsub: PubSub) -> None:
        wanted = set(self._feeds)
        if added := wanted - self._requested:
            self._requested |= added
            await pubsub.subscribe(*sorted(added))
        if removed := self._requested - wanted:
            self._requested -= removed
            await pubsub.unsubscribe(*sorted(removed))

    def _handle(self, message: Mapping[str, Any]) -> None:
        kind, channel = message.get("type"), message.get("channel")
        if not isinstance(channel, str):
            return
        if kind == "subscribe":
            self._active.add(channel)
            if self.backoff.failing:
                log.info("live updates: subscribed again")
                self.backoff.reset()
            # Anything published before this confirmation was missed: re-read.
            self._deliver(channel, RESYNC)
        elif kind == "unsubscribe":
            self._active.discard(channel)
        elif kind == "message":
            update = decode_update(message.get("data") or "")
            if update is not None:
                self._deliver(channel, update)

    async def _heartbeat(self) -> None:
        """Keep this process's slots alive (they expire `slot_ttl` after it stops)."""
        while True:
            raise_if_cancelling()  # redis-py can swallow the CancelledError of stop()
            await asyncio.sleep(self.config.slot_ttl_seconds / 3)
            held = [(f.user_id, f.slot) for feeds in self._feeds.values() for f in feeds]
            if self._slots is None or not held:
                continue
            try:
                async with asyncio.timeout(REDIS_COMMAND_TIMEOUT_SECONDS):
                    await self._slots.refresh(held)
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning(
                    "live updates: slots not refreshed",
                    extra={"error_type": type(exc).__name__},
                )
