# Two commands matter: `make demo` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_DB ?= demo.db

.PHONY: demo test lint typecheck layers chromium pytest bench bench-identity clean

$(VENV): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)

demo: $(VENV)
	CONTEXT_SERVICE_DB=$${CONTEXT_SERVICE_DB:-$(DEMO_DB)} $(BIN)/context-service demo --port $(PORT)

lint: $(VENV)
	$(BIN)/ruff check context_service integrations tests bench
	$(BIN)/ruff format --check context_service integrations tests bench

typecheck: $(VENV)
	$(BIN)/mypy

layers: $(VENV)
	$(BIN)/lint-imports

pytest: $(VENV)
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

bench: $(VENV)
	$(BIN)/python bench/context_bench.py

# Our identity engine and Splink 5 on the same 100k labeled records (Splink: the bench extra).
bench-identity: $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.identity.run --records 100000 --splink --no-examples

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .pytest_cache .ruff_cache $(DEMO_DB)*
