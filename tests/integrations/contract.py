"""What a vendor must supply to run the connector contract (``test_contract.py``).

Each vendor package under ``tests/integrations/`` that has a ``contract_case.py`` with a
``make_case() -> Case`` function is picked up by the contract suite automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from context_service.models import Connector, Page, Stream

Delivery = tuple[dict[str, str], bytes]


@dataclass
class Case:
    """How to drive one vendor's fake through the contract."""

    source: str
    fake: Any
    connector: Callable[[httpx.Client | None], Connector]
    expected_keys: Callable[[], set[tuple[str, str]]]
    delivery: Callable[[float], Delivery]
    stale_delivery: Callable[[float], Delivery]
    now: Callable[[], float]


def stream(connector: Connector, name: str) -> Stream:
    """The connector's stream called ``name``."""
    return next(s for s in connector.streams() if s.name == name)


def pages(connector: Connector, name: str, cursor: str | None = None) -> list[Page]:
    """Every page of one stream from ``cursor``."""
    return list(stream(connector, name).pages(cursor))


def ids(found: list[Page]) -> list[Any]:
    """The vendor ids of every object on these pages."""
    return [obj.payload["id"] for page in found for obj in page.objects]


def run_all(connector: Connector, cursors: dict[str, str | None]) -> dict[str, list[Page]]:
    """One run of every stream in order, storing each page's cursor as the runner would."""
    found = {}
    for s in connector.streams():
        found[s.name] = list(s.pages(cursors.get(s.name)))
        for page in found[s.name]:
            cursors[s.name] = page.cursor
    return found
