# Two commands for a fresh machine: `make demo` and `make test`. Both need only Python >= 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.qbsf-installed

.PHONY: test demo lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall whenever the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests

test: lint
	$(BIN)/pytest

demo: $(STAMP)
	$(BIN)/qbsf demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
