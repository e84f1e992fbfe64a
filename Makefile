# cross-auth-lite: `make demo` and `make test` set up everything on a fresh machine.
# The environment is uv.lock, installed exactly by uv (itself pinned below and
# installed with pip into .tools/ on first use): a green run can be repeated.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
DATA ?= var/demo
# Where `make bench CHART=docs/images` redraws the chart of the scale run that
# docs/performance.md shows; a plain run writes it under bench-results/ only.
CHART ?= bench-results
BENCH_CHART = $(if $(filter --quick --no-scale,$(BENCH_ARGS)),,--chart $(CHART))

UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# Never download an interpreter: the one given as PYTHON is used.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export UV_PROJECT_ENVIRONMENT := $(VENV)
# The newest releases and the lowest declared versions, each in its own
# environment beside the locked one.
LATEST_VENV := .venv-latest
LOWEST_VENV := .venv-lowest
PYTEST_ARGS := -q --numprocesses=auto --maxprocesses=4

.PHONY: help demo test lint typecheck pytest docs dist bench clean lock test-latest test-lowest

help:
	@echo "make demo   run the demo on http://$(HOST):$(PORT) (PORT=..., DATA=...)"
	@echo "make test   lint, type-check and run the test suite"
	@echo "make docs   build the documentation site into site/ (strict: warnings fail)"
	@echo "make dist   build the wheel and the sdist into dist/ and check them with twine"
	@echo "make bench  run the benchmarks (BENCH_ARGS=--quick: a smoke run; CHART=docs/images: redraw the docs' chart)"
	@echo "make lock   refresh uv.lock to the newest versions pyproject.toml allows"
	@echo "make test-latest  the test suite on the newest release of every dependency"
	@echo "make test-lowest  the test suite on the lowest versions pyproject.toml declares"

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(TOOLS) 'uv==$(UV_VERSION)'

# Exactly the lock: --locked fails when uv.lock no longer matches pyproject.toml
# (run `make lock`). The demo's sync is --inexact: it adds what it needs and
# removes nothing, so the test tools stay.
$(VENV)/.dev-installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked --extra dev
	@touch $@

$(VENV)/.bench-installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked --inexact --extra bench
	@touch $@

$(VENV)/.demo-installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked --inexact --extra demo
	@touch $@

lock: | $(UV)
	$(UV) lock --upgrade

demo: $(VENV)/.demo-installed
	$(BIN)/python -m cross_auth_lite.demo --data $(DATA) --host $(HOST) --port $(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# Two to four processes (pytest-xdist): the suite waits on subprocesses and servers.
pytest: $(VENV)/.dev-installed
	$(BIN)/pytest $(PYTEST_ARGS)

# The lock is left alone: each runs in its own environment, resolved afresh.
test-latest: | $(UV)
	$(UV) venv --quiet --allow-existing $(LATEST_VENV)
	$(UV) pip install --quiet --python $(LATEST_VENV) --upgrade --reinstall-package cross-auth-lite -e '.[dev]'
	$(UV) pip list --python $(LATEST_VENV) --format freeze > $(LATEST_VENV)/versions.txt
	$(LATEST_VENV)/bin/pytest $(PYTEST_ARGS)

# Every dependency pyproject.toml names directly at its lower bound; what
# those need in turn, at the newest version they allow.
test-lowest: | $(UV)
	$(UV) venv --quiet --allow-existing $(LOWEST_VENV)
	$(UV) pip install --quiet --python $(LOWEST_VENV) --resolution lowest-direct --reinstall-package cross-auth-lite -e '.[dev]'
	$(UV) pip list --python $(LOWEST_VENV) --format freeze > $(LOWEST_VENV)/versions.txt
	$(LOWEST_VENV)/bin/pytest $(PYTEST_ARGS)

# --strict: a broken link, a missing page or an unresolved reference fails the build.
docs: $(VENV)/.dev-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# The build tools come from the [dev] extra (no isolated download).
dist: $(VENV)/.dev-installed
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/twine check --strict dist/*

test: lint typecheck docs pytest

bench: $(VENV)/.bench-installed
	@command -v redis-server >/dev/null || echo "no redis-server: the Redis column is skipped (apt-get install redis-server)"
	$(BIN)/python -m bench $(BENCH_CHART) $(BENCH_ARGS)

# Only what make made: the venv, the tool caches, and the demo's data directory
# if the demo created it (it leaves .created-by-demo there); never the rest of var/.
clean:
	rm -rf $(VENV) $(TOOLS) $(LATEST_VENV) $(LOWEST_VENV) bench-results .pytest_cache .mypy_cache .ruff_cache .hypothesis site dist
	if [ -f '$(DATA)/.created-by-demo' ]; then rm -rf '$(DATA)'; fi
	@rmdir var 2>/dev/null || true
