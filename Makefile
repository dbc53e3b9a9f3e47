# Balcão — the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(shell if command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; then echo uv; else echo "$(PYTHON) -m uv"; fi)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
SUITE := $(PY) -m devstack.suite
# Integration tests run on moto in-process: one worker per core, each with its own moto; a file stays on one worker
# (its module fixtures are built once).
PARALLEL := -n 2 --dist loadfile
SAM := SAM_CLI_TELEMETRY=0 $(UV) tool run --from aws-sam-cli==1.170.0 sam
export UV_PYTHON_DOWNLOADS := never
export AWS_DEFAULT_REGION ?= eu-west-1
# The layer is built with the project's Python 3.13 (sam build runs the layer's Makefile outside this folder).
export BALCAO_LAYER_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)

PO_FILES := $(shell find layers/core/balcao/web/translations -name '*.po' 2>/dev/null)
MO_FILES := $(PO_FILES:.po=.mo)

help:
	@echo "make run        start the local stack on http://127.0.0.1:8000 (Ctrl-C stops it)"
	@echo "make test       lint, types, template checks and every test suite, with durations"
	@echo "make lint | unit | integration | e2e | browser | fuzz   one suite"
	@echo "make openapi    regenerate functions/health/openapi.json"
	@echo "make build      sam build (arm64 layer with compiled bytecode)"
	@echo "make bench      performance figures into docs/benchmarks.md"

# --- environment ---------------------------------------------------------------------------------------------
uv:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore uv

$(VENV)/.synced: pyproject.toml uv.lock layers/core/pyproject.toml infra/devstack/pyproject.toml | uv
	$(UV) sync --frozen --compile-bytecode --quiet
	@touch $@

%.mo: %.po $(VENV)/.synced
	@$(PY) -m devstack.catalogs compile >/dev/null

env: $(VENV)/.synced $(MO_FILES)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
	@chromium --version

# --- the two commands ----------------------------------------------------------------------------------------
run: env
	$(PY) -m devstack

test: env node_modules/.installed
	@$(SUITE) --reset
	@status=0; \
	$(SUITE) lint 240 -- $(MAKE) --no-print-directory lint || status=1; \
	$(SUITE) unit 120 -- $(PY) -m pytest -q tests/unit || status=1; \
	$(SUITE) integration 480 -- $(PY) -m pytest -q $(PARALLEL) tests/integration || status=1; \
	$(SUITE) e2e 600 -- $(PY) -m pytest -q tests/e2e || status=1; \
	$(SUITE) fuzz 300 -- $(PY) -m pytest -q tests/fuzz || status=1; \
	$(SUITE) bench-smoke 240 -- $(PY) -m bench --smoke || status=1; \
	$(SUITE) browser 600 -- $(MAKE) --no-print-directory browser || status=1; \
	$(SUITE) --summary; exit $$status

# --- suites --------------------------------------------------------------------------------------------------
lint: env node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(MAKE) --no-print-directory requirements-check
	$(PY) -m devstack openapi --check
	$(PY) -m devstack.catalogs check
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --region eu-west-1 --template template.yaml
	npx --no-install asl-validator $(foreach f,$(wildcard infra/statemachines/*.asl.json),--json-path $(f))

unit: env
	$(PY) -m pytest -q tests/unit

integration: env
	$(PY) -m pytest -q $(PARALLEL) tests/integration

e2e: env
	$(PY) -m pytest -q tests/e2e

fuzz: env
	$(PY) -m pytest -q tests/fuzz

browser: env chromium
	$(PY) -m pytest -q tests/browser

# --- performance (not in `make test`, which runs `python -m bench --smoke`) -------------------------------------
bench: env
	$(PY) -m bench

# --- generated files -----------------------------------------------------------------------------------------
openapi: env
	$(PY) -m devstack openapi

requirements: $(VENV)/.synced
	$(UV) export --frozen --package balcao-core --no-dev --no-hashes --no-emit-workspace --no-header --no-annotate \
		--quiet > layers/core/requirements.txt

requirements-check: $(VENV)/.synced
	@$(UV) export --frozen --package balcao-core --no-dev --no-hashes --no-emit-workspace --no-header --no-annotate \
		--quiet | diff -u layers/core/requirements.txt - \
		|| { echo "layers/core/requirements.txt drifted from uv.lock: run 'make requirements'" >&2; exit 1; }

catalogs: env
	$(PY) -m devstack.catalogs check

# --- deploy --------------------------------------------------------------------------------------------------
build: env
	$(SAM) build --template template.yaml

clean:
	rm -rf .aws-sam test-artifacts build

.PHONY: help uv env chromium run test lint unit integration e2e fuzz browser bench openapi requirements requirements-check catalogs build clean
