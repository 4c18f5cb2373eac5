"""The admin subgraph's ASGI app.

Run: `uvicorn --factory subgraphs.admin.app:create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from shared.app import create_subgraph_app
from shared.config import AdminSettings, admin_settings
from shared.consumers import service_events
from subgraphs.admin.consumers import CONSUMERS, SCHEMA
from subgraphs.admin.context import AdminDeps, Context
from subgraphs.admin.health import AbandonedChecks
from subgraphs.admin.schema import create_schema


def create_app(settings: AdminSettings | None = None, *, deps: AdminDeps | None = None) -> FastAPI:
    settings = settings or admin_settings()
    return create_subgraph_app(
        settings=settings,
        schema_factory=create_schema,
        context_class=Context,
        deps=deps or AdminDeps.from_settings(settings),
        background=[AbandonedChecks(), *service_events(SCHEMA, CONSUMERS)],
    )
