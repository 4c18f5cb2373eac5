"""The consumers end to end: a registration creates the profile, a deleted user's open payments
are cancelled and their avatar file removed, and an ADMIN sees the dead-letter stream through
`deadLetters`."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.config import AdminSettings
from shared.consumers import ConsumerRunner
from shared.outbox import OutboxRelay, add_event
from shared.scopes import Role
from shared.tokens import SigningKeys, generate_private_key_pem
from subgraphs.admin.app import create_app as create_admin_app
from subgraphs.admin.consumers import AUDIT
from subgraphs.admin.context import AdminDeps
from subgraphs.auth import service as auth_service
from subgraphs.auth.runtime import AuthRuntime
from subgraphs.payments.consumers import USER_DELETIONS
from subgraphs.payments.enums import PaymentStatus as S
from subgraphs.payments.models import Payment
from subgraphs.profile.avatar_store import AvatarStore
from subgraphs.profile.consumers import PROFILES, avatar_removals
from subgraphs.profile.models import Profile
from tests.auth.support import auth_settings
from tests.events.test_consumers import envelope
from tests.helpers import ROUTER_SECRET, app_client, error_codes, gql, make_caller, verifier_factory
from tests.payments.factories import insert_payment


async def user_deleted(session: AsyncSession, *, user: uuid.UUID, admin: uuid.UUID) -> uuid.UUID:
    """What auth writes when an ADMIN deletes `user` (user administration is auth's): the
    `admin:user:deleted` event, to `events:auth`."""
    return await add_event(
        session,
        schema="auth",
        type="admin:user:deleted",
        actor_id=admin,
        data={"userId": str(user)},
    )


async def test_a_registration_creates_the_default_profile_once(
    events_db: str,
    engine: AsyncEngine,
    rd: Redis,
    redis_url: str,
    make_relay: Callable[..., OutboxRelay],
    make_runner: Callable[..., ConsumerRunner],
) -> None:
    settings = auth_settings(
        database_url=events_db, redis_url=redis_url, private_pem=generate_private_key_pem()
    )
    runtime = AuthRuntime.create(settings)
    email = f"ev-{uuid.uuid4().hex[:10]}@example.com"
    async with AsyncSession(engine, expire_on_commit=False) as session:
        issued = await auth_service.register(
            session=session,
            runtime=runtime,
            redis=rd,
            client_ip="203.0.113.5",
            email=email,
            password="Tr0ub4dor&3-horse",
            name="Ada Events",
            role=Role.CUSTOMER,
        )
    assert issued is not None
    async with engine.connect() as conn:
        user_id = await conn.scalar(
            text("SELECT id FROM auth.users WHERE email = :e"), {"e": email}
        )
    assert user_id is not None

    assert await make_relay("auth").drain() >= 1
    runner = make_runner(PROFILES)
    await runner.drain()
    assert runner.applied == 1
    async with AsyncSession(engine) as session:
        profile = await session.get(Profile, user_id)
        assert profile is not None
        assert (profile.phone, profile.bio, profile.preferences) == (None, None, {})
        profile.bio = "written by the user"
        await session.commit()

    # A duplicate delivery (same event id) is skipped; another group that never saw it applies
    # it, and ON CONFLICT DO NOTHING leaves the user's profile alone.
    [(_, fields)] = [
        e for e in await rd.xrange("events:auth") if e[1]["type"] == "auth:user:registered"
    ]
    await rd.xadd("events:auth", fields)
    await runner.drain()
    assert runner.applied == 1
    fresh = make_runner(dataclasses.replace(PROFILES, name="profiles-replay"))
    await fresh.drain()
    assert fresh.applied == 1
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT bio FROM profile.profiles WHERE user_id = :u"), {"u": user_id}
            )
        ).all()
    assert [r.bio for r in rows] == ["written by the user"]


async def test_the_open_payments_of_a_deleted_user_are_cancelled(
    engine: AsyncEngine,
    rd: Redis,
    make_relay: Callable[..., OutboxRelay],
    make_runner: Callable[..., ConsumerRunner],
) -> None:
    user, vendor, other, admin = (uuid.uuid4() for _ in range(4))
    async with AsyncSession(engine, expire_on_commit=False) as session:
        open_ones = [
            await insert_payment(session, created_by=user, status=S.PENDING),
            await insert_payment(session, created_by=user, status=S.PROCESSING),
            await insert_payment(session, created_by=user, status=S.FAILED),
            await insert_payment(session, created_by=vendor, payer_id=user, status=S.INITIATED),
        ]
        settled = [
            await insert_payment(session, created_by=user, status=S.COMPLETED),
            await insert_payment(session, created_by=user, status=S.CANCELLED),
        ]
        someone_else = await insert_payment(session, created_by=other, status=S.PENDING)

    async with AsyncSession(engine) as session, session.begin():
        event_id = await user_deleted(session, user=user, admin=admin)
    assert await make_relay("auth").drain() == 1
    runner = make_runner(USER_DELETIONS)
    await runner.drain()
    assert runner.applied == 1

    async def statuses() -> dict[uuid.UUID, str]:
        ids = [p.id for p in [*open_ones, *settled, someone_else]]
        async with AsyncSession(engine) as session:
            rows = await session.execute(
                select(Payment.id, Payment.status).where(Payment.id.in_(ids))
            )
            return {row.id: row.status for row in rows}

    after = await statuses()
    assert {after[p.id] for p in open_ones} == {S.CANCELLED}
    assert [after[p.id] for p in settled] == [S.COMPLETED, S.CANCELLED]
    assert after[someone_else.id] == S.PENDING

    async with engine.connect() as conn:
        events = (
            await conn.execute(
                text(
                    "SELECT actor_id, data FROM payments.outbox_events "
                    "WHERE type = 'payments:payment:updated' AND data->>'paymentId' = ANY(:ids)"
                ),
                {"ids": [str(p.id) for p in open_ones]},
            )
        ).all()
        reasons = await conn.scalar(
            text(
                "SELECT count(*) FROM payments.payment_transactions WHERE to_status = 'CANCELLED' "
                "AND details->>'reason' = 'user_deleted' AND details->>'eventId' = :e"
            ),
            {"e": str(event_id)},
        )
    assert len(events) == 4
    assert {e.actor_id for e in events} == {admin}
    assert {e.data["status"] for e in events} == {"CANCELLED"}
    assert reasons == 4

    # Redelivered: nothing more happens.
    [(_, fields)] = await rd.xrange("events:auth")
    await rd.xadd("events:auth", fields)
    await runner.drain()
    assert runner.applied == 1


async def test_an_admin_sees_dead_letters_and_nobody_else_does(
    events_db: str, rd: Redis, redis_url: str, make_runner: Callable[..., ConsumerRunner]
) -> None:
    poison = envelope("admin:" + "y" * 70)
    await rd.xadd("events:admin", poison)  # type: ignore[arg-type]
    runner = make_runner(AUDIT)
    for _ in range(200):
        await runner.run_once(block_ms=20)
        if runner.parked:
            break
    assert runner.parked == 1

    keys = SigningKeys(generate_private_key_pem())
    settings = AdminSettings(
        app_env="test",
        database_url=events_db,
        redis_url=redis_url,
        router_hmac_secret=ROUTER_SECRET,
        log_json=False,
        log_level="WARNING",
    )
    query = """query($first: Int, $after: String) { deadLetters(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id consumer stream eventId type errorType attempts parkedAt event } }
    } }"""
    async with app_client(
        create_admin_app(settings, deps=AdminDeps(verifier_factory=verifier_factory(keys)))
    ) as client:
        admin = make_caller(keys, settings, Role.ADMIN)
        result = await gql(client, query, {"first": 5}, token=admin.token)
        assert "errors" not in result, result
        page = result["data"]["deadLetters"]
        [node] = [e["node"] for e in page["edges"] if e["node"]["eventId"] == poison["id"]]
        assert node["consumer"] == "admin:audit"
        assert node["stream"] == "events:admin"
        assert node["attempts"] == 3
        assert node["type"] == poison["type"]
        assert node["event"] == poison
        assert page["totalCount"] >= 1
        assert page["edges"][-1]["cursor"] == page["pageInfo"]["endCursor"]

        following = await gql(
            client, query, {"first": 5, "after": page["pageInfo"]["endCursor"]}, token=admin.token
        )
        assert following["data"]["deadLetters"]["edges"] == []
        bad = await gql(client, query, {"first": 0}, token=admin.token)
        assert error_codes(bad) == ["BAD_USER_INPUT"]
        for role in (Role.CUSTOMER, Role.VENDOR):
            caller = make_caller(keys, settings, role)
            refused = await gql(client, query, {}, token=caller.token)
            assert error_codes(refused) == ["FORBIDDEN"]
            assert refused["data"] is None
        anonymous = await gql(client, query, {})
        assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_a_deleted_users_avatar_file_is_removed(
    engine: AsyncEngine,
    rd: Redis,
    tmp_path: Path,
    make_relay: Callable[..., OutboxRelay],
    make_runner: Callable[..., ConsumerRunner],
) -> None:
    store = AvatarStore(tmp_path / "avatars")
    user, other, admin = (uuid.uuid4() for _ in range(3))
    keys = {u: await store.save(b"pixels of " + u.bytes) for u in (user, other)}
    async with AsyncSession(engine) as session, session.begin():
        for u in (user, other):
            session.add(
                Profile(
                    user_id=u,
                    avatar_key=keys[u],
                    preferences={},
                    created_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC),
                )
            )
        await user_deleted(session, user=user, admin=admin)
    assert await make_relay("auth").drain() == 1
    runner = make_runner(avatar_removals(store))
    await runner.drain()
    assert runner.applied == 1

    removed, kept = store.path_of(keys[user]), store.path_of(keys[other])
    assert removed is not None
    assert kept is not None
    assert not removed.exists()
    assert kept.exists()
    async with AsyncSession(engine) as session:
        stored = {u: await session.get(Profile, u) for u in (user, other)}
    assert {u: p.avatar_key if p else "missing" for u, p in stored.items()} == {
        user: None,
        other: keys[other],
    }

    # Redelivered, or for a user without a profile: nothing happens, nothing fails.
    [(_, fields)] = await rd.xrange("events:auth")
    await rd.xadd("events:auth", fields)
    async with AsyncSession(engine) as session, session.begin():
        await user_deleted(session, user=uuid.uuid4(), admin=admin)
    assert await make_relay("auth").drain() == 1
    await runner.drain()
    assert runner.applied == 2
    assert runner.parked == 0
