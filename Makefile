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

# Conduit (examples/conduit): SQLite (examples/conduit/db.sqlite3) unless PLAIT_DATABASE_URL says otherwise; the secret
# key is made once and kept in examples/conduit/.secret-key, so sessions and tokens survive a restart.
CONDUIT_KEY := examples/conduit/.secret-key
CONDUIT = cd examples && PLAIT_APP=conduit/app.py PLAIT_SECRET_KEY="$$(cat conduit/.secret-key)" ../$(BIN)/plait

demo: $(STAMP)
	test -s $(CONDUIT_KEY) || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(48))" > $(CONDUIT_KEY)
	$(CONDUIT) db migrate
	$(CONDUIT) conduit seed
	@echo ""
	@echo "Conduit is starting at http://127.0.0.1:8000"
	@echo "  site   http://127.0.0.1:8000/"
	@echo "  API    http://127.0.0.1:8000/api   (e.g. http://127.0.0.1:8000/api/articles)"
	@echo "  docs   http://127.0.0.1:8000/docs  (Authorize: 'Token <token from POST /api/users/login>')"
	@echo "  admin  http://127.0.0.1:8000/admin (the demo superuser above)"
	@echo ""
	$(CONDUIT) run conduit/app.py:app --host 127.0.0.1 --port 8000

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
