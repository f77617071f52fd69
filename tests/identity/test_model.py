"""The match model as stored: older stored models keep working when levels are added."""

from __future__ import annotations

import msgspec

from context_service.identity.compare import FIELDS
from context_service.identity.model import DEFAULT_MODEL, MatchModel


def test_a_model_stored_before_a_level_existed_scores_with_the_levels_starting_values() -> None:
    stored = msgspec.to_builtins(DEFAULT_MODEL)
    del stored["levels"]["email"]["related"]
    model = msgspec.json.decode(msgspec.json.encode(stored), type=MatchModel)
    assert model.levels["email"]["related"] == DEFAULT_MODEL.levels["email"]["related"]
    levels = ("related", "null", "exact", "exact", "null", "null")
    assert model.weight(levels) == DEFAULT_MODEL.weight(levels)


def test_the_default_model_has_every_level_of_every_field() -> None:
    for field, levels in FIELDS.items():
        assert set(DEFAULT_MODEL.levels[field]) == set(levels)
