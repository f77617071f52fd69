# Two commands matter: `make demo` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= $(or $(CONTEXT_SERVICE_PORT),8000)
DEMO_DB ?= demo.db
# Written only when the install succeeded: an install that failed (no network, another Python,
# Ctrl-C) is tried again by the next command instead of leaving a half-made .venv behind.
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint typecheck layers chromium pytest bench bench-identity clean $(VENV)

$(VENV): $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else \
		f"Python 3.11 is needed; $(PYTHON) is {v[0]}.{v[1]}: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

demo: $(INSTALLED)
	CONTEXT_SERVICE_DB=$${CONTEXT_SERVICE_DB:-$(DEMO_DB)} $(BIN)/context-service demo --port $(PORT)

lint: $(INSTALLED)
	$(BIN)/ruff check context_service integrations tests bench
	$(BIN)/ruff format --check context_service integrations tests bench

typecheck: $(INSTALLED)
	$(BIN)/mypy

layers: $(INSTALLED)
	$(BIN)/lint-imports

pytest: $(INSTALLED)
	$(BIN)/pytest -n 2

# The browser test drives Debian's chromium: installed here when possible (root with apt-get),
# otherwise that one test is skipped and says why.
chromium:
	@if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing chromium for the browser test..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
			>/dev/null) || echo "chromium could not be installed; the browser test will skip"; \
	else echo "chromium is not installed (apt-get install -y chromium); the browser test will skip"; \
	fi

test: lint typecheck layers chromium pytest

bench: $(INSTALLED)
	$(BIN)/python bench/context_bench.py

# Our identity engine and Splink 5 on the same 100k labeled records (Splink: the bench extra).
bench-identity: $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.identity.run --records 100000 --splink --no-examples

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .pytest_cache .ruff_cache $(DEMO_DB)*
