"""The observability profile's files: Prometheus scrapes every /metrics, the alerting rules and
the dashboard parse and use the contract's metric names, the collector's pipelines are wired."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from tests.deploy.helpers import DEPLOY, markdown_anchors, operations_doc

BINDING_METRICS = (
    "bff_graphql_operations_total",
    "bff_graphql_operation_duration_seconds",
    "bff_payment_transitions_total",
    "bff_razorpay_requests_total",
    "bff_razorpay_request_duration_seconds",
    "bff_circuit_breaker_open",
    "bff_webhook_events_total",
    "bff_outbox_pending",
    "bff_live_subscriptions",
)


def load(path: str) -> Any:
    return yaml.safe_load((DEPLOY / path).read_text())


def test_prometheus_scrapes_every_process() -> None:
    config = load("prometheus/prometheus.yml")
    targets = {
        job["job_name"]: {t for static in job["static_configs"] for t in static["targets"]}
        for job in config["scrape_configs"]
    }
    assert targets["auth"] == {"auth:4001"}
    assert targets["payments"] == {"payments:4002"}
    assert targets["admin"] == {"admin:4003"}
    assert targets["profile"] == {"profile:4004"}
    assert targets["webhooks"] == {"webhooks:4005"}
    assert targets["router"] == {"router:9464"}, "the router's metrics port, not :4000"
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def alert_rules() -> list[dict[str, Any]]:
    rules = load("prometheus/alerts.yml")
    return [rule for group in rules["groups"] for rule in group["rules"]]


def test_alerting_rules_parse_and_link_their_runbooks() -> None:
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "alert names are unique"
    anchors = markdown_anchors(operations_doc())
    for rule in rules:
        assert rule["expr"].strip(), rule["alert"]
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s")), rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
        assert rule["annotations"]["runbook_url"].startswith("docs/operations.md#")
        assert anchor in anchors, f"{rule['alert']}: no heading for #{anchor}"


def test_alerts_cover_webhooks_circuit_outbox_and_errors() -> None:
    expressions = " ".join(rule["expr"] for rule in alert_rules())
    for metric in (
        "bff_webhook_events_total",
        "bff_circuit_breaker_open",
        "bff_outbox_pending",
        "bff_graphql_operations_total",
        "http_requests_total",
        "up{",
    ):
        assert metric in expressions, metric


def test_dashboard_uses_the_contract_metrics_and_provisioned_datasources() -> None:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/bff-overview.json").read_text())
    datasources = load("grafana/provisioning/datasources/datasources.yml")["datasources"]
    uids = {source["uid"] for source in datasources}
    expressions = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] in uids, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in uids
            expressions.append(target["expr"])
    text = " ".join(expressions)
    for metric in BINDING_METRICS:
        assert metric in text, f"no panel shows {metric}"
    provider = load("grafana/provisioning/dashboards/dashboards.yml")["providers"][0]
    assert provider["options"]["path"] == "/etc/grafana/dashboards"
    assert {source["type"] for source in datasources} == {"prometheus", "jaeger"}


def test_collector_pipelines_use_defined_components() -> None:
    config = load("otel-collector/config.yaml")
    for pipeline in config["service"]["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in config[kind], f"{component} is not defined under {kind}"
    assert set(config["service"]["extensions"]) <= set(config["extensions"])
    endpoints = config["receivers"]["otlp"]["protocols"]
    assert endpoints["http"]["endpoint"].endswith(":4318")
    assert endpoints["grpc"]["endpoint"].endswith(":4317")
