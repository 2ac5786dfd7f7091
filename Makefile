# The two commands: `make run` (the whole platform on SQLite, no server to install) and `make test`
# (the full suite against PostgreSQL and Redis).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements

export DATABASE_URL_TEST := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/intermodal)
export REDIS_URL_TEST := $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

.PHONY: help venv run test lint format migrations-check messages bench clean

help:
	@echo "make run    - serve the platform with demo data at http://127.0.0.1:8000 (SQLite, worker, beat)"
	@echo "make test   - lint, migrations check and the full test suite against PostgreSQL and Redis"
	@echo "make lint   - ruff"
	@echo "make messages - refresh and compile the translation catalogues"
	@echo "make bench  - booking under contention against gunicorn + PostgreSQL (see docs/PERFORMANCE.md)"

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_platform

lint: venv
	$(BIN)/ruff check .

migrations-check: venv
	$(BIN)/python manage.py makemigrations --check --dry-run

test: venv lint
	DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) $(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL=$(DATABASE_URL_TEST) REDIS_URL=$(REDIS_URL_TEST) $(BIN)/python -m pytest $(PYTEST_ARGS)

messages: venv
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --no-obsolete
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

bench: venv
	DATABASE_URL=$(or $(BENCH_DATABASE_URL),postgres://postgres@127.0.0.1:5432/intermodal_bench) \
	  $(BIN)/python bench/booking_contention.py

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
