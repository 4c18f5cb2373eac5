"""Without `OTEL_EXPORTER_OTLP_ENDPOINT` nothing of OpenTelemetry is installed: no SDK provider,
no exporter, no middleware, no GraphQL tracing extension, no trace ids in logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from shared.config import REPO_ROOT

PROBE = """
import json, logging, sys
from opentelemetry import trace
from shared import telemetry
from shared.logging import JsonFormatter
from subgraphs.profile.app import create_app
app = create_app()
schema = app.state.schema
record = logging.LogRecord("x", logging.INFO, "probe", 1, "hello", (), None)
print(json.dumps({
    "provider": type(trace.get_tracer_provider()).__name__,
    "enabled": telemetry.enabled(),
    "middleware": [m.cls.__name__ for m in app.user_middleware],
    "extensions": [getattr(e, "__name__", type(e).__name__) for e in schema.extensions],
    "exporter_loaded": any(m.startswith("opentelemetry.exporter") for m in sys.modules),
    "log": json.loads(JsonFormatter("profile").format(record)),
}))
"""


SETUP_ONLY = """
import json
from shared import telemetry
print(json.dumps({"enabled": telemetry.setup("bff-probe")}))
"""


def probe(code: str = PROBE, **env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**clean, "APP_ENV": "test", "REQUIRE_ROUTER_SIGNATURE": "false", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_no_endpoint_installs_nothing() -> None:
    result = probe()
    assert result["provider"] == "ProxyTracerProvider"  # the API's no-op default
    assert result["enabled"] is False
    assert result["exporter_loaded"] is False
    assert "OpenTelemetryMiddleware" not in result["middleware"]
    assert "GraphQLTracing" not in result["extensions"]
    # The access log's operation name is recorded by the one operation extension (with the
    # guard and the caches); nothing of tracing.
    assert result["extensions"] == ["OperationMetrics", "SubgraphOperation"]
    log = result["log"]
    assert isinstance(log, dict)
    assert log["trace_id"] is None
    assert log["span_id"] is None


def test_an_endpoint_installs_the_sdk_and_the_instrumentation() -> None:
    # The same probe with only the standard variables set (nothing listens there: spans are
    # batched and nothing is sent during the probe).
    result = probe(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_SERVICE_NAME="probe")
    assert result["provider"] == "TracerProvider"
    assert result["enabled"] is True
    assert result["exporter_loaded"] is True
    assert "GraphQLTracing" in result["extensions"]


def test_disabled_sdk_or_unsupported_protocol_installs_nothing() -> None:
    endpoint = "http://127.0.0.1:9"
    assert probe(SETUP_ONLY, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)["enabled"] is True
    off = probe(SETUP_ONLY, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SDK_DISABLED="true")
    assert off["enabled"] is False
    grpc = probe(
        SETUP_ONLY, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="grpc"
    )
    assert grpc["enabled"] is False
