"""The auth subgraph application (run: `uvicorn --factory subgraphs.auth.app:create_app`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.routing import Route

from shared.app import Resources, create_subgraph_app
from shared.config import AuthSettings, Settings, auth_settings
from shared.outbox import relay_hooks
from shared.tokens import TokenVerifier
from subgraphs.auth.context import bind_context
from subgraphs.auth.mailer import MailSender
from subgraphs.auth.runtime import AuthRuntime
from subgraphs.auth.schema import create_schema

JWKS_PATH = "/.well-known/jwks.json"
JWKS_CACHE_CONTROL = "public, max-age=300"


def create_app(settings: AuthSettings | None = None, runtime: AuthRuntime | None = None) -> FastAPI:
    settings = settings or auth_settings()
    runtime = runtime or AuthRuntime.create(settings)
    jwks = runtime.keys.jwks

    async def jwks_endpoint(request: Request) -> JSONResponse:
        return JSONResponse(jwks, headers={"Cache-Control": JWKS_CACHE_CONTROL})

    async def local_jwks() -> dict[str, Any]:
        return jwks

    def verifier_factory(_settings: Settings) -> TokenVerifier:
        # Auth verifies its own tokens with its own keys: no HTTP round trip to itself.
        return TokenVerifier(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            fetch_jwks=local_jwks,
            min_refetch_seconds=0,
        )

    async def start_mailer(resources: Resources) -> None:
        sender = MailSender(runtime, resources.sessionmaker)
        resources.extra["mail_sender"] = sender
        sender.start()

    async def stop_mailer(resources: Resources) -> None:
        sender: MailSender | None = resources.extra.pop("mail_sender", None)
        if sender is not None:
            await sender.stop()

    start_relay, stop_relay = relay_hooks("auth")  # events:auth (shared.outbox)
    return create_subgraph_app(
        settings=settings,
        schema_factory=create_schema,
        context_class=bind_context(runtime),
        verifier_factory=verifier_factory,
        on_startup=(start_mailer, start_relay),
        on_shutdown=(stop_mailer, stop_relay),
        routes=(Route(JWKS_PATH, jwks_endpoint, methods=["GET"]),),
    )
