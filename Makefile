# The two commands of README.md: `make sandbox` and `make test`; `make run` is the production start once the
# Slack app exists, `make check` its check. Each makes its own virtual environment (.venv; `. .venv/bin/activate`
# puts `beacon` on PATH).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: sandbox run check test lint typecheck constraints bench

# make sandbox HOST=0.0.0.0 PORT=8080: only values given on make's command line count (zsh sets HOST to the
# machine's name, which must not move the sandbox off 127.0.0.1).
SANDBOX_HOST := $(if $(filter command line,$(origin HOST)),$(HOST),127.0.0.1)
SANDBOX_PORT := $(if $(filter command line,$(origin PORT)),$(PORT),8000)

# An editable install of folders installed under another name (bot/ as beacon.bot) goes through an import hook, and
# setuptools says so at every install ("Editable installation ... folders with the same name"): nothing is named
# `beacon` here, so the note does not apply and is not shown.
EDITABLE := PYTHONWARNINGS="ignore:Editable installation"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every package to what CI tested; pyproject.toml holds the ranges.
$(VENV)/.installed-run: pyproject.toml constraints.txt | $(BIN)/python
	$(EDITABLE) $(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(EDITABLE) $(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@ $(VENV)/.installed-run

## make sandbox: install Beacon and open it in a browser against a local demo workspace (no Slack, no tokens);
## HOST= and PORT= for a headless server (see README.md, "Try it first")
sandbox: $(VENV)/.installed-run
	$(BIN)/beacon sandbox --host $(SANDBOX_HOST) --port $(SANDBOX_PORT)

## make run: install Beacon and start it over Socket Mode (SQLite unless DATABASE_URL says otherwise)
run: $(VENV)/.installed-run
	$(BIN)/beacon run

## make check: install Beacon and run `beacon check` (configuration, token, channels and roles)
check: $(VENV)/.installed-run
	$(BIN)/beacon check

## make test: install Beacon with its test tools, lint, type-check, and run the whole suite on SQLite,
## then on PostgreSQL too when BEACON_TEST_DATABASE_URL names one
test: $(VENV)/.installed-test lint typecheck
	env -u BEACON_TEST_DATABASE_URL $(BIN)/python -m pytest
	@if [ -n "$$BEACON_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		$(BIN)/python -m pytest; \
	fi

## make bench: every benchmark in bench/, three runs each, on SQLite and on PostgreSQL (BENCH_POSTGRES_URL, default
## the local server's beacon_bench database, created if missing); one table of min / median / max against each goal.
## About an hour and a half on 2 cores; BENCH_ARGS="--only fanout --databases sqlite" for part, "--record" to keep it.
BENCH_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/beacon_bench
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.suite --postgres-url $(BENCH_POSTGRES_URL) $(BENCH_ARGS)

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
	$(EDITABLE) .venv-constraints/bin/python -m pip install --quiet -e '.[test]'
	{ sed -n '/^#/p' constraints.txt; .venv-constraints/bin/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-constraints
