# vendorrisk — `make run` serves the demo, `make test` runs the whole suite, `make e2e` the
# production shape end to end.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test e2e lint translations-extract translations-compile clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/vendorrisk db upgrade
	$(BIN)/vendorrisk seed-demo --if-empty
	$(BIN)/vendorrisk serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

# gunicorn over TLS, a fresh PostgreSQL database, Redis, a real SMTP server and the scheduler,
# driven in Chromium; screenshots, mail and logs in build/e2e/<UTC time>/ (or $E2E_OUTPUT).
e2e: $(VENV)/.installed-dev
	$(BIN)/pytest -m e2e tests/e2e $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

translations-extract: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k translated:2 -k N_ --no-location --sort-output \
		--project vendorrisk -o vendorrisk/translations/messages.pot .
	$(BIN)/pybabel update -i vendorrisk/translations/messages.pot -d vendorrisk/translations \
		--no-fuzzy-matching --ignore-obsolete

translations-compile: $(VENV)/.installed-dev
	$(BIN)/pybabel compile -d vendorrisk/translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
