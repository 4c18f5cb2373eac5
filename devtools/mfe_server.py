"""Serves the example MFE's build (`examples/mfe/dist`, from `make mfe-build`) for `make dev` and
the browser tests: the static files, and `/config.json` telling the page where the router and
Razorpay's checkout.js are (so one build works on any ports).

    python -m devtools.mfe_server --port 4020 --dist examples/mfe/dist
    python -m devtools.mfe_server --fd 3   # an inherited listening socket (devtools.devstack)

Reads MFE_GRAPHQL_URL, MFE_GRAPHQL_WS_URL and RAZORPAY_CHECKOUT_URL (devstack sets them).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from devtools.serve import serve
from shared.config import REPO_ROOT

MFE_DIR = REPO_ROOT / "examples" / "mfe"
DIST_DIR = MFE_DIR / "dist"
RAZORPAY_CHECKOUT_JS = "https://checkout.razorpay.com/v1/checkout.js"


def create_app(dist: Path, config: dict[str, str]) -> Starlette:
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist}/index.html is missing: run `make mfe-build`")

    async def config_json(_: object) -> JSONResponse:
        return JSONResponse(config, headers={"cache-control": "no-store"})

    return Starlette(
        routes=[
            Route("/config.json", config_json),
            Mount("/", StaticFiles(directory=dist, html=True)),
        ]
    )


def config_from_env(env: dict[str, str]) -> dict[str, str]:
    graphql = env.get("MFE_GRAPHQL_URL", "http://127.0.0.1:4000/graphql")
    return {
        "graphqlUrl": graphql,
        "graphqlWsUrl": env.get("MFE_GRAPHQL_WS_URL", graphql.replace("http", "ws", 1)),
        "razorpayCheckoutUrl": env.get("RAZORPAY_CHECKOUT_URL") or RAZORPAY_CHECKOUT_JS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the example MFE's build.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MFE_PORT", "4020")))
    parser.add_argument("--fd", type=int, help="serve on this inherited listening socket")
    parser.add_argument("--dist", type=Path, default=DIST_DIR)
    args = parser.parse_args()
    app = create_app(args.dist, config_from_env(dict(os.environ)))
    if args.fd is not None:  # an inherited socket, served as a TCP one (devtools.serve)
        serve(app, args.fd, log_level="warning", access_log=False)
    else:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
