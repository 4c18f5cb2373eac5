"""deploy/kubernetes: every manifest valid for a recent Kubernetes (offline schemas bundled with
kubernetes-validate, strict: unknown fields are errors), and wired together: probes, resources,
secrets by reference, HPAs and PDBs on existing Deployments, NetworkPolicy selectors that select
what the Deployments label."""

from __future__ import annotations

from functools import cache
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.helpers import KUBERNETES, SECRET_NAME, operations_doc

KUBERNETES_VERSION = "1.33.0"
APPS = {"auth", "payments", "admin", "profile", "webhooks", "router"}
SUBGRAPHS = {"auth", "payments", "admin", "profile"}
PROBES = {
    "router": ("/readiness", "/healthcheck"),
    **dict.fromkeys(APPS - {"router"}, ("/readyz", "/healthz")),
}
OTEL_NAMES = {name: f"bff-{name}" for name in APPS}


def manifest_files() -> list[str]:
    return sorted(p.name for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")


@cache
def documents() -> tuple[tuple[str, dict[str, Any]], ...]:
    """(file, document) of every manifest; parsed once (treat as read-only)."""
    found = []
    for name in manifest_files():
        for doc in yaml.safe_load_all((KUBERNETES / name).read_text()):
            if doc:
                found.append((name, doc))
    return tuple(found)


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in documents() if doc["kind"] == kind}


def deployments() -> dict[str, dict[str, Any]]:
    return of_kind("Deployment")


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    """(owner name, pod spec) of every Deployment and Job."""
    specs = [(name, d["spec"]["template"]["spec"]) for name, d in deployments().items()]
    specs += [(name, j["spec"]["template"]["spec"]) for name, j in of_kind("Job").items()]
    return specs


def template_labels() -> list[dict[str, str]]:
    return [d["spec"]["template"]["metadata"]["labels"] for d in deployments().values()]


def selects_some_deployment(selector: dict[str, Any]) -> bool:
    wanted = selector.get("matchLabels") or {}
    assert not selector.get("matchExpressions"), "keep selectors to matchLabels"
    return any(wanted.items() <= labels.items() for labels in template_labels())


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == manifest_files()
    assert kustomization["namespace"] == "payments-bff"
    images = {image["name"] for image in kustomization["images"]}
    for _, spec in pod_specs():
        for container in spec["containers"]:
            assert container["image"].split(":")[0] in images, container["image"]


@pytest.mark.parametrize(
    ("file", "doc"),
    [pytest.param(f, d, id=f"{f}:{d['kind']}/{d['metadata']['name']}") for f, d in documents()],
)
def test_manifest_is_valid_kubernetes(file: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_an_unknown_field() -> None:
    deployment = deployments()["auth"]
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_every_process_has_a_deployment_and_the_migrations_a_job() -> None:
    assert set(deployments()) == APPS
    jobs = of_kind("Job")
    assert len(jobs) == 1
    (job,) = jobs.values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "shared.migrations"]
    assert "DATABASE_URL" in env_of(container)


@pytest.mark.parametrize("name", sorted(APPS))
def test_deployment_has_probes_resources_and_runs_as_non_root(name: str) -> None:
    deployment = deployments()[name]
    spec = deployment["spec"]["template"]["spec"]
    ready, live = PROBES[name]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["automountServiceAccountToken"] is False
    assert deployment["spec"]["selector"]["matchLabels"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )
    for container in spec["containers"]:
        assert container["readinessProbe"]["httpGet"]["path"] == ready
        assert container["livenessProbe"]["httpGet"]["path"] == live
        requests = container["resources"]["requests"]
        assert {"cpu", "memory"} <= set(requests)
        assert "memory" in container["resources"]["limits"]
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        assert env_of(container)["OTEL_SERVICE_NAME"]["value"] == OTEL_NAMES[name]
        assert container["envFrom"] == [{"configMapRef": {"name": "bff-config"}}]


def test_each_process_gets_its_secrets_by_reference() -> None:
    wanted = {
        "auth": {
            "DATABASE_URL",
            "REDIS_URL",
            "ROUTER_HMAC_SECRET",
            "JWT_PRIVATE_KEY",
            "TOTP_ENCRYPTION_KEY",
        },
        "payments": {"DATABASE_URL", "REDIS_URL", "ROUTER_HMAC_SECRET", "RAZORPAY_KEY_SECRET"},
        "admin": {"DATABASE_URL", "REDIS_URL", "ROUTER_HMAC_SECRET"},
        "profile": {"DATABASE_URL", "REDIS_URL", "ROUTER_HMAC_SECRET"},
        "webhooks": {"DATABASE_URL", "REDIS_URL", "RAZORPAY_WEBHOOK_SECRET"},
        "router": {"ROUTER_HMAC_SECRET"},
    }
    for name, variables in wanted.items():
        (container,) = deployments()[name]["spec"]["template"]["spec"]["containers"]
        env = env_of(container)
        for variable in variables:
            assert "secretKeyRef" in env[variable].get("valueFrom", {}), (name, variable)


def test_no_secret_is_inlined() -> None:
    for kind in ("Secret",):
        for name, doc in of_kind(kind).items():
            assert not doc.get("data"), f"Secret {name} has values"
            assert not doc.get("stringData"), f"Secret {name} has values"
    for name, config in of_kind("ConfigMap").items():
        for key in config.get("data", {}):
            assert not SECRET_NAME.search(key), f"ConfigMap {name} holds {key}"
    doc = operations_doc()
    for owner, spec in pod_specs():
        for container in spec["containers"]:
            for variable, entry in env_of(container).items():
                if SECRET_NAME.search(variable):
                    ref = entry.get("valueFrom", {}).get("secretKeyRef")
                    assert ref, f"{owner}.{variable} is not a secretKeyRef"
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == "bff-secrets", (owner, variable)
                    assert f"`{ref['key']}`" in doc, f"key {ref['key']} not in operations.md"


def test_autoscalers_target_existing_deployments() -> None:
    autoscalers = of_kind("HorizontalPodAutoscaler")
    targets = set()
    for name, hpa in autoscalers.items():
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment", name
        assert ref["apiVersion"] == "apps/v1", name
        assert ref["name"] in deployments(), f"HPA {name} targets unknown {ref['name']}"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        targets.add(ref["name"])
    assert targets == APPS


def test_disruption_budgets_and_services_select_deployments() -> None:
    budgets = of_kind("PodDisruptionBudget")
    assert {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for b in budgets.values()
    } == APPS
    for name, budget in budgets.items():
        assert selects_some_deployment(budget["spec"]["selector"]), name
    services = of_kind("Service")
    assert set(services) == APPS
    for name, service in services.items():
        assert selects_some_deployment({"matchLabels": service["spec"]["selector"]}), name
        (container,) = deployments()[name]["spec"]["template"]["spec"]["containers"]
        port_names = {port["name"] for port in container["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, (name, port)


def test_ingress_routes_only_the_router_and_the_webhook_path() -> None:
    (ingress,) = of_kind("Ingress").values()
    services = of_kind("Service")
    routes = {}
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] in services
            assert backend["port"]["name"] in {
                p["name"] for p in services[backend["name"]]["spec"]["ports"]
            }
            routes[path["path"]] = backend["name"]
    assert routes == {"/graphql": "router", "/webhooks/razorpay": "webhooks"}


def policies() -> dict[str, dict[str, Any]]:
    return of_kind("NetworkPolicy")


def test_network_policy_selectors_match_deployment_labels() -> None:
    for name, policy in policies().items():
        selector = policy["spec"]["podSelector"]
        if selector:
            assert selects_some_deployment(selector), f"{name} selects no pod"
        for rule in policy["spec"].get("ingress", []) + policy["spec"].get("egress", []):
            for peer in rule.get("from", []) + rule.get("to", []):
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    assert selects_some_deployment(peer["podSelector"]), f"{name}: {peer}"


def test_default_deny_then_only_the_router_reaches_the_subgraphs() -> None:
    deny = [
        p for p in policies().values()
        if p["spec"]["podSelector"] == {} and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress") and not p["spec"].get("egress")
    ]  # fmt: skip
    assert deny, "no default-deny policy"
    labels = {
        name: d["spec"]["template"]["metadata"]["labels"] for name, d in deployments().items()
    }

    def selected(selector: dict[str, Any]) -> set[str]:
        wanted = (selector.get("matchLabels") or {}).items()
        return {name for name, lab in labels.items() if wanted <= lab.items()}

    # Who may open a connection to each app, from inside the namespace or from elsewhere.
    callers: dict[str, set[str]] = {name: set() for name in labels}
    for policy in policies().values():
        for target in selected(policy["spec"]["podSelector"]):
            for rule in policy["spec"].get("ingress", []):
                for peer in rule.get("from", []):
                    if "namespaceSelector" in peer:
                        namespace = peer["namespaceSelector"]["matchLabels"]
                        callers[target].add("ns:" + namespace["kubernetes.io/metadata.name"])
                    else:
                        callers[target] |= selected(peer["podSelector"])
    # admin reaches every process for its readiness (the systemHealth query).
    for name in SUBGRAPHS - {"auth"}:
        assert callers[name] == {"router", "ns:monitoring", "admin"}, (name, callers[name])
    # auth also serves its JWKS to the other subgraphs (AUTH_JWKS_URL).
    assert callers["auth"] == {"router", "ns:monitoring", *SUBGRAPHS}, callers["auth"]
    assert callers["router"] == {"ns:ingress-nginx", "ns:monitoring", "admin"}
    assert callers["webhooks"] == {"ns:ingress-nginx", "ns:monitoring", "admin"}


def test_apps_may_reach_postgres_and_redis() -> None:
    ports = set()
    for policy in policies().values():
        if selects_some_deployment(policy["spec"]["podSelector"]) and (
            policy["spec"]["podSelector"].get("matchLabels")
            == {"app.kubernetes.io/part-of": "payments-bff"}
        ):
            for rule in policy["spec"].get("egress", []):
                ports |= {p["port"] for p in rule.get("ports", [])}
    assert {5432, 6379} <= ports


def test_profile_avatars_are_on_a_shared_writable_volume() -> None:
    (container,) = deployments()["profile"]["spec"]["template"]["spec"]["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert env_of(container)["AVATAR_DIR"]["value"] in mounts
    claims = of_kind("PersistentVolumeClaim")
    assert "ReadWriteMany" in claims["bff-avatars"]["spec"]["accessModes"]
    assert (
        deployments()["profile"]["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == 10001
    )
