# Every target installs what it needs, so a fresh clone only ever runs `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes (pytest-xdist): the machines have two cores and most tests also wait on a
# gateway, a subprocess or a browser; 0 runs the suite in one process. A file's tests stay on
# one worker (--dist loadfile) so module-scoped fixtures are built once.
PYTEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

.PHONY: run worker test test-pg test-long lint lock simulator translations clean \
	bench bench-overhead bench-load bench-bulk bench-memory bench-weight

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs the exact versions of requirements.lock (runtime and test extras), then the portal
# itself without resolving again; a changed lock or pyproject.toml installs again.
$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# The lock files from pyproject.toml's ranges, on Python 3.11 (the markers depend on it).
# pip-tools goes into the venv only here. Pins still inside the ranges are kept; to move
# everything to the newest versions: `make lock LOCK_ARGS=--upgrade`. The bench lock is the
# test lock plus the bench extra, constrained to the same versions.
PIP_COMPILE = $(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url \
	--no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS)
lock: | $(BIN)/python
	$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "lock on Python 3.11")'
	$(BIN)/pip install --quiet pip-tools
	$(PIP_COMPILE) --extra test --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra test --extra bench --constraint requirements.lock \
		--output-file requirements-bench.lock pyproject.toml

run: $(STAMP)
	$(BIN)/python -m app.devserver

# A job consumer on its own (production runs one or more beside gunicorn).
worker: $(STAMP)
	$(BIN)/flask --app wsgi jobs worker -w 4

simulator: $(STAMP)
	$(BIN)/python -m app.simulator --host 127.0.0.1 --port 8765 --token demo-token --balance 1000

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(XDIST) --durations=15 $(PYTEST_ARGS)

# The database-backed suites again on PostgreSQL. Left to the SQLite pass: the client and
# simulator suites (no database), tests marked sqlite_only (SQLite's own locks), the browser
# tests (they drive the same views the web suites run here) and the gateway fault matrices (what
# they vary is the gateway, not the database).
# Form fuzzing runs its 100 examples per form on SQLite (CI; 500 in test-long); here 50 check
# what PostgreSQL alone refuses (NUL characters, integer ranges) without doubling CI's
# longest suite.
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PG_LEFT_TO_SQLITE := --ignore=tests/gotone --ignore=tests/simulator --ignore=tests/e2e \
	--ignore=tests/reliability/test_fault_matrix.py --ignore=tests/web/test_gateway_errors.py
test-pg: $(STAMP)
	PORTAL_FUZZ_EXAMPLES=$${PORTAL_FUZZ_EXAMPLES:-50} PORTAL_TEST_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest $(XDIST) -m 'not slow and not sqlite_only' $(PG_LEFT_TO_SQLITE) --durations=15 $(PYTEST_ARGS)

# The long variants (tests marked slow), then form fuzzing at 500 examples per form to look
# for new finds (CI runs 100: tests/fuzz/harness.py says why).
test-long: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)
	PORTAL_FUZZ_EXAMPLES=$${PORTAL_FUZZ_EXAMPLES:-500} $(BIN)/python -m pytest $(XDIST) tests/fuzz $(PYTEST_ARGS)

# Benchmarks (issue 8): each prints a table and its ratios; `make bench` runs them all.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): requirements-bench.lock $(STAMP)
	$(BIN)/pip install --quiet -r requirements-bench.lock
	touch $(BENCH_STAMP)

bench-overhead: $(BENCH_STAMP)
	$(BIN)/python bench/overhead.py $(BENCH_ARGS)
bench-load: $(BENCH_STAMP)
	$(BIN)/python bench/load.py $(BENCH_ARGS)
bench-bulk: $(BENCH_STAMP)
	$(BIN)/python bench/bulk.py $(BENCH_ARGS)
bench-memory: $(BENCH_STAMP)
	$(BIN)/python bench/memory.py $(BENCH_ARGS)
bench-weight: $(BENCH_STAMP)
	$(BIN)/python bench/page_weight.py $(BENCH_ARGS)
bench: bench-weight bench-overhead bench-load bench-bulk bench-memory

# The standard Babel workflow (README, Translations): extract the sources into the template,
# merge it into the Chinese catalogue (new strings arrive untranslated, never guessed from
# similar ones), compile the .mo that is committed so the portal runs without a build step.
# The template has no header (it would only carry a date); the catalogue keeps its header
# (plural forms, language) and its date, so unchanged sources leave all three files unchanged.
# tests/test_i18n.py runs the same extraction: change the options in both places.
BABEL_EXTRACT := extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot \
	--no-location --sort-output --omit-header .
translations: $(STAMP)
	$(BIN)/pybabel -q $(BABEL_EXTRACT)
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations -l zh_Hans \
		--no-fuzzy-matching --ignore-pot-creation-date
	$(BIN)/pybabel -q compile -d translations -l zh_Hans

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
