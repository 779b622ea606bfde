# caseapp — the two commands of the README, and a few helpers.
#   make run    install, migrate, load the demo city, serve at http://127.0.0.1:5000 with
#               the worker beside it (Ctrl-C stops both)
#   make serve  production: migrate, then gunicorn and the worker (docs/deploy.md)
#   make test   install, run ruff and the whole test suite (DATABASE_URL picks the database)

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# One pytest-xdist worker per core, each on a database of its own; tests are handed
# out as workers get free, the long ones first, the tests of a module that builds one
# world for all of them (xdist_group) on one worker. PYTEST_ARGS adds to them.
XDIST ?= -n auto --dist loadgroup

.PHONY: run serve test bench-smoke bench-load install install-test browser-deps lint translations clean

# The packages go in with uv (pip installs it into the venv first): the same pins from
# setup.cfg, 9 s from an empty venv where pip took 39. Its own target, so that a venv made
# before uv was used gets it too.
UV_VERSION := 0.13.8
UV := $(BIN)/uv pip install --quiet --python $(BIN)/python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP_RUN): setup.cfg pyproject.toml | $(BIN)/uv
	$(UV) -e .
	touch $@

$(STAMP_TEST): setup.cfg pyproject.toml | $(BIN)/uv
	$(UV) -e '.[test]'
	touch $(STAMP_RUN) $@

install: $(STAMP_RUN)
install-test: $(STAMP_TEST)

# The worker runs beside the web app (deadlines, notices: the log backend prints each SMS
# and email on this console); Ctrl-C stops both.
run: install
	CASEAPP_DEMO=1 $(BIN)/flask --app caseapp db upgrade
	CASEAPP_DEMO=1 $(BIN)/flask --app caseapp demo load
	@echo "caseapp: http://$(HOST):$(PORT)/  (staff: http://$(HOST):$(PORT)/staff/login)"
	CASEAPP_DEMO=1 $(BIN)/flask --app caseapp worker --interval 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	CASEAPP_DEMO=1 $(BIN)/flask --app caseapp run --host $(HOST) --port $(PORT)

# Production: migrate, then the web server (gunicorn, settings from the environment: see
# docs/deploy.md) and the worker side by side; either ending stops both. SECRET_KEY and
# DATABASE_URL must be set.
serve: install
	$(BIN)/flask --app caseapp db upgrade
	$(BIN)/flask --app caseapp worker & worker=$$!; \
	$(BIN)/gunicorn -c python:caseapp.gunicorn_conf caseapp.wsgi:app & web=$$!; \
	trap 'kill $$worker $$web 2>/dev/null; wait' EXIT INT TERM; \
	wait -n $$worker $$web

# The browser tests drive Debian's Chromium; a CJK font makes Chinese readable in screenshots.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi micro hei"; then \
		echo "installing Chromium and the WenQuanYi font (apt-get) …"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei; \
	fi

test: install-test browser-deps
	$(BIN)/ruff check caseapp tests config.py migrations/env.py tools
	$(BIN)/ruff format --check caseapp tests config.py tools
	$(BIN)/bandit -ll -q -r caseapp config.py
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# Every bench command at 10,000 cases on the scratch database DATABASE_URL names (CI).
bench-smoke: install
	tools/bench-smoke

# 200 users for 2 minutes against the production server on DATABASE_URL's database (a
# scratch one: it files cases); docs/benchmarks.md. Locust comes with the test extras.
bench-load: install-test
	$(BIN)/flask --app caseapp bench load

lint: install-test
	$(BIN)/ruff check --fix caseapp tests config.py migrations/env.py tools
	$(BIN)/ruff format caseapp tests config.py tools

# Re-extract the strings, merge them into the catalogues and compile them.
translations: install-test
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output \
		--omit-header --ignore-dirs ".* __pycache__" --project caseapp -o caseapp/translations/messages.pot caseapp templates config.py
	$(BIN)/pybabel update -i caseapp/translations/messages.pot -d caseapp/translations --no-wrap
	$(BIN)/pybabel compile -d caseapp/translations --statistics

clean:
	rm -rf $(VENV) instance/test.sqlite3* .pytest_cache .ruff_cache
