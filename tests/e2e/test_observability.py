"""Through the whole stack: the ADMIN `systemHealth` query sees every process and dependency, and
one operation through the router is counted by the router and by the subgraph that served it."""

from __future__ import annotations

from tests.e2e.conftest import Client
from tests.metrics.scrape import Scrape, parse

HEALTH = """{ systemHealth { status checkedAt
  components { name kind status latencyMs version details } } }"""
PROCESSES = ["router", "auth", "payments", "admin", "profile", "webhooks"]


async def test_system_health_sees_the_whole_stack(client: Client) -> None:
    admin = await client.login("admin@example.com")
    result = await client.gql(HEALTH, token=admin)

    assert "errors" not in result, result
    health = result["data"]["systemHealth"]
    components = {c["name"]: c for c in health["components"]}
    assert list(components) == [*PROCESSES, "postgresql", "redis", "razorpay"]
    # DEGRADED only when a check is slow (a loaded machine); nothing is down.
    assert health["status"] in ("UP", "DEGRADED"), health
    for name, component in components.items():
        assert component["status"] in ("UP", "DEGRADED"), (name, component)
    for name in ("auth", "payments", "admin", "profile", "webhooks"):
        assert components[name]["version"], name
    assert components["payments"]["details"]["razorpay"] == {
        "configured": True,
        "circuit": "closed",
    }
    assert components["razorpay"]["status"] == "UP"
    assert isinstance(components["payments"]["details"]["liveSubscriptions"], int)
    assert isinstance(components["redis"]["details"]["deadLetters"], int)


async def scrape(client: Client, target: str) -> Scrape:
    path_target = "router_metrics" if target == "router" else target
    response = await client.http.get(client.stack.url(path_target, "/metrics"))
    assert response.status_code == 200
    return parse(response.text)


async def test_an_operation_is_counted_by_the_router_and_the_subgraph(client: Client) -> None:
    customer = await client.login("customer@example.com")
    labels = {"operation_type": "query", "operation_name": "other", "outcome": "success"}
    name = "bff_graphql_operations_total"
    router_before = await scrape(client, "router")
    payments_before = await scrape(client, "payments")

    result = await client.gql("query Mine { payments { totalCount } }", token=customer)
    router_after = await scrape(client, "router")
    payments_after = await scrape(client, "payments")

    assert "errors" not in result, result
    router_ok = {"service": "router", **labels}
    payments_ok = {"service": "payments", **labels}
    assert router_after.value(name, **router_ok) == router_before.value(name, **router_ok) + 1
    assert (
        payments_after.value(name, **payments_ok) >= payments_before.value(name, **payments_ok) + 1
    )
