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

.PHONY: dev test test-fast install lint typecheck schema schema-check pytest clean audit bench

install: $(VENV)/.installed router/node_modules/.installed

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

router/node_modules/.installed: router/package.json router/package-lock.json
	cd router && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

schema: install
	$(PY) -m devtools.schema_export
	node router/compose.mjs

schema-check: install
	$(PY) -m devtools.schema_export --check
	node router/compose.mjs --check

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd router && node node_modules/.bin/tsc --noEmit -p tsconfig.json
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy devtools shared subgraphs

dev: install schema
	@mkdir -p -m 700 .data/run
	$(PY) -m devtools.devstack

pytest: install
	@mkdir -p -m 700 .data/run
	rm -f .coverage .coverage.*
	$(VENV)/bin/coverage run -m pytest $(PYTEST_ARGS)
	$(VENV)/bin/coverage combine --quiet
	$(VENV)/bin/coverage report

test: lint typecheck schema-check pytest

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
	rm -rf $(VENV) $(TOOLS) router/node_modules bench/node_modules .mypy_cache .ruff_cache .pytest_cache .coverage*
