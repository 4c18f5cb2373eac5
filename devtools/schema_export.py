"""Writes (or, with --check, verifies) each subgraph's federation SDL under schema/.

`make schema` runs this and then `router/compose.mjs` to compose schema/supergraph.graphql;
`make test` runs both with --check so a stale committed contract fails the build.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from shared.config import REPO_ROOT
from shared.migrations import SERVICES

SCHEMA_DIR = REPO_ROOT / "schema"


def export(service: str) -> str:
    module = importlib.import_module(f"subgraphs.{service}.schema")
    sdl: str = module.create_schema(None).as_str()
    return sdl.rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when schema/ is stale")
    args = parser.parse_args()
    stale = []
    for service in SERVICES:
        path = SCHEMA_DIR / f"{service}.graphql"
        sdl = export(service)
        current = path.read_text() if path.exists() else None
        if current == sdl:
            continue
        if args.check:
            stale.append(path.name)
        else:
            path.write_text(sdl)
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    if stale:
        print(
            f"schema/ is stale ({', '.join(stale)}): run `make schema` and commit the result",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
