# Two promises: `make demo` and `make test` work on a fresh machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
PIP_FLAGS ?= --disable-pip-version-check --quiet
# The four distributions, installed editable together so pip resolves their names locally.
PACKAGES := -e ./inventory -e ./connectors -e ./reports

.PHONY: demo test lint typecheck contracts clean venv readme bench

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "stackaudit needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml inventory/pyproject.toml connectors/pyproject.toml reports/pyproject.toml
	$(BIN)/python -m pip install $(PIP_FLAGS) $(PACKAGES) -e .
	@touch $@

$(DEVSTAMP): $(STAMP)
	$(BIN)/python -m pip install $(PIP_FLAGS) $(PACKAGES) -e '.[dev]'
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/stackaudit demo --output demo-output

lint: $(DEVSTAMP)
	$(BIN)/ruff check stackaudit inventory connectors reports tests tools benchmarks docs

typecheck: $(DEVSTAMP)
	$(BIN)/mypy

contracts: $(DEVSTAMP)
	$(BIN)/lint-imports

test: $(DEVSTAMP)
	$(BIN)/ruff check stackaudit inventory connectors reports tests tools benchmarks docs
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest

# Not part of `make test` (minutes at the vendors' real limits); tests/test_bench_smoke.py keeps it working.
bench: $(DEVSTAMP)
	$(BIN)/python -m benchmarks

readme: $(STAMP)
	$(BIN)/python tools/update_readme.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
