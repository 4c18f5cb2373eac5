"""Reading a Prometheus scrape in tests: every sample as (name, labels) -> value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

Labels = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class Scrape:
    samples: Mapping[tuple[str, Labels], float]

    def value(self, name: str, **labels: str) -> float:
        """The sample's value (0 when it does not exist yet: a counter not yet incremented)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name: str, **labels: str) -> bool:
        return (name, frozenset(labels.items())) in self.samples

    def label_values(self, prefix: str) -> dict[str, set[str]]:
        """Every value each label takes in the samples whose name starts with `prefix`."""
        values: dict[str, set[str]] = {}
        for (name, labels), _ in self.samples.items():
            if name.startswith(prefix):
                for key, value in labels:
                    values.setdefault(key, set()).add(value)
        return values

    def series(self, prefix: str = "") -> set[tuple[str, Labels]]:
        return {key for key in self.samples if key[0].startswith(prefix)}


def parse(text: str) -> Scrape:
    samples: dict[tuple[str, Labels], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(samples)


async def scrape(client: httpx.AsyncClient) -> Scrape:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)
