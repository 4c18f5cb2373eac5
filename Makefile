# Two commands do all set-up on a fresh machine (Python 3.11+, Node 20+, make):
#   make dev   - install, migrate, seed, compose, run the whole system (Ctrl-C stops it)
#   make test  - install, lint, type-check, schema drift check, tests with coverage
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
# pgserver asks platformdirs for a runtime dir; give it a private one (mode 0700).
export XDG_RUNTIME_DIR ?= $(CURDIR)/.data/run
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
MFE := examples/mfe
# The browser tests launch Debian's Chromium through Playwright (never `playwright install`).
CHROMIUM := /usr/bin/chromium

.PHONY: dev test test-fast install lint typecheck schema schema-check pytest clean audit \
	mfe-codegen mfe-check mfe-build browser-deps bench

install: $(VENV)/.installed router/node_modules/.installed $(MFE)/node_modules/.installed

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

router/node_modules/.installed: router/package.json router/package-lock.json $(wildcard router/patches/*.patch)
	cd router && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(MFE)/node_modules/.installed: $(MFE)/package.json $(MFE)/package-lock.json
	cd $(MFE) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The example MFE (docs/mfe.md): typed operations generated from schema/supergraph.graphql
# (committed under $(MFE)/src/gql with the trusted-documents manifest), checked for drift and
# type-checked; built into $(MFE)/dist for `make dev` and the browser tests.
mfe-codegen: install
	cd $(MFE) && npm run --silent codegen
	cp $(MFE)/src/gql/persisted-documents.json router/persisted-documents/example-mfe.json

mfe-check: install
	cd $(MFE) && node scripts/codegen-check.mjs && npm run --silent typecheck

mfe-build: install
	cd $(MFE) && npm run --silent build

# Chromium for tests/browser: Debian's package, installed when missing and we are root (CI).
browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "$(CHROMIUM) is missing: sudo apt-get install -y chromium" >&2; exit 1; \
		fi; \
	fi

schema: install
	$(PY) -m devtools.schema_export
	node router/compose.mjs
	$(PY) -m subgraphs.payments.webhooks.openapi

schema-check: install
	$(PY) -m devtools.schema_export --check
	node router/compose.mjs --check
	$(PY) -m subgraphs.payments.webhooks.openapi --check

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd router && node node_modules/.bin/tsc --noEmit -p tsconfig.json
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy devtools shared subgraphs

dev: install schema mfe-build
	@mkdir -p -m 700 .data/run
	$(PY) -m devtools.devstack

pytest: install browser-deps mfe-build
	@mkdir -p -m 700 .data/run
	rm -f .coverage .coverage.*
	$(VENV)/bin/coverage run -m pytest $(PYTEST_ARGS)
	$(VENV)/bin/coverage combine --quiet
	$(VENV)/bin/coverage report

test: lint typecheck schema-check mfe-check pytest

# Everything but the whole-stack (e2e) and process/WebSocket (live) tests; no coverage gate.
test-fast: lint typecheck
	@mkdir -p -m 700 .data/run
	$(VENV)/bin/pytest -m "not e2e and not live" $(PYTEST_ARGS)

# Supply chain: CycloneDX SBOMs under build/sbom/ (Python environment; the router's production
# npm tree), then pip-audit and npm audit judged by devtools/audit.py: a known vulnerability
# fails; an advisory service that cannot be reached prints a WARNING (nothing was checked).
CYCLONEDX_NPM := @cyclonedx/cyclonedx-npm@6.0.1
audit: install
	@mkdir -p build/sbom
	$(VENV)/bin/cyclonedx-py environment --of JSON -o build/sbom/python.cdx.json $(VENV)
	cd router && npx --yes $(CYCLONEDX_NPM) --omit dev --output-format JSON \
		--output-file ../build/sbom/node.cdx.json
	$(PY) -m devtools.audit

# Benchmarks (docs/performance.md): starts the whole system on embedded PostgreSQL and Redis, runs
# each comparison interleaved, prints BENCH lines and writes bench/results.json.
# BENCH_QUICK=1: a few seconds per target (the CI smoke test; numbers not asserted).
BENCH_QUICK ?=
bench/node_modules/.installed: bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

bench: install bench/node_modules/.installed
	@mkdir -p -m 700 .data/run
	$(PY) -m bench $(if $(filter-out 0,$(BENCH_QUICK)),--quick)

clean:
	rm -rf $(VENV) $(TOOLS) router/node_modules bench/node_modules $(MFE)/node_modules $(MFE)/dist .mypy_cache .ruff_cache .pytest_cache .coverage*
