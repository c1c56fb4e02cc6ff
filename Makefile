# The two commands: `make run` and `make test`. Everything installs into .venv.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app procurement
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# Browser tests use Debian's chromium (system-packages); Playwright never fetches its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: install run test test-sqlite test-postgres system-packages browser translations db demo bench clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) system-packages translations

system-packages:
	@scripts/ensure_system_packages.sh

# Debian's chromium for the browser tests (only the tests need it).
browser:
	@scripts/ensure_system_packages.sh --browser

translations: $(STAMP)
	@$(VENV)/bin/pybabel compile -d procurement/translations >/dev/null

db: install
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo

run: demo
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install browser
	$(PY) -m pytest
	@PY=$(PY) scripts/postgres_tests.sh

test-sqlite: install browser
	$(PY) -m pytest

test-postgres: install browser
	@PY=$(PY) scripts/postgres_tests.sh

# Every script in bench/ prints `name value` lines; modules ending in _common.py are shared
# helpers, not benchmarks.
BENCH_SCRIPTS := $(sort $(filter-out %_common.py,$(wildcard bench/*.py)))

bench: install
	@for script in $(BENCH_SCRIPTS); do echo "# $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
