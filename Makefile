# Gongjian — `make run` serves the product on a fresh machine; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test setup setup-dev vendor browser lint typecheck unit integration e2e bench clean

run: setup vendor
	$(BIN)/gongjian migrate
	$(BIN)/gongjian seed-demo
	$(BIN)/gongjian serve

test: setup-dev vendor browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(VENV)/.installed: $(VENV)/bin/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet --no-deps -e '.[dev]'
	touch $@

# htmx comes from the npm registry and is served by the app itself: no CDN.
vendor: static/vendor/.stamp

static/vendor/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/htmx-ext-ws/dist/ws.min.js static/vendor/ws.min.js
	touch $@

# Debian's Chromium and a CJK font for the browser tests (as root; otherwise they skip outside CI).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "WenQuanYi\|Noto Sans CJK"; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get install -y -q chromium fonts-wqy-microhei >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium fonts-wqy-microhei >/dev/null 2>&1)) \
	     || echo "warning: could not install chromium; browser tests will skip (fail under CI=true)"; \
	  else echo "note: chromium missing and not root; browser tests will skip (fail under CI=true)"; fi; \
	fi

lint: setup-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

unit: setup-dev
	$(BIN)/pytest -q tests/unit

bench: setup-dev vendor
	$(BIN)/python bench/dashboard_rps.py

clean:
	rm -rf $(VENV) node_modules static/vendor
