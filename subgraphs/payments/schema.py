"""Assembles the payments subgraph schema."""

from __future__ import annotations

from shared.scalars import SCALAR_OVERRIDES
from shared.schema import SubgraphSchema, build_schema, direct_input
from subgraphs.payments.inputs import PaymentFilter
from subgraphs.payments.mutations import Mutation
from subgraphs.payments.policies import POLICIES
from subgraphs.payments.queries import Query
from subgraphs.payments.subscriptions import Subscription
from subgraphs.payments.types import Payment, User

# The list query's filter, built without Strawberry's generic argument conversion.
direct_input(PaymentFilter)


def create_schema(router_secret: str | None) -> SubgraphSchema:
    return build_schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=(Payment, User),
        policies=POLICIES,
        router_secret=router_secret,
        scalar_overrides=SCALAR_OVERRIDES,
    )
