# The two commands of README.md: `make sandbox` and `make test`; `make run` is the production start once the
# Slack app exists. Each makes its own virtual environment.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: sandbox run test lint typecheck constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every package to what CI tested; pyproject.toml holds the ranges.
$(VENV)/.installed-run: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@ $(VENV)/.installed-run

## make sandbox: install Beacon and open it in a browser against a local demo workspace (no Slack, no tokens)
sandbox: $(VENV)/.installed-run
	$(BIN)/beacon sandbox

## make run: install Beacon and start it over Socket Mode (SQLite unless DATABASE_URL says otherwise)
run: $(VENV)/.installed-run
	$(BIN)/beacon run

## make test: install Beacon with its test tools, lint, type-check, and run the whole suite on SQLite,
## then on PostgreSQL too when BEACON_TEST_DATABASE_URL names one
test: $(VENV)/.installed-test lint typecheck
	env -u BEACON_TEST_DATABASE_URL $(BIN)/python -m pytest
	@if [ -n "$$BEACON_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		$(BIN)/python -m pytest; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

## make typecheck: mypy over bot/, handlers/ and scheduler/ ([tool.mypy] in pyproject.toml). The code imports
## itself as installed (beacon.bot, ...); mypy cannot follow an editable install's import hook, so it reads the
## folders through links named as installed, in build/typecheck/beacon/ (its messages name files by that path).
typecheck: $(VENV)/.installed-test
	@mkdir -p build/typecheck/beacon
	@for name in bot handlers scheduler content; do ln -sfn ../../../$$name build/typecheck/beacon/$$name; done
	$(BIN)/mypy

## make constraints: re-pin constraints.txt from a fresh install of pyproject.toml's ranges
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet --upgrade pip
	.venv-constraints/bin/python -m pip install --quiet -e '.[test]'
	{ sed -n '/^#/p' constraints.txt; .venv-constraints/bin/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-constraints
