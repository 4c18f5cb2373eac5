"""The Razorpay simulator's ASGI app (development and tests only).

Run: `python -m subgraphs.payments.simulator --port 4010`, or in a test
`create_app(SimulatorSettings(key_secret=..., webhook_secret=..., webhook_urls=[...]))`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from subgraphs.payments.simulator import api, browser, lists, sim_routes
from subgraphs.payments.simulator.errors import install_error_handlers
from subgraphs.payments.simulator.runtime import Simulator
from subgraphs.payments.simulator.settings import SimulatorSettings


def create_app(settings: SimulatorSettings | None = None) -> FastAPI:
    """Build one simulator; raises ConfigurationError when a secret is missing."""
    simulator = Simulator.from_settings(settings or SimulatorSettings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await simulator.webhooks.start()
        try:
            yield
        finally:
            await simulator.webhooks.close()

    app = FastAPI(
        title="Razorpay simulator",
        lifespan=lifespan,
        docs_url="/_sim/docs",
        openapi_url="/_sim/openapi.json",
        redoc_url=None,
    )
    app.state.simulator = simulator
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(lists.router)  # Razorpay's payment and refund lists
    app.include_router(sim_routes.router)
    # Checkout in the browser: checkout.js and the modal's routes, called from the MFE's origin.
    app.include_router(browser.router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=simulator.settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["content-type"],
        max_age=600,
    )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
