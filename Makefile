# The two commands: `make run` (the whole platform on SQLite, no server to install) and `make test`
# (the full suite against PostgreSQL and Redis).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements

export DATABASE_URL_TEST := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/intermodal)
export REDIS_URL_TEST := $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

.PHONY: help venv node-modules run test lint format migrations-check docs-images messages bench bench-ingest bench-track bench-dashboard clean

help:
	@echo "make run    - serve the platform with demo data at http://127.0.0.1:8000 (SQLite, worker, beat)"
	@echo "make test   - lint, migrations check and the full test suite against PostgreSQL and Redis"
	@echo "make lint   - ruff"
	@echo "make messages - refresh and compile the translation catalogues"
	@echo "make docs-images - the user guide's screenshots (docs/images/), taken by the browser tests"
	@echo "make bench  - booking under contention against gunicorn + PostgreSQL (see docs/PERFORMANCE.md)"
	@echo "make bench-ingest - bulk event ingest through the API against raw INSERTs of the same rows"
	@echo "make bench-track  - tracking look-up latency with 10k and with 1M events in the events table"
	@echo "make bench-dashboard - the figures dashboard with 10k and with 1M events of history (--events N)"
	@echo "             (the bench targets take BENCH_DATABASE_URL, and options in BENCH_ARGS=...)"

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# axe-core for the accessibility checks of the browser tests (package.json / package-lock.json, test-only).
NODE_STAMP := node_modules/axe-core/axe.min.js

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

node-modules: $(NODE_STAMP)

run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_platform

lint: venv
	$(BIN)/ruff check .

migrations-check: venv
	$(BIN)/python manage.py makemigrations --check --dry-run

test: venv node-modules lint
	DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The user guide's pictures (docs/images/*.png), taken by the browser journeys; pngquant makes them smaller.
docs-images: venv node-modules
	DOCS_IMAGES=1 DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) \
	  $(BIN)/python -m pytest tests/browser -q -k "journey or tablet or home"

messages: venv
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --no-obsolete
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

# The benchmarks use their own database (created and migrated when missing), never the development one.
BENCH_DB := $(or $(BENCH_DATABASE_URL),postgres://postgres@127.0.0.1:5432/intermodal_bench)

bench: venv
	DATABASE_URL=$(BENCH_DB) \
	  $(BIN)/python bench/booking_contention.py $(BENCH_ARGS)

bench-ingest: venv
	DATABASE_URL=$(BENCH_DB) \
	  $(BIN)/python bench/ingest.py $(BENCH_ARGS)

bench-track: venv
	DATABASE_URL=$(BENCH_DB) \
	  $(BIN)/python bench/track_lookup.py $(BENCH_ARGS)

bench-dashboard: venv
	DATABASE_URL=$(BENCH_DB) \
	  $(BIN)/python bench/dashboard.py $(BENCH_ARGS)

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
