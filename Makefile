# The two commands of README.md: `make sandbox` and `make test`; `make run` is the production start once the
# Slack app exists. Each makes its own virtual environment.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: sandbox run test lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

## make sandbox: install Beacon and open it in a browser against a local demo workspace (no Slack, no tokens)
sandbox: $(VENV)/.installed-run
	$(BIN)/beacon sandbox

## make run: install Beacon and start it over Socket Mode (SQLite unless DATABASE_URL says otherwise)
run: $(VENV)/.installed-run
	$(BIN)/beacon run

## make test: install Beacon with its test tools, lint, and run the whole suite on SQLite,
## then on PostgreSQL too when BEACON_TEST_DATABASE_URL names one
test: $(VENV)/.installed-test lint
	env -u BEACON_TEST_DATABASE_URL $(BIN)/python -m pytest
	@if [ -n "$$BEACON_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		$(BIN)/python -m pytest; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
