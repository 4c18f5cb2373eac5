"""Assembles the admin subgraph schema."""

from __future__ import annotations

from strawberry.tools import merge_types

from shared.scalars import SCALAR_OVERRIDES
from shared.schema import SubgraphSchema, build_schema
from subgraphs.admin.dead_letters import DeadLetterQuery
from subgraphs.admin.mutations import Mutation
from subgraphs.admin.queries import Query
from subgraphs.admin.system_health import SystemHealthQuery
from subgraphs.admin.types import User


def create_schema(router_secret: str | None) -> SubgraphSchema:
    return build_schema(
        query=merge_types("Query", (Query, DeadLetterQuery, SystemHealthQuery)),
        mutation=Mutation,
        types=(User,),
        router_secret=router_secret,
        scalar_overrides=SCALAR_OVERRIDES,
    )
