"""What a vendor must supply to run the connector contract (``test_contract.py``).

Each vendor package under ``tests/integrations/`` that has a ``contract_case.py`` with a
``make_case() -> Case`` function is picked up by the contract suite automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from context_service.models import Connector

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
