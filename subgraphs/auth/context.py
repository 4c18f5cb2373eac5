"""The auth subgraph's request context and what its app is built with (`AuthDeps`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.config import AuthSettings, Settings
from shared.context import SubgraphContext, SubgraphDeps, VerifierFactory
from shared.tokens import TokenVerifier
from subgraphs.auth.loaders import Loaders
from subgraphs.auth.runtime import AuthRuntime


@dataclass(frozen=True, kw_only=True)
class AuthDeps(SubgraphDeps):
    """Auth's runtime (settings, signing keys, password hasher, limits, mail wake-up)."""

    runtime: AuthRuntime

    @classmethod
    def from_settings(
        cls, settings: AuthSettings, *, verifier_factory: VerifierFactory | None = None
    ) -> AuthDeps:
        return cls(runtime=AuthRuntime.create(settings), verifier_factory=verifier_factory)

    def token_verifier(self, settings: Settings) -> TokenVerifier:
        if self.verifier_factory is not None:
            return super().token_verifier(settings)
        jwks = self.runtime.keys.jwks

        async def local_jwks() -> dict[str, Any]:
            return jwks

        # Auth verifies its own tokens with its own keys: no HTTP round trip to itself.
        return TokenVerifier(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            fetch_jwks=local_jwks,
            min_refetch_seconds=0,
        )


class Context(SubgraphContext[AuthDeps]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaders = Loaders(self.db)

    @property
    def runtime(self) -> AuthRuntime:
        return self.deps.runtime
