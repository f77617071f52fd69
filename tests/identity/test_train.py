"""Training estimates every level of every field from the store's own records."""

from __future__ import annotations

import math

import msgspec

from context_service.identity.compare import FIELDS
from context_service.identity.features import Features
from context_service.identity.model import MatchModel
from context_service.identity.train import train

FIRST = ["ann", "bob", "carla", "dmitri", "eve", "farah", "gus", "hana", "ivan", "jo"]
LAST = ["lee", "okafor", "silva", "novak", "kim", "haddad", "berg", "ito"]


def _store() -> dict[int, Features]:
    """Two records per person: one with the primary mailbox, one with a second mailbox that
    keeps the handle, and every few people a typo in the first name."""
    found: dict[int, Features] = {}
    for i in range(120):
        first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
        typo = first[:-1] if i % 5 == 0 and len(first) > 3 else first
        found[2 * i] = Features(
            emails=(f"{first}.{last}{1000 + i}@gmail.com",), first=first, last=last
        )
        found[2 * i + 1] = Features(
            emails=(f"{first}_{last}{1000 + i}@work.example",), first=typo, last=last
        )
    return found


def test_training_estimates_a_finite_weight_for_every_level() -> None:
    report = train(_store(), "2026-01-01T00:00:00Z")
    for field, levels in FIELDS.items():
        for level in levels:
            assert math.isfinite(report.model.levels[field][level].weight), (field, level)
    stored = msgspec.json.decode(msgspec.json.encode(report.model), type=MatchModel)
    assert stored == report.model
    assert report.model.levels["email"]["local"].weight > 0
