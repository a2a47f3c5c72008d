# `make run` and `make test` set themselves up on a machine with nothing but Python and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/run_local.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check hub tests bench examples scripts
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/accept.py

clean:
	rm -rf $(VENV) hub.db hub.db-* .hub
