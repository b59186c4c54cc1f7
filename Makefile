# casetracker: `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help run test test-sqlite test-postgres lint typecheck migrate e2e-deps clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

# -qq: errors only. pip's and setuptools' warnings (an editable install's "be careful with
# folders", unreachable extra indexes in a machine's pip.conf) said nothing a newcomer can act
# on and buried the administrator banner of the first `make run`.
$(STAMP): pyproject.toml
	@echo "Installing casetracker and its dependencies into $(VENV) (a minute or two)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[test]'
	@touch $(STAMP)

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
