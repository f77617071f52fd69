"""Access to the vendors' published example payloads in ``shared/refdata``.

The repository is checked out with ``shared/`` beside it (``/work/main`` and ``/work/shared``
locally; CI clones the same layout). When the folder is missing, tests that need it are skipped
with a reason saying where it was looked for; nothing else in the module is affected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REFDATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "refdata"
MISSING_REASON = f"vendor reference data not found at {REFDATA_DIR} (shared/ beside the repo)"


def available() -> bool:
    """Whether the reference data folder exists."""
    return REFDATA_DIR.is_dir()


def refdata(*parts: str) -> Any:
    """The parsed JSON file at ``shared/refdata/<parts...>``; skips the test when it is missing."""
    path = REFDATA_DIR.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{MISSING_REASON}: {'/'.join(parts)} missing")
    return json.loads(path.read_text(encoding="utf-8"))


def _shopify_objects(resource: str, key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(case name, object) for every ``key`` object in every response of ``shopify/<resource>``.

    ``key`` is the singular resource name; list responses under its plural are included.
    """
    for case in refdata("shopify", f"{resource}.json")["cases"]:
        response = case.get("response") or {}
        objects = response.get(f"{key}s") or ([response[key]] if key in response else [])
        for obj in objects:
            yield case["test"], obj


def shopify_params(resource: str, key: str) -> list[Any]:
    """``pytest.param`` per Shopify example object, for ``parametrize`` at collection time.

    Without the reference data this is one skipped parameter carrying the reason.
    """
    if not available():
        return [pytest.param(None, id="refdata-missing", marks=pytest.mark.skip(MISSING_REASON))]
    return [
        pytest.param(obj, id=f"{resource}-{test}-{obj.get('id')}")
        for test, obj in _shopify_objects(resource, key)
    ]


def shopify_case(resource: str, test: str, key: str, index: int = 0) -> dict[str, Any]:
    """One object from one named case (``test_1``...) of ``shopify/<resource>.json``."""
    matches = [obj for name, obj in _shopify_objects(resource, key) if name == test]
    return matches[index]
