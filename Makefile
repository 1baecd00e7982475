# The two commands of the README: `make run` and `make test`. Both build the environment first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint clean generate bench load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.test-deps: requirements-dev.lock $(VENV)/.run-deps
	$(BIN)/pip install --quiet -r requirements-dev.lock
	touch $@

run: $(VENV)/.run-deps
	$(BIN)/filrouge db upgrade
	$(BIN)/filrouge demo --if-empty
	FILROUGE_LOG_FORMAT=$${FILROUGE_LOG_FORMAT:-console} $(BIN)/filrouge serve --host 127.0.0.1 --port 8000

# Lint, format, then `alembic check` (the models and the migrations describe the same schema)
# on a scratch SQLite database upgraded to head; then the suite on SQLite. With
# FILROUGE_TEST_PG_URL set, the suite runs on PostgreSQL too, side by side with the SQLite run
# (scripts/test_suites.sh), and `alembic check` again on the database that run has just built
# with `alembic upgrade head` (no database of its own).
PY_DIRS := app tests migrations bench scripts
test: $(VENV)/.test-deps
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
		export FILROUGE_DATABASE_URL="sqlite:///$$scratch/check.db" && \
		echo "alembic upgrade head && alembic check (scratch SQLite)" && \
		$(BIN)/alembic upgrade head && $(BIN)/alembic check
	BIN=$(BIN) scripts/test_suites.sh
	@if [ -n "$$FILROUGE_TEST_PG_URL" ]; then \
		echo "alembic check (PostgreSQL)" && \
		FILROUGE_DATABASE_URL="$$FILROUGE_TEST_PG_URL" $(BIN)/alembic check; \
	fi

clean:
	rm -rf $(VENV) var/filrouge.db*

# A synthetic dataset in a new database: `make generate SCALE=0.06` (one operator), national by
# default. Set FILROUGE_DATABASE_URL to that database first.
generate: $(VENV)/.run-deps
	$(BIN)/filrouge generate --scale $(or $(SCALE),1)

# The benchmark (bench/README.md): generates the dataset into BENCH_DATABASE_URL when it is empty
# (one operator on SQLite by default; `BENCH_SCALE=1` and a PostgreSQL URL for the national one),
# then times the app against it. The run writes to that database: give it one of its own.
BENCH_DATABASE_URL ?= sqlite:///var/bench-operator.db
BENCH_SCALE ?= 0.06
bench: $(VENV)/.run-deps
	$(BIN)/python -m bench.prepare --database-url "$(BENCH_DATABASE_URL)" --scale $(BENCH_SCALE)
	$(BIN)/python -m bench.run --database-url "$(BENCH_DATABASE_URL)" $(BENCH_ARGS)

# A working morning against two app nodes and a worker (bench/load.py): LOAD_MINUTES of 200
# counsellors and 50 bookings a minute on LOAD_DATABASE_URL (PostgreSQL, a generated dataset:
# `make generate SCALE=0.06` there first). The run writes to that database: give it one of its
# own. Needs the test dependencies (its SMTP sink is aiosmtpd's).
LOAD_DATABASE_URL ?=
LOAD_MINUTES ?= 2
load: $(VENV)/.test-deps
	@test -n "$(LOAD_DATABASE_URL)" || { echo "LOAD_DATABASE_URL: a PostgreSQL database"; exit 2; }
	$(BIN)/python -m bench.load --database-url "$(LOAD_DATABASE_URL)" --minutes $(LOAD_MINUTES) $(LOAD_ARGS)
