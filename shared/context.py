"""The typed per-request context every subgraph builds on.

`Principal` is the verified caller. `RequestContext` holds what every request has (caller,
session, Redis, request id). A subgraph's `Context` subclasses `SubgraphContext[XDeps]`: the same
plus `deps`, its app's typed dependencies (a frozen `SubgraphDeps` subclass the app factory is
given or builds from the settings), and its loaders. `shared.app` builds one per HTTP request or
WebSocket connection.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.fastapi import BaseContext

from shared.config import Settings
from shared.errors import DomainError, ServiceUnavailable, Unauthenticated
from shared.key_reads import KeyReads
from shared.outages import is_dependency_failure
from shared.scopes import Role
from shared.tokens import LEEWAY_SECONDS, Claims, TokenVerifier, http_jwks_fetcher

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection


DbAccess = Callable[[], AbstractAsyncContextManager[AsyncSession]]
"""How loaders reach the request's session: `RequestContext.db`."""

VerifierFactory = Callable[[Settings], TokenVerifier]

MFA_METHOD = "otp"
"""The `amr` value of a second factor (a TOTP or a recovery code: both one-time passwords)."""


@dataclass(frozen=True, slots=True)
class Principal:
    id: uuid.UUID
    email: str
    role: Role
    scopes: frozenset[str]
    jti: str
    issued_at: int
    expires_at: int
    session_id: str
    # How the caller signed in (the token's RFC 8176 `amr`): {"pwd"} or {"pwd", "otp"}.
    amr: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def mfa(self) -> bool:
        """The token was issued after a second factor (TOTP or a recovery code)."""
        return MFA_METHOD in self.amr

    @classmethod
    def from_claims(cls, claims: Claims) -> Principal:
        try:
            return cls(
                id=uuid.UUID(claims.sub),
                email=claims.email,
                role=Role(claims.role),
                scopes=claims.scopes,
                jti=claims.jti,
                issued_at=claims.iat,
                expires_at=claims.exp,
                session_id=claims.sid,
                amr=frozenset(claims.amr),
            )
        except ValueError as exc:
            raise Unauthenticated("Invalid token") from exc


def revoked_jti_key(jti: str) -> str:
    return f"revoked:jti:{jti}"


def revoked_session_key(session_id: str) -> str:
    return f"revoked:sid:{session_id}"


def revoked_user_key(user_id: uuid.UUID | str) -> str:
    """Tokens of this user issued at or before the stored timestamp are refused."""
    return f"revoked:user:{user_id}"


class RequestContext(BaseContext):
    """What resolvers see as `info.context`: caller, database session, Redis, request id."""

    def __init__(
        self,
        *,
        request_id: str,
        client_ip: str | None,
        forwarded_ip: str | None = None,
        principal: Principal | None,
        auth_error: DomainError | None,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
    ) -> None:
        super().__init__()
        self.request_id = request_id
        self.peer_ip = client_ip
        self.forwarded_ip = forwarded_ip
        self.principal = principal
        self.auth_error = auth_error
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.router_verified = False
        self._session: AsyncSession | None = None
        self._db_lock = asyncio.Lock()

    @property
    def client_ip(self) -> str | None:
        """The caller's address: the router's `X-Forwarded-For` once the request is known to
        come from the router (HTTP: a valid body signature; WebSocket: a valid router credential),
        else the socket peer. A client talking to a subgraph directly cannot choose it."""
        if self.router_verified and self.forwarded_ip:
            return self.forwarded_ip
        return self.peer_ip

    @client_ip.setter
    def client_ip(self, value: str | None) -> None:
        self.peer_ip = value

    @property
    def session(self) -> AsyncSession:
        """The request's session, opened on first use and closed when the request ends.

        Mutations run one after another and may use it directly; anything a query resolves
        (root fields, loaders) goes through `db()`, because sibling resolvers run concurrently.
        """
        if self._session is None:
            self._session = self.sessionmaker()
        return self._session

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        """The request's session, one coroutine at a time: an AsyncSession is one connection
        and must not serve two sibling resolvers at once."""
        async with self._db_lock:
            yield self.session

    @asynccontextmanager
    async def new_session(self) -> AsyncIterator[AsyncSession]:
        """A session of its own, for work that outlives one request (subscription events)."""
        async with self.sessionmaker() as session:
            yield session

    def require_principal(self) -> Principal:
        if self.auth_error is not None:
            raise self.auth_error
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@dataclass(frozen=True, kw_only=True)
class SubgraphDeps:
    """What a subgraph app is built with besides its settings, and what tests replace. Each
    subgraph subclasses it (`AuthDeps`, `PaymentsDeps`, ...) in its `context.py`."""

    # How access tokens are verified; None: auth's JWKS over HTTP (`AUTH_JWKS_URL`).
    verifier_factory: VerifierFactory | None = None

    def token_verifier(self, settings: Settings) -> TokenVerifier:
        if self.verifier_factory is not None:
            return self.verifier_factory(settings)
        return TokenVerifier(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            fetch_jwks=http_jwks_fetcher(settings.auth_jwks_url),
        )

    def close(self) -> None:
        """Release what the deps hold (called once the app has stopped)."""


DepsT = TypeVar("DepsT", bound=SubgraphDeps)


class SubgraphContext(RequestContext, Generic[DepsT]):
    """A subgraph's context: the shared request parts plus its app's typed `deps`."""

    def __init__(self, *, deps: DepsT, **parts: Any) -> None:
        super().__init__(**parts)
        self.deps = deps


def bearer_token(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(
    authorization: Any, *, verifier: TokenVerifier, redis: Redis | KeyReads
) -> tuple[Principal | None, DomainError | None]:
    """The caller named by an Authorization value: (principal, None), (None, error) or anonymous."""
    if authorization is None or authorization == "":
        return None, None
    token = bearer_token(authorization)
    if token is None:
        return None, Unauthenticated("Invalid authorization header")
    try:
        principal = Principal.from_claims(await verifier.verify(token))
    except Unauthenticated as exc:
        return None, exc
    try:
        await ensure_not_revoked(principal, redis)
    except Unauthenticated as exc:
        return None, exc
    except Exception as exc:
        # Redis down or too slow: answered as SERVICE_UNAVAILABLE by the request guard.
        if not is_dependency_failure(exc):
            raise
        return None, ServiceUnavailable()
    return principal, None


async def ensure_not_revoked(principal: Principal, redis: Redis | KeyReads) -> None:
    """Raise UNAUTHENTICATED when the token expired or was revoked (token, session or user).

    Checked once per request, and again on every event of a long-lived subscription."""
    if time.time() >= principal.expires_at + LEEWAY_SECONDS:
        raise Unauthenticated("Token expired")
    revoked_jti, revoked_session, revoked_before = await redis.mget(
        revoked_jti_key(principal.jti),
        revoked_session_key(principal.session_id or "-"),
        revoked_user_key(principal.id),
    )
    if revoked_jti is not None or revoked_session is not None:
        raise Unauthenticated("Token revoked")
    if revoked_before is not None and principal.issued_at <= int(revoked_before):
        raise Unauthenticated("Token revoked")


def client_ip(connection: HTTPConnection) -> str | None:
    """The socket peer's address (for a request through the router: the router's)."""
    return connection.client.host if connection.client else None


def forwarded_ip(connection: HTTPConnection) -> str | None:
    """The first `X-Forwarded-For` entry: the client as the router saw it. Trusted only for
    router-verified requests (`RequestContext.client_ip`)."""
    forwarded = connection.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[0].strip()[:64] or None
    return None
