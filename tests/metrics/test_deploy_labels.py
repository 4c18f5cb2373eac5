"""The Prometheus alerts and the Grafana dashboard select `bff_*` series by label values the code
emits: a value no code path produces would leave an alert silent forever."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from shared import metrics
from shared.config import REPO_ROOT

ALERTS = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "dashboards" / "bff-overview.json"

STATUSES = metrics.PAYMENT_STATUSES | {metrics.OTHER}
ALLOWED: dict[str, dict[str, frozenset[str]]] = {
    "bff_graphql_operations_total": {
        "service": metrics.SERVICES,
        "operation_type": metrics.OPERATION_TYPES | {metrics.OTHER},
        "outcome": metrics.GRAPHQL_OUTCOMES,
    },
    "bff_graphql_operation_duration_seconds": {
        "service": metrics.SERVICES,
        "operation_type": metrics.OPERATION_TYPES | {metrics.OTHER},
    },
    "bff_payment_transitions_total": {"from_status": STATUSES, "to_status": STATUSES},
    "bff_razorpay_requests_total": {
        "operation": metrics.RAZORPAY_OPERATIONS | {metrics.OTHER},
        "outcome": metrics.RAZORPAY_OUTCOMES | {metrics.OTHER},
    },
    "bff_razorpay_request_duration_seconds": {
        "operation": metrics.RAZORPAY_OPERATIONS | {metrics.OTHER}
    },
    "bff_circuit_breaker_open": {"circuit": metrics.CIRCUITS | {metrics.OTHER}},
    "bff_webhook_events_total": {
        "event_type": metrics.WEBHOOK_EVENT_TYPES | {metrics.OTHER},
        "outcome": metrics.WEBHOOK_DELIVERY_OUTCOMES | metrics.WEBHOOK_APPLY_OUTCOMES,
    },
    "bff_outbox_pending": {"service": metrics.SERVICES},
    "bff_live_subscriptions": {"service": metrics.SERVICES},
}
SELECTOR = re.compile(r"(bff_[a-z_]+?)(?:_bucket|_count|_sum)?\{([^}]*)\}")
MATCHER = re.compile(r'([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"')


def expressions() -> Iterator[str]:
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            yield rule["expr"]

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "expr" and isinstance(value, str):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    yield from walk(json.loads(DASHBOARD.read_text()))


def used_values() -> list[tuple[str, str, str]]:
    found = []
    for expr in expressions():
        for family, selector in SELECTOR.findall(expr):
            for label, _op, value in MATCHER.findall(selector):
                if "$" in value:  # a Grafana variable
                    continue
                for literal in value.split("|"):
                    found.append((family, label, literal))
    return found


def test_the_deploy_files_select_bff_series() -> None:
    families = {family for family, _, _ in used_values()}
    assert {"bff_webhook_events_total", "bff_graphql_operations_total"} <= families


@pytest.mark.parametrize(("family", "label", "value"), sorted(set(used_values())))
def test_every_selected_label_value_is_one_the_code_emits(
    family: str, label: str, value: str
) -> None:
    assert family in ALLOWED, family
    assert value in ALLOWED[family][label], (family, label, value)
