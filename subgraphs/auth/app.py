"""The auth subgraph application (run: `uvicorn --factory subgraphs.auth.app:create_app`)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.routing import Route

from shared.app import create_subgraph_app
from shared.config import AuthSettings, auth_settings
from shared.outbox import RelayTask
from subgraphs.auth.context import AuthDeps, Context
from subgraphs.auth.mailer import MailerTask
from subgraphs.auth.schema import create_schema

JWKS_PATH = "/.well-known/jwks.json"
JWKS_CACHE_CONTROL = "public, max-age=300"


def create_app(settings: AuthSettings | None = None, *, deps: AuthDeps | None = None) -> FastAPI:
    settings = settings or auth_settings()
    deps = deps or AuthDeps.from_settings(settings)
    jwks = deps.runtime.keys.jwks

    async def jwks_endpoint(request: Request) -> JSONResponse:
        return JSONResponse(jwks, headers={"Cache-Control": JWKS_CACHE_CONTROL})

    return create_subgraph_app(
        settings=settings,
        schema_factory=create_schema,
        context_class=Context,
        deps=deps,
        background=(MailerTask(deps.runtime), RelayTask("auth")),  # events:auth (shared.outbox)
        routes=(Route(JWKS_PATH, jwks_endpoint, methods=["GET"]),),
    )
