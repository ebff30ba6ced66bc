# Two commands set up everything on a fresh machine (Python >= 3.11, make, Node.js; Chromium for make test):
#   make serve   install, migrate and run the API on the embedded defaults
#   make test    install (Python + npm tooling) and run the whole test suite
#   make fuzz    schemathesis against the GraphQL API, every role, >= 10,000 cases
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
FUZZ_ARGS ?=

.PHONY: serve test fuzz install install-dev npm lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"

npm:
	@if [ -f contracts/package-lock.json ]; then npm ci --prefix contracts --no-audit --no-fund --loglevel=error; fi
	@if [ -f web/package-lock.json ]; then npm ci --prefix web --no-audit --no-fund --loglevel=error; fi

serve: install
	$(BIN)/opsure serve --host $(HOST) --port $(PORT)

test: install-dev npm
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long run (the short one is part of make test); FUZZ_ARGS="--cases 50000 --seed 7" to vary it.
fuzz: install-dev
	$(BIN)/python -m tests.fuzz.run_fuzz $(FUZZ_ARGS)

lint: install-dev
	$(BIN)/ruff check .

typecheck: install-dev
	$(BIN)/mypy core schema resolvers opsure ledger partners

bench: install-dev
	$(BIN)/python bench/bench_policies_page.py

clean:
	rm -rf $(VENV) contracts/node_modules web/node_modules .pytest_cache .mypy_cache
