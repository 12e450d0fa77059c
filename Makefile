# branchdesk: `make demo` to try it, `make test` to check it. Both start with `make install`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= $(or $(BRANCHDESK_PORT),8000)

.PHONY: install demo test lint typecheck pytest pytest-postgres serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'

demo: install
	BRANCHDESK_PORT=$(PORT) $(BIN)/branchdesk demo

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider

pytest-postgres: install
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		BRANCHDESK_TEST_DB=postgres $(BIN)/python -m pytest -q -n 2 -p no:cacheprovider -m "not browser and not spark"; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL pass skipped (CI sets it)"; fi

test: lint typecheck pytest pytest-postgres

serve: install
	$(BIN)/branchdesk serve

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
