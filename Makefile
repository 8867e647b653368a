# The few commands a newcomer needs. `make test` is the one test command: it sets up what it needs
# (the virtualenv, the package) and runs everything CI runs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when the dependencies change, not on every run.
INSTALLED := $(VENV)/.installed

.PHONY: install test test-fast faults lint format typecheck run screenshots migration clean distclean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e ".[test]"
	touch $@

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q

# The tests that need no database, broker, browser or process: seconds, for the edit-test loop.
test-fast: install
	$(BIN)/pytest -q tests/unit

# The fault tests (pytest -m faults) five times in a row, with the default settings; rewrites the
# recovery table of docs/reliability.md (about 20 minutes).
faults: install
	$(BIN)/python -m bench.faults

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

# make run PORT=8080: the web app on another port (default 5000).
PORT ?= 5000
run: install
	$(BIN)/cpb run --port $(PORT)

# Screenshots of the main pages for the README (docs/screenshots/), made in Chromium.
screenshots: install
	$(BIN)/python -m tests.support.screenshots

# make migration m="add schedules": autogenerates a revision from the models, compared with a
# scratch SQLite database at head (the Alembic environment renders batch operations for SQLite).
migration: install
	@test -n "$(m)" || { echo 'usage: make migration m="what changed"' >&2; exit 2; }
	$(BIN)/python -c "$$MIGRATION_SCRIPT" "$(m)"

define MIGRATION_SCRIPT
import sys
import tempfile

from shared.core.db import make_engine
from shared.core.migrate import revision, upgrade

with tempfile.TemporaryDirectory() as scratch:
    engine = make_engine(f"sqlite:///{scratch}/head.sqlite3")
    try:
        upgrade(engine)
        revision(engine, sys.argv[1])
    finally:
        engine.dispose()
endef
export MIGRATION_SCRIPT

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
