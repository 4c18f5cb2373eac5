"""docker-compose.yml: valid against the compose spec, every variable documented, no secret
default, every service it waits for exists and is healthy first. Hermetic: no Docker engine."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.helpers import (
    COMPOSE_FILE,
    ROOT,
    SECRET_NAME,
    compose,
    env_example_names,
    environment,
    operations_doc,
    services,
)

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
# `${NAME}`, `${NAME:-default}`, `${NAME:?message}`, `${NAME-x}`, `${NAME?x}`, `${NAME:+x}`.
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")

# Long-running processes of the product and the endpoint their healthcheck must call.
APP_HEALTH = {
    "auth": "/readyz",
    "payments": "/readyz",
    "admin": "/readyz",
    "profile": "/readyz",
    "webhooks": "/readyz",
    "router": "/readiness",
    "razorpay-sim": "/healthz",
}
SUBGRAPHS = ("auth", "payments", "admin", "profile")
OTEL_NAMES = {
    "router": "bff-router",
    "auth": "bff-auth",
    "payments": "bff-payments",
    "admin": "bff-admin",
    "profile": "bff-profile",
    "webhooks": "bff-webhooks",
}
# One-shot jobs: compose waits for their exit status, they have no server to check.
JOBS = {"migrate", "seed"}
# The collector's image is distroless (no shell, no HTTP client): it cannot run a healthcheck.
NO_HEALTHCHECK = {"otel-collector"}


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=600,  # a bound against a hang, not a speed check: a loaded CI machine is slow
        check=False,
    )


def test_compose_file_validates_against_the_compose_spec() -> None:
    result = check_compose(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_spec_check_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  app:\n    image: x\n    depends_on: 3\n    helthcheck: {}\n")
    assert check_compose(broken).returncode != 0


def referenced_variables() -> dict[str, list[tuple[str, str]]]:
    """Every `${NAME...}` in the file, with its operator and argument (one entry per use)."""
    found: dict[str, list[tuple[str, str]]] = {}
    lines = COMPOSE_FILE.read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    for name, operator, argument in VARIABLE.findall(text):
        found.setdefault(name, []).append((operator, argument))
    return found


def passed_through() -> set[str]:
    """`NAME:` with no value in an environment mapping: taken from the environment when set."""
    return {
        name
        for service in services().values()
        for name, value in environment(service).items()
        if value is None
    }


def test_every_variable_is_documented_in_env_example_and_operations_doc() -> None:
    names = set(referenced_variables()) | passed_through()
    assert names, "the compose file reads no variable?"
    missing_example = sorted(names - env_example_names())
    assert not missing_example, f"not listed in .env.example: {missing_example}"
    doc = operations_doc()
    missing_doc = sorted(name for name in names if f"`{name}`" not in doc)
    assert not missing_doc, f"not documented in docs/operations.md: {missing_doc}"


def test_secrets_are_required_never_defaulted() -> None:
    for name, uses in referenced_variables().items():
        if not SECRET_NAME.search(name):
            continue
        for operator, argument in uses:
            assert operator == ":?", f"${{{name}}} must be written ${{{name}:?message}}"
            assert argument.strip(), f"${{{name}:?}} needs a message saying what to set"
    for service_name, service in services().items():
        for key, value in environment(service).items():
            if not SECRET_NAME.search(key) or value is None:
                continue
            if key.endswith("_URL") and "@" not in str(value):
                continue  # a URL without credentials (the compose network's Redis)
            assert VARIABLE.search(str(value)), (
                f"{service_name}.{key} is a literal; secrets come from the environment"
            )


def test_env_example_carries_no_secret_value() -> None:
    from tests.deploy.helpers import ENV_EXAMPLE

    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match and SECRET_NAME.search(match.group(1)):
            assert match.group(2) == "", f"{match.group(1)} has a value in .env.example"


def test_every_dependency_exists_and_waits_for_a_healthy_or_finished_service() -> None:
    all_services = services()
    for name, service in all_services.items():
        depends = service.get("depends_on")
        if depends is None:
            continue
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions (a mapping)"
        for target, spec in depends.items():
            assert target in all_services, f"{name} depends on unknown service {target}"
            condition = spec.get("condition")
            if target in JOBS:
                assert condition == "service_completed_successfully", (name, target)
            else:
                assert condition == "service_healthy", (name, target, condition)
                check = all_services[target].get("healthcheck")
                assert check, f"{target} has no healthcheck"
                assert not check.get("disable"), f"{target} has its healthcheck disabled"


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in services().items():
        if name in JOBS:
            assert service.get("restart") == "no", f"job {name} must not restart"
            continue
        if name in NO_HEALTHCHECK:
            continue
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), name
        assert isinstance(check.get("test"), list), name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


@pytest.mark.parametrize(("name", "path"), sorted(APP_HEALTH.items()))
def test_app_healthchecks_call_their_readiness_endpoint(name: str, path: str) -> None:
    check = services()[name]["healthcheck"]
    assert any(path in str(part) for part in check["test"]), check["test"]


def test_the_whole_product_is_there() -> None:
    names = set(services())
    assert {"postgres", "redis", "migrate", "mailpit", "router", "webhooks", *SUBGRAPHS} <= names
    assert {"razorpay-sim", "seed"} <= names
    assert {"otel-collector", "jaeger", "prometheus", "grafana"} <= names


def test_profiles() -> None:
    all_services = services()
    for name in ("razorpay-sim", "seed"):
        assert all_services[name].get("profiles") == ["dev"], name
    for name in ("otel-collector", "jaeger", "prometheus", "grafana"):
        assert all_services[name].get("profiles") == ["observability"], name
    for name in ("postgres", "redis", "mailpit", "migrate", "router", "webhooks", *SUBGRAPHS):
        assert "profiles" not in all_services[name], f"{name} must run without a profile"


def test_apps_wait_for_migrations_and_the_router_for_healthy_subgraphs() -> None:
    all_services = services()
    for name in (*SUBGRAPHS, "webhooks"):
        depends = all_services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
    router = all_services["router"]["depends_on"]
    for name in SUBGRAPHS:
        assert router[name]["condition"] == "service_healthy"
    assert all_services["migrate"]["command"] == ["python", "-m", "shared.migrations"]


def test_every_process_gets_the_standard_otel_variables() -> None:
    for name, otel_name in OTEL_NAMES.items():
        env = environment(services()[name])
        assert env.get("OTEL_SERVICE_NAME") == otel_name, name
        for variable in (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_TRACES_SAMPLER",
            "OTEL_TRACES_SAMPLER_ARG",
            "OTEL_RESOURCE_ATTRIBUTES",
        ):
            assert variable in env, f"{name} does not get {variable}"


def test_processes_get_what_devstack_gives_them() -> None:
    """The settings shared/config.py requires of each process (devtools/devstack.py wires them
    for `make dev`)."""
    all_services = services()
    for name in SUBGRAPHS:
        env = environment(all_services[name])
        for key in ("DATABASE_URL", "REDIS_URL", "ROUTER_HMAC_SECRET", "AUTH_JWKS_URL", "APP_ENV"):
            assert key in env, (name, key)
    auth = environment(all_services["auth"])
    assert {"JWT_PRIVATE_KEY", "TOTP_ENCRYPTION_KEY", "SMTP_HOST", "SMTP_PORT"} <= set(auth)
    for name in SUBGRAPHS:  # every subgraph enforces ADMIN_MFA_REQUIRED (shared/authz.py)
        assert "ADMIN_MFA_REQUIRED" in environment(all_services[name]), name
    assert "mailpit" in auth["SMTP_HOST"]
    payments = environment(all_services["payments"])
    assert {"RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_API_BASE_URL"} <= set(payments)
    assert "razorpay-sim:4010" in payments["RAZORPAY_API_BASE_URL"]
    webhooks = environment(all_services["webhooks"])
    assert {"DATABASE_URL", "REDIS_URL", "RAZORPAY_WEBHOOK_SECRET"} <= set(webhooks)
    simulator = environment(all_services["razorpay-sim"])
    assert simulator["RAZORPAY_WEBHOOK_URLS"] == "http://webhooks:4005/webhooks/razorpay"
    profile = all_services["profile"]
    assert environment(profile)["AVATAR_DIR"] == "/var/lib/bff/avatars"
    assert any(str(v).endswith(":/var/lib/bff/avatars") for v in profile["volumes"])
    router = environment(all_services["router"])
    for name in SUBGRAPHS:
        assert router[f"{name.upper()}_SUBGRAPH_URL"].startswith(f"http://{name}:")
    assert router["ROUTER_HOST"] == "0.0.0.0"
    assert "ROUTER_METRICS_PORT" in router


def test_bind_mounts_and_build_contexts_exist() -> None:
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
        build: Any = service.get("build")
        if isinstance(build, dict):
            assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).is_file()
            for context in (build.get("additional_contexts") or {}).values():
                assert (ROOT / context).is_dir()
    assert (ROOT / "schema" / "supergraph.graphql").is_file()


def test_published_ports_are_local_only() -> None:
    for name, service in services().items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every address"
    assert compose()["name"] == "payments-bff"
