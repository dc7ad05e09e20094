# The README's commands. Everything is set up from scratch on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# JavaScript the browser tests inject (axe-core), pinned by package-lock.json; the app itself needs no build.
NODE_STAMP := node_modules/.package-lock.json
PYTEST_ARGS ?=

.PHONY: demo test lint serve system-deps clean

# system-deps first (order only): the C compiler the install needs for service/risk/_runs.c
$(STAMP): pyproject.toml service/risk/_runs.c | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps:
	bash infra/scripts/system-deps.sh

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

## make demo: a fresh SQLite database with seeded clinics, the logins printed (with the client app's
## and the portal's addresses), then the service on :8000
demo: $(STAMP) system-deps
	$(BIN)/tandem demo

serve: $(STAMP)
	$(BIN)/tandem serve

## make test: lint and architecture rules, then the whole test suite (PostgreSQL when
## TANDEM_TEST_DATABASE_URL is set, SQLite otherwise)
## (PYTHONDONTWRITEBYTECODE, set on some machines, is lifted for the run: each worker and each `tandem`
## subprocess would compile every module again, about 4 s apiece)
test: $(STAMP) system-deps $(NODE_STAMP) lint
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy service client_api clinician_portal

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
