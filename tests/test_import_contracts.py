"""The import-linter contract "integrations import only models and errors" names every other
module of ``context_service``: it left out audience, tools, llm, handoff, trust, sheets, export,
wiring, widget, mcp_server and doctor, so an integration could have imported any of them
unnoticed. A module added to the package must be added to the contract too."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import context_service

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
ALLOWED = {"context_service.models", "context_service.errors"}


def _contract(name: str) -> dict[str, Any]:
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    found: list[dict[str, Any]] = [c for c in contracts if c["name"] == name]
    assert len(found) == 1, name
    return found[0]


def test_integrations_may_import_no_context_service_module_but_models_and_errors() -> None:
    contract = _contract("Integrations import only models, errors and their own helpers")
    assert contract["source_modules"] == ["integrations"]
    modules = {
        f"context_service.{info.name}" for info in pkgutil.iter_modules(context_service.__path__)
    }
    assert modules >= ALLOWED
    assert set(contract["forbidden_modules"]) == modules - ALLOWED
