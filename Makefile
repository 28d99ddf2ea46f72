# Plait developer commands. Both targets set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/plait run examples/hello/app.py:app --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks

types: $(STAMP)
	$(BIN)/mypy --strict src tests

# coverage starts before pytest, so modules pytest imports early (Plait's own plugin) are measured too.
unit: $(STAMP)
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage report

test: lint types unit

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage

# Benchmarks: the harness makes its own venv (benchmarks/.venv-peers) and installs wrk if missing.
SERVER ?= granian
.PHONY: bench bench-quick

bench:
	$(PYTHON) benchmarks/run.py --server $(SERVER)

bench-quick:
	$(PYTHON) benchmarks/run.py --quick --server $(SERVER)
