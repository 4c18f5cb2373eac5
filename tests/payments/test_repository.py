"""The list statement is built once per shape and run with parameters: every filter a query has
must reach the statement as a parameter, never the stand-in it was built with."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

from shared.pagination import Keyset, keyset_params
from subgraphs.payments import repository as repo
from subgraphs.payments.enums import PaymentStatus, PaymentType


def queries() -> list[repo.PaymentQuery]:
    values = {
        "party_id": uuid.uuid4(),
        "statuses": frozenset({PaymentStatus.PENDING}),
        "types": frozenset({PaymentType.PAYMENT}),
        "currency": "INR",
        "created_from": datetime(2024, 1, 1, tzinfo=UTC),
        "created_to": datetime(2024, 2, 1, tzinfo=UTC),
    }
    return [
        repo.PaymentQuery(**{k: v for (k, v), on in zip(values.items(), mask, strict=True) if on})
        for mask in itertools.product((False, True), repeat=len(values))
    ]


def test_every_shape_takes_every_filter_as_a_parameter() -> None:
    after = Keyset(datetime(2024, 1, 15, tzinfo=UTC), uuid.uuid4())
    for query in queries():
        for cursor in (None, after):
            statement = repo._page_statement(repo._shape(query), cursor is not None)
            expected = {**repo._params(query), **keyset_params(cursor, 21)}
            assert set(statement.statement.compile().params) == set(expected), query


def test_the_statement_of_a_shape_is_reused() -> None:
    one = repo.PaymentQuery(party_id=uuid.uuid4(), created_to=datetime.now(UTC))
    other = repo.PaymentQuery(party_id=uuid.uuid4(), created_to=datetime(2030, 1, 1, tzinfo=UTC))
    assert repo._page_statement(repo._shape(one), False) is repo._page_statement(
        repo._shape(other), False
    )
