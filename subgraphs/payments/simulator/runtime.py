"""One simulator instance: its settings, state, webhook dispatcher and injected faults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from subgraphs.payments.simulator.faults import FaultInjector
from subgraphs.payments.simulator.settings import SimulatorSettings
from subgraphs.payments.simulator.store import Store
from subgraphs.payments.simulator.webhooks import RetryPolicy, WebhookDispatcher, WebhookOptions


@dataclass
class Simulator:
    settings: SimulatorSettings
    key_secret: str
    store: Store
    webhooks: WebhookDispatcher
    faults: FaultInjector

    @classmethod
    def from_settings(cls, settings: SimulatorSettings) -> Simulator:
        key_secret, webhook_secret = settings.require_secrets()
        retry = RetryPolicy(
            max_attempts=settings.webhook_max_attempts,
            backoff_base_s=settings.webhook_backoff_base_s,
            backoff_max_s=settings.webhook_backoff_max_s,
            timeout_s=settings.webhook_timeout_s,
        )
        return cls(
            settings=settings,
            key_secret=key_secret,
            store=Store(state_file=settings.state_file, auto_capture=settings.auto_capture),
            webhooks=WebhookDispatcher(
                secret=webhook_secret,
                account_id=settings.account_id,
                retry=retry,
                defaults=WebhookOptions.from_settings(settings),
            ),
            faults=FaultInjector(),
        )


def get_simulator(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]
