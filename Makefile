# cross-auth-lite: `make demo` and `make test` set up everything on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
DATA ?= var/demo
# Where a full make bench draws the scale run (docs/performance.md shows it);
# a --quick or --no-scale run leaves the chart alone.
CHART ?= docs/images
BENCH_CHART = $(if $(filter --quick --no-scale,$(BENCH_ARGS)),,--chart $(CHART))

.PHONY: help demo test lint typecheck pytest docs dist bench clean

help:
	@echo "make demo   run the demo on http://$(HOST):$(PORT) (PORT=..., DATA=...)"
	@echo "make test   lint, type-check and run the test suite"
	@echo "make docs   build the documentation site into site/ (strict: warnings fail)"
	@echo "make dist   build the wheel and the sdist into dist/ and check them with twine"
	@echo "make bench  run the benchmarks; a full run redraws the chart in $(CHART)/ (BENCH_ARGS=--quick: a smoke run)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@touch $@

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	@touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/python -m cross_auth_lite.demo --data $(DATA) --host $(HOST) --port $(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# Two to four processes (pytest-xdist): the suite waits on subprocesses and servers.
pytest: $(VENV)/.dev-installed
	$(BIN)/pytest -q --numprocesses=auto --maxprocesses=4

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis site dist
	if [ -f '$(DATA)/.created-by-demo' ]; then rm -rf '$(DATA)'; fi
	@rmdir var 2>/dev/null || true
