# Two commands for a fresh machine: `make demo` and `make test`. Both need only Python >= 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.qbsf-installed

.PHONY: test demo lint clean chromium screenshots

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

test: lint chromium
	$(BIN)/pytest

# Refresh docs/screenshots/ from the browser tests.
screenshots: $(STAMP) chromium
	QBSF_UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/browser

demo: $(STAMP)
	$(BIN)/qbsf demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
