# casetracker: `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help run test test-sqlite test-postgres lint typecheck lock migrate e2e-deps clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

# -qq: errors only. pip's and setuptools' warnings (an editable install's "be careful with
# folders", unreachable extra indexes in a machine's pip.conf) said nothing a newcomer can act
# on and buried the administrator banner of the first `make run`.
# The exact versions come from requirements.lock (every package pinned, with its hashes: pip
# refuses a file whose hash differs); pyproject.toml says only which ranges work. `make lock`
# re-resolves the lock after a change to pyproject.toml (README: "Dependencies"). casetracker
# itself goes in last: what the lock installed satisfies its ranges, so nothing else is fetched
# (a dependency added to pyproject.toml without `make lock` would be, unpinned: run it).
$(STAMP): pyproject.toml requirements.lock
	@echo "Installing casetracker and its dependencies into $(VENV) (a minute or two)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -qq -e '.[test]'
	@touch $(STAMP)

# uv resolves for every platform and Python >= 3.11 (--universal), keeping what is locked
# unless asked: `make lock UPGRADE=--upgrade` (everything) or
# `make lock UPGRADE="--upgrade-package litestar"` (one package).
UV ?= uv
UPGRADE ?=
lock: ## Re-resolve requirements.lock from pyproject.toml (needs uv; UPGRADE=--upgrade for newer)
	$(UV) pip compile pyproject.toml --extra test --universal --generate-hashes \
	  --python-version 3.11 --no-header --quiet $(UPGRADE) -o requirements.lock

run: $(STAMP) ## Install if needed, migrate, and serve on http://127.0.0.1:8000 (SQLite in var/)
	$(BIN)/casetracker run

migrate: $(STAMP) ## Apply pending migrations
	$(BIN)/casetracker migrate

# One pytest-xdist worker per CPU; a test file stays on one worker, so its module-scoped
# servers start once. PARALLEL= (empty) runs in one process.
PARALLEL ?= -n auto --dist loadfile

test: $(STAMP) ## Install if needed and run the whole suite (SQLite, and PostgreSQL when reachable)
	$(BIN)/python -m pytest $(PARALLEL) $(PYTEST_ARGS)

test-sqlite: $(STAMP) ## The suite on SQLite only
	CASETRACKER_TEST_ENGINES=sqlite $(BIN)/python -m pytest $(PARALLEL) $(PYTEST_ARGS)

test-postgres: $(STAMP) ## The suite on PostgreSQL only
	CASETRACKER_TEST_ENGINES=postgres $(BIN)/python -m pytest $(PARALLEL) $(PYTEST_ARGS)

lint: $(STAMP) ## ruff
	$(BIN)/ruff check casetracker tests bench

typecheck: $(STAMP) ## mypy on casetracker/ (Piccolo plugin and scope in pyproject.toml)
	$(BIN)/mypy

clean: ## Remove the virtual environment (keeps var/)
	rm -rf $(VENV)
