"""Assembles the profile subgraph schema."""

from __future__ import annotations

from shared.scalars import SCALAR_OVERRIDES
from shared.schema import SubgraphSchema, build_schema
from subgraphs.profile.mutations import Mutation
from subgraphs.profile.policies import POLICIES
from subgraphs.profile.queries import Query
from subgraphs.profile.types import User


def create_schema(router_secret: str | None) -> SubgraphSchema:
    return build_schema(
        query=Query,
        mutation=Mutation,
        types=(User,),
        policies=POLICIES,
        router_secret=router_secret,
        scalar_overrides=SCALAR_OVERRIDES,
    )
