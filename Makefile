# The two commands: `make run` (the whole platform on an embedded PostgreSQL, no server to install) and `make test`
# (the full suite against PostgreSQL and Redis).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements

export DATABASE_URL_TEST := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/intermodal)
export REDIS_URL_TEST := $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

.PHONY: help venv node-modules assets run test lint format migrations-check docs-images messages bench bench-generate \
	bench-ingest bench-contention bench-track bench-queries bench-load bench-fanout bench-dashboard bench-dcsa clean

help:
	@echo "make run    - serve the platform with demo data at http://127.0.0.1:8000 (embedded PostgreSQL, worker, beat)"
	@echo "make test   - lint, migrations check and the full test suite against PostgreSQL and Redis"
	@echo "make lint   - ruff and the apps' import contracts (lint-imports)"
	@echo "make lock   - re-lock requirements.txt and requirements-dev.txt (hashed) from their .in files"
	@echo "make messages - refresh and compile the translation catalogues"
	@echo "make assets - the pages' own static assets from npm (the Chinese web font, assets/package.json)"
	@echo "make docs-images - the user guide's screenshots (docs/images/), taken by the browser tests"
	@echo "make bench  - a year of traffic, then P1-P8 against their baselines, and a summary (docs/PERFORMANCE.md)"
	@echo "make bench-generate   - only the year of traffic (BENCH_SCALE=1: Ningbo's ~1M containers, ~10M events)"
	@echo "make bench-ingest     - P1 every kind of event through the API into the year's table, against COPY of the same rows"
	@echo "make bench-contention - P2 booking under contention against uncontended bookings"
	@echo "make bench-track      - P3 tracking look-up latency with a year of events and with ~10k"
	@echo "make bench-queries    - P4 SQL queries per list request at page size 10 and 100"
	@echo "make bench-load       - P5 cold tracking look-ups/s under gunicorn and wrk against /healthz"
	@echo "make bench-fanout     - P6 webhook fan-out: 10,000 subscriptions, 100 slow receivers, against their capacity"
	@echo "make bench-dashboard  - P7 the figures dashboard through gunicorn, 10k against 1M events (--scale 1: 10M)"
	@echo "make bench-dcsa       - P8 DCSA GET /v2/events polls with filters, cold keys, a year against 10k events"
	@echo "             (the bench targets take BENCH_DATABASE_URL, BENCH_SCALE (0.1), options in BENCH_ARGS=...)"

# .venv gets the complete development set: requirements-dev.txt, locked with hashes (the runtime pins of
# requirements.txt, psycopg2-binary for psycopg2, tests and tools). The image installs requirements.txt only.
$(STAMP): requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# Re-lock both sets from requirements.in and requirements-dev.in (runtime first: the dev set is constrained by it),
# keeping every pin that still fits; LOCK_ARGS="--upgrade-package NAME" (or "--upgrade") moves pins. Only PyPI is
# asked (PIP_CONFIG_FILE=/dev/null leaves out this machine's pip config: local indexes, find-links, constraints),
# so the files carry PyPI's hashes for every platform and no local path or index URL.
PIP_COMPILE = PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-trusted-host --no-emit-find-links

.PHONY: lock
lock: venv
	$(PIP_COMPILE) $(LOCK_ARGS) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) $(LOCK_ARGS) --output-file requirements-dev.txt requirements-dev.in

# axe-core for the accessibility checks of the browser tests (package.json / package-lock.json, test-only).
NODE_STAMP := node_modules/axe-core/axe.min.js

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

node-modules: $(NODE_STAMP)

# The pages' own static assets from npm (assets/package.json): the Chinese web font, served by the app.
ASSETS_STAMP := assets/node_modules/@fontsource-variable/noto-sans-sc/index.css

$(ASSETS_STAMP): assets/package-lock.json
	npm ci --prefix assets --omit=dev --no-audit --no-fund --loglevel=error
	touch $(ASSETS_STAMP)

assets: $(ASSETS_STAMP)

# One process starts the embedded PostgreSQL (var/postgres; none when DATABASE_URL is set), migrates, loads the
# demo data and serves web, worker and beat against it; Ctrl-C stops all of them, PostgreSQL last.
run: venv
	@$(MAKE) --no-print-directory assets || echo "npm is missing: Chinese pages use the fonts of the machine"
	$(BIN)/python manage.py run_platform --demo

# ruff, then the apps' dependency contracts (pyproject.toml [tool.importlinter]: one-way layers, no cycles).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

migrations-check: venv
	$(BIN)/python manage.py makemigrations --check --dry-run

# The suite runs in TEST_WORKERS processes (pytest-xdist), each with its own test database and Redis database;
# 4 on a 2-core machine (much of the work waits on PostgreSQL and Chromium) beat 2 and 3. The databases are kept for
# the next run (`PYTEST_ARGS=--create-db` makes them afresh); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 4

test: venv node-modules assets lint
	DATABASE_URL=$(DATABASE_URL_TEST) $(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) $(BIN)/python -m pytest \
	  -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The user guide's pictures (docs/images/*.png), taken by the browser journeys; pngquant makes them smaller.
docs-images: venv node-modules
	DOCS_IMAGES=1 DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) \
	  $(BIN)/python -m pytest tests/browser -q -k "journey or tablet or home or day"

messages: venv
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --no-obsolete
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

# The benchmarks use their own database (created and migrated when missing), never the development one.
BENCH_DB := $(or $(BENCH_DATABASE_URL),postgres://postgres@127.0.0.1:5432/intermodal_bench)

BENCH_SCALE ?= 0.1
BENCH_ENV := DATABASE_URL=$(BENCH_DB) REDIS_URL=$(REDIS_URL_TEST)

# P7 serves the pages as deployed (DEBUG off): their static files collected, the npm assets among them.
bench: venv assets
	$(BENCH_ENV) $(BIN)/python bench/run_all.py --scale $(BENCH_SCALE) $(BENCH_ARGS)

bench-generate: venv
	$(BENCH_ENV) $(BIN)/python bench/generate.py --scale $(BENCH_SCALE) $(BENCH_ARGS)

bench-dcsa: venv
	$(BENCH_ENV) $(BIN)/python bench/dcsa_poll.py --scale $(BENCH_SCALE) $(BENCH_ARGS)

bench-ingest: venv
	$(BENCH_ENV) $(BIN)/python bench/ingest.py --scale $(BENCH_SCALE) $(BENCH_ARGS)

bench-contention: venv
	$(BENCH_ENV) $(BIN)/python bench/booking_contention.py $(BENCH_ARGS)

bench-track: venv
	$(BENCH_ENV) $(BIN)/python bench/track_lookup.py --scale $(BENCH_SCALE) $(BENCH_ARGS)

bench-queries: venv
	$(BENCH_ENV) $(BIN)/python bench/query_counts.py $(BENCH_ARGS)

bench-load: venv
	$(BENCH_ENV) $(BIN)/python bench/track_load.py --scale $(BENCH_SCALE) $(BENCH_ARGS)

bench-fanout: venv
	$(BENCH_ENV) $(BIN)/python bench/fanout.py $(BENCH_ARGS)

bench-dashboard: venv assets
	$(BENCH_ENV) $(BIN)/python bench/dashboard.py $(BENCH_ARGS)

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# A PostgreSQL still running on var/postgres is stopped before its folder goes.
clean:
	-test ! -x $(BIN)/python || $(BIN)/python -m databases.embedded_db stop
	rm -rf var staticfiles .pytest_cache .ruff_cache
