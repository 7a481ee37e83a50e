# The two commands: `make run` and `make test`. Everything else here serves them.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/keyprojects
PYTEST := $(PY) -m pytest -p no:cacheprovider

.PHONY: install install-test run test messages lint

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

# The office directory's extra (python-ldap) builds against OpenLDAP's headers: installed where
# they are (apt-get install libldap2-dev libsasl2-dev; .ci/run does), else its tests say why they skip.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	@if [ -e /usr/include/ldap.h ] && [ -e /usr/include/sasl/sasl.h ]; then \
		$(PY) -m pip install --quiet -c constraints.txt -e ".[test,ldap]"; \
	else \
		echo "OpenLDAP's headers are missing (apt-get install libldap2-dev libsasl2-dev): the directory sign-on's tests will be skipped."; \
	fi
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make run: migrate, seed the demo city on the first run, serve on 127.0.0.1:$(PORT) with a celery worker and beat.
run: install
	PORT=$(PORT) bin/run-embedded

## make test: the layers' contracts, then the whole suite on SQLite, then on PostgreSQL when it is reachable (required under CI=true);
## the long security sweeps (marker once) run in the PostgreSQL pass, or on SQLite when PostgreSQL is unreachable.
test: install-test
	@echo "== The layers (import-linter's contracts in pyproject.toml) =="
	$(VENV)/bin/lint-imports
	@echo "== The suite on SQLite, the embedded database =="
	DATABASE_URL=sqlite://:memory: $(PYTEST) -n 2 -m "not postgres and not e2e and not once"
	@echo "== The browser journeys on SQLite (Chromium) =="
	DATABASE_URL=sqlite://:memory: $(PYTEST) -m "e2e and not postgres"
	@echo "== The suite on PostgreSQL at $(PG_TEST_URL) =="
	@if $(PY) -m tests.services postgres "$(PG_TEST_URL)"; then \
		DATABASE_URL="$(PG_TEST_URL)" $(PYTEST) -n 2 -m "not e2e" --create-db; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL), and CI=true requires it."; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL): its tests are skipped (see the reasons below)."; \
		DATABASE_URL=sqlite://:memory: $(PYTEST) -n 2 -m "postgres or (once and not e2e)"; \
	fi

## make messages: extract the strings to translate and compile the catalog after editing it.
messages: install-test
	DEBUG=true $(PY) manage.py makemessages --locale zh_Hans --no-location --ignore ".venv/*" --ignore "var/*" --ignore "bench/*" --ignore "tests/*"
	$(PY) -m config.compile_messages

lint: install-test
	$(VENV)/bin/ruff check .
