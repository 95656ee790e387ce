# vendorrisk — `make run` serves the demo, `make test` runs the whole suite, `make e2e` the
# production shape end to end.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test e2e bench lint lock sbom translations-extract translations-compile clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Dependencies come from the lock files, every package pinned with its hashes (`make lock`
# writes them from pyproject.toml); the project itself is installed on top, without resolving.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/vendorrisk db upgrade
	$(BIN)/vendorrisk seed-demo --if-empty
	$(BIN)/vendorrisk serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/bandit --quiet --recursive vendorrisk
	$(BIN)/pytest $(PYTEST_ARGS)

# gunicorn over TLS, a fresh PostgreSQL database, Redis, a real SMTP server and the scheduler,
# driven in Chromium; screenshots, mail and logs in build/e2e/<UTC time>/ (or $E2E_OUTPUT).
e2e: $(VENV)/.installed-dev
	$(BIN)/pytest -m e2e tests/e2e $(PYTEST_ARGS)

# The benchmark as production serves the app: gunicorn (4 workers) on loopback over the data set
# of bench/data.py, on SQLite and on a PostgreSQL database of its own (both removed after, unless
# BENCH_ARGS=--keep), at each size; one table printed and build/bench/<UTC time>.json.
# A quick run: make bench BENCH_SIZES=2000
BENCH_SIZES ?= 10000 30000
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run.py --sizes $(BENCH_SIZES) $(BENCH_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/bandit --quiet --recursive vendorrisk

# Re-resolve the pins after a change to pyproject.toml's dependencies (reads the package index).
lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--extra dev --output-file requirements-dev.lock pyproject.toml

# The CycloneDX bill of materials of what the application ships (the runtime lock). The tool
# lives in a venv of its own: it brings lxml, which changes how openpyxl reads and writes, and
# the suite must run with what production runs.
SBOM_VENV := build/sbom-venv
sbom:
	test -x $(SBOM_VENV)/bin/cyclonedx-py || ($(PYTHON) -m venv $(SBOM_VENV) && \
		$(SBOM_VENV)/bin/pip install --quiet cyclonedx-bom)
	$(SBOM_VENV)/bin/cyclonedx-py requirements --output-reproducible --of JSON \
		--output-file build/sbom.cdx.json requirements.lock
	@echo "SBOM: build/sbom.cdx.json"

translations-extract: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k translated:2 -k N_ --no-location --sort-output \
		--project vendorrisk -o vendorrisk/translations/messages.pot .
	$(BIN)/pybabel update -i vendorrisk/translations/messages.pot -d vendorrisk/translations \
		--no-fuzzy-matching --ignore-obsolete

translations-compile: $(VENV)/.installed-dev
	$(BIN)/pybabel compile -d vendorrisk/translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
