# Two commands for a fresh machine: `make demo` and `make test`. Both need only Python >= 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.qbsf-installed

.PHONY: test demo lint clean chromium screenshots fuzz salesforce-tools salesforce-screenshots node-deps postgres postgres-stop \
	bench-hosted

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall whenever the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests

# The browser tests drive Debian's Chromium (never a Playwright download): install it when it is missing —
# as root (CI) or through sudo. Without it the browser tests fail and say how to install it.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "make: $(CHROMIUM) is missing and apt-get is not available: install Chromium at $(CHROMIUM)" >&2; \
	  elif [ "$$(id -u)" = 0 ]; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	      echo "make: installing chromium failed: the browser tests will fail" >&2; \
	  elif command -v sudo >/dev/null 2>&1; then \
	    { sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	      echo "make: installing chromium failed: the browser tests will fail" >&2; \
	  else \
	    echo "make: $(CHROMIUM) is missing: run apt-get install -y chromium as root" >&2; \
	  fi; \
	fi

# The Salesforce package's checks without an org (tests/salesforce/test_package_*.py): Salesforce's Apex parser
# (prettier-plugin-apex, on Java), PMD's Apex rules (the PMD jars @salesforce/code-analyzer-pmd-engine ships) and LWC
# jest, all pinned in salesforce/package-lock.json. Node and Java come from Debian when missing; npm ci runs only when
# node_modules is missing or the lock changed, and prefers the npm cache (offline once installed).
SF_TOOLS := salesforce/node_modules/.qbsf-installed
$(SF_TOOLS): salesforce/package-lock.json
	@for need in node:nodejs npm:npm java:default-jre-headless; do \
	  cmd=$${need%%:*}; pkg=$${need#*:}; \
	  if ! command -v $$cmd >/dev/null 2>&1; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkg; } || \
	        { echo "make: installing $$pkg failed: install $$cmd to run the Salesforce package checks" >&2; exit 1; }; \
	    else \
	      echo "make: $$cmd is missing: run apt-get install -y $$pkg as root" >&2; exit 1; \
	    fi; \
	  fi; \
	done
	cd salesforce && npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	touch $@

salesforce-tools: $(SF_TOOLS)

# docs/screenshots/salesforce-*.png: the package's components mounted outside an org (LWC OSS, lightning-base-components,
# SLDS; salesforce/screenshots/package-lock.json) and photographed in Debian's Chromium. Not part of `make test`.
salesforce-screenshots: $(STAMP) $(SF_TOOLS) chromium
	cd salesforce/screenshots && { [ -d node_modules ] || npm ci --prefer-offline --no-audit --no-fund --loglevel=error; } \
	  && npx rollup -c --silent
	$(BIN)/python salesforce/screenshots/shoot.py

# Real Salesforce clients (jsforce, the Salesforce CLI) the emulator tests drive: `npm ci` from the committed lock,
# again only when the lock's content changes (a checkout that only touches it keeps node_modules); --prefer-offline
# takes what the npm cache holds, so a reinstall needs no network.
NODE_DIR := tests/node
NODE_STAMP := $(NODE_DIR)/node_modules/.qbsf-installed
node-deps: $(NODE_STAMP)
$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make: npm is missing: install Node.js 20+ with npm (apt-get install -y nodejs npm)" >&2; exit 1; }
	@if cmp -s $(NODE_DIR)/package-lock.json $(NODE_DIR)/node_modules/.qbsf-lock.json; then touch $@; else \
	  echo "cd $(NODE_DIR) && npm ci"; \
	  cd $(NODE_DIR) && npm ci --no-audit --no-fund --prefer-offline --loglevel=error && \
	  cp package-lock.json node_modules/.qbsf-lock.json && touch node_modules/.qbsf-installed; fi

# The state-store tests also run against PostgreSQL (Debian's package, installed when missing as root): one
# cluster per checkout on a unix socket in a temporary folder; its URL goes to $(PG_URL_FILE), which the tests read
# (or $$QBSF_TEST_POSTGRES_URL). `make postgres-stop` stops it.
PG_URL_FILE := $(VENV)/qbsf-test-postgres.url
postgres: | $(BIN)/python
	@tests/postgres/server.sh start $(PG_URL_FILE)

postgres-stop:
	@tests/postgres/server.sh stop

test: lint chromium salesforce-tools node-deps postgres
	QBSF_TEST_POSTGRES_URL="$$(cat $(PG_URL_FILE))" $(BIN)/pytest

# The hosted deployment bench (docs/benchmarks.md, "Hosted deployment"): 200 companies' Web Connectors against
# `qbsf serve --workers W` and a PostgreSQL the bench starts itself; KILL_EVERY=5 SIGKILLs a worker every 5 s.
# `make test` runs a 3-company version (tests/hosted/test_bench_hosted.py).
COMPANIES ?= 200
WORKERS ?= 2
bench-hosted: $(STAMP)
	$(BIN)/qbsf bench hosted --companies $(COMPANIES) --workers $(WORKERS) $(if $(KILL_EVERY),--kill-every $(KILL_EVERY))

# Longer fuzzing than `make test`'s short pass: random hypothesis cases (FUZZ_EXAMPLES per target), then
# coverage-guided atheris runs (FUZZ_SECONDS per target) where atheris installs (Linux x86_64, CPython 3.11-3.13).
FUZZ_EXAMPLES ?= 5000
FUZZ_SECONDS ?= 120
fuzz: $(STAMP)
	QBSF_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/fuzz --timeout=0
	@if $(BIN)/python -m pip install -q -e '.[fuzz]' && $(BIN)/python -c 'import atheris' 2>/dev/null; then \
	  for target in mapping qbxml soap; do \
	    $(BIN)/python tests/fuzz/atheris_targets.py $$target -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	      -timeout=10 -artifact_prefix=.fuzz-crash- || exit 1; \
	  done; \
	else echo "make fuzz: atheris has no wheel for this platform/Python: ran the hypothesis suites only"; fi

# Refresh docs/screenshots/ from the browser tests.
screenshots: $(STAMP) chromium
	QBSF_UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/browser

demo: $(STAMP)
	$(BIN)/qbsf demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
