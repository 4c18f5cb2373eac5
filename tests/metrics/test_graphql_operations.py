"""`bff_graphql_operations_total` and `bff_graphql_operation_duration_seconds` in every subgraph:
counted per operation with bounded labels, scraped from the app's own /metrics."""

from __future__ import annotations

import uuid

from shared.ops import LABELLED_PATHS
from shared.scopes import Role
from tests.helpers import Subgraph
from tests.metrics.conftest import KNOWN_OPERATION
from tests.metrics.scrape import scrape

OPS = "bff_graphql_operations_total"
DURATION_COUNT = "bff_graphql_operation_duration_seconds_count"


def op(service: str, kind: str, outcome: str, name: str = "other") -> dict[str, str]:
    return {
        "service": service,
        "operation_type": kind,
        "operation_name": name,
        "outcome": outcome,
    }


async def test_a_query_and_a_failing_mutation_are_counted(shop: Subgraph) -> None:
    customer = shop.caller(Role.CUSTOMER)
    before = await scrape(shop.client)

    listed = await shop.gql("query MyPayments { payments { totalCount } }", as_=customer)
    refused = await shop.gql(
        "mutation Cancel($id: ID!) { cancelPayment(id: $id) { id } }",
        {"id": str(uuid.uuid4())},
        as_=customer,
    )
    after = await scrape(shop.client)

    assert "errors" not in listed, listed
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    query_ok = op("payments", "query", "success")
    mutation_failed = op("payments", "mutation", "error")
    assert after.value(OPS, **query_ok) == before.value(OPS, **query_ok) + 1
    assert after.value(OPS, **mutation_failed) == before.value(OPS, **mutation_failed) + 1
    for kind in ("query", "mutation"):
        labels = {"service": "payments", "operation_type": kind}
        assert after.value(DURATION_COUNT, **labels) == before.value(DURATION_COUNT, **labels) + 1
    # The client's names are not on the allow-list: never a label.
    assert "MyPayments" not in after.label_values("bff_")["operation_name"]
    assert "Cancel" not in after.label_values("bff_")["operation_name"]


async def test_operations_refused_before_execution_count_as_errors(shop: Subgraph) -> None:
    before = await scrape(shop.client)
    unsigned = await shop.gql("query Unsigned { payments { totalCount } }", signed=False)
    invalid = await shop.gql("query Invalid { noSuchField }")
    unparsable = await shop.gql("query {")
    after = await scrape(shop.client)

    assert unsigned["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert invalid["errors"]
    assert unparsable["errors"]
    # Refused before parsing (unsigned, unparsable): its type is unknown, hence `other`.
    query_failed = op("payments", "query", "error")
    unknown_failed = op("payments", "other", "error")
    assert after.value(OPS, **query_failed) == before.value(OPS, **query_failed) + 1
    assert after.value(OPS, **unknown_failed) == before.value(OPS, **unknown_failed) + 2


async def test_only_allow_listed_operation_names_become_labels(named_admin: Subgraph) -> None:
    admin = named_admin.caller(Role.ADMIN)
    query = "{ systemConfig { key } }"
    before = await scrape(named_admin.client)
    known = await named_admin.gql(f"query {KNOWN_OPERATION} {query}", as_=admin)
    unknown = await named_admin.gql(f"query NotOnTheList {query}", as_=admin)
    anonymous = await named_admin.gql(query, as_=admin)
    after = await scrape(named_admin.client)

    assert all("errors" not in r for r in (known, unknown, anonymous)), (known, unknown)
    named = op("admin", "query", "success", KNOWN_OPERATION)
    other = op("admin", "query", "success")
    assert after.value(OPS, **named) == before.value(OPS, **named) + 1
    assert after.value(OPS, **other) == before.value(OPS, **other) + 2
    assert "NotOnTheList" not in after.label_values("bff_")["operation_name"]


async def test_random_names_paths_and_users_never_create_label_values(
    shop: Subgraph, named_admin: Subgraph
) -> None:
    """However many different operation names, URLs, query strings and users arrive, the set of
    series stays the same: every label value comes from a fixed list."""

    async def noise(round_: int) -> list[str]:
        sent = []
        for i in range(15):
            marker = f"r{round_}x{i}{uuid.uuid4().hex[:8]}"
            sent.append(marker)
            caller = shop.caller(Role.CUSTOMER)  # a new user id every time
            await shop.gql(f"query Op{marker} {{ payments {{ totalCount }} }}", as_=caller)
            await shop.gql(f'mutation M{marker} {{ cancelPayment(id: "{marker}") {{ id }} }}')
            await shop.client.get(f"/{marker}?user={caller.id}&q={marker}")
            await shop.client.post(f"/graphql?{marker}=1", json={"query": f"{{ {marker} }}"})
            await named_admin.gql(f"query Q{marker} {{ systemConfig {{ key }} }}")
        return sent

    await noise(0)  # every (bounded) series these requests can touch now exists
    settled_shop = (await scrape(shop.client)).series()
    settled_admin = (await scrape(named_admin.client)).series()
    markers = await noise(1)
    shop_after = await scrape(shop.client)
    admin_after = await scrape(named_admin.client)

    assert shop_after.series() - settled_shop == set()
    assert admin_after.series() - settled_admin == set()
    for scraped in (shop_after, admin_after):
        text = repr(scraped.samples)
        assert not any(marker in text for marker in markers)
        bff = scraped.label_values("bff_graphql_")
        # One registry per process: other tests' apps (auth, profile, ...) count here too.
        assert bff["service"] <= {"auth", "payments", "admin", "profile", "webhooks"}
        assert bff["operation_type"] <= {"query", "mutation", "subscription", "other"}
        assert bff["operation_name"] <= {"other", KNOWN_OPERATION}
        assert bff["outcome"] <= {"success", "error"}
        assert scraped.label_values("http_requests")["path"] <= {*LABELLED_PATHS, "other"}
