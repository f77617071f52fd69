"""The Fellegi-Sunter match model: m and u probabilities per field level, and a prior.

For each field level, ``m`` is how often two records of the same person compare at that level
and ``u`` how often two records of different people do; the level's match weight is
``log2(m / u)``. A pair's weight is the prior's log-odds plus its levels' weights, and its match
probability is ``1 / (1 + 2 ** -weight)``.

The prior is the chance that two records drawn at random are the same person, about one in the
number of records: a larger store asks for more evidence, so name collisions that grow with
scale do not turn into false merges. ``train.py`` estimates m, u and the prior from the store
itself (random pairs for u, expectation-maximisation over blocked pairs for m); until a store has
been trained, ``DEFAULT_MODEL`` applies.
"""

from __future__ import annotations

import math

import msgspec

from context_service.identity.compare import FIELD_NAMES, FIELDS, NULL, Levels

_MIN_PROBABILITY = 1e-9


class FieldLevel(msgspec.Struct, frozen=True, array_like=True):
    """m and u of one level of one field."""

    m: float
    u: float

    @property
    def weight(self) -> float:
        """``log2(m / u)``: positive when the level is evidence of a match."""
        return math.log2(max(self.m, _MIN_PROBABILITY) / max(self.u, _MIN_PROBABILITY))


class MatchModel(msgspec.Struct, frozen=True):
    """Everything needed to score a pair; stored as JSON in ``identity_model``."""

    levels: dict[str, dict[str, FieldLevel]]
    prior: float  # probability that two random records are the same person
    trained_at: str | None = None
    trained_on: int = 0  # records in the store when trained

    def __post_init__(self) -> None:
        # A model stored before a level existed lacks it: that level keeps its starting values.
        defaults = globals().get("DEFAULT_MODEL")
        if defaults is None:
            return
        for field, levels in defaults.levels.items():
            known = self.levels.setdefault(field, {})
            for level, values in levels.items():
                known.setdefault(level, values)

    def prior_weight(self) -> float:
        """The prior as a log2 odds."""
        p = min(max(self.prior, _MIN_PROBABILITY), 1 - _MIN_PROBABILITY)
        return math.log2(p / (1 - p))

    def weight(self, levels: Levels) -> float:
        """The pair's total match weight (log2 odds)."""
        total = self.prior_weight()
        for field, level in zip(FIELD_NAMES, levels, strict=True):
            if level != NULL:
                total += self.levels[field][level].weight
        return total

    def probability(self, levels: Levels) -> float:
        """The pair's match probability."""
        return probability_of(self.weight(levels))

    def evidence(self, levels: Levels) -> dict[str, dict[str, float | str]]:
        """Per field: the level and its weight (``null`` fields are left out)."""
        return {
            field: {"level": level, "weight": round(self.levels[field][level].weight, 2)}
            for field, level in zip(FIELD_NAMES, levels, strict=True)
            if level != NULL
        }

    def for_store_size(self, records: int) -> MatchModel:
        """The same model with the prior of a store of this many records (about 1 in n)."""
        return msgspec.structs.replace(self, prior=prior_for(records))


def probability_of(weight: float) -> float:
    """Log2 odds to probability (no overflow for large weights)."""
    if weight >= 0:
        return 1.0 / (1.0 + math.pow(2.0, -weight))
    odds = math.pow(2.0, weight)
    return odds / (1.0 + odds)


def prior_for(records: int) -> float:
    """The chance that two random records of a store this size are one person (~1/n)."""
    return 1.0 / max(records, 100)


def _levels(table: dict[str, dict[str, tuple[float, float]]]) -> dict[str, dict[str, FieldLevel]]:
    out: dict[str, dict[str, FieldLevel]] = {}
    for field, names in FIELDS.items():
        out[field] = {NULL: FieldLevel(1.0, 1.0)}
        for name in names[1:]:
            m, u = table[field][name]
            out[field][name] = FieldLevel(m, u)
    return out


# Starting values before a store is trained, in line with what Splink's examples report for
# person data: exact emails and phones are nearly unique, first names collide often.
DEFAULT_MODEL = MatchModel(
    levels=_levels(
        {
            "email": {
                "exact": (0.55, 1e-6),
                "shared": (0.02, 1e-4),
                # The same handle at two providers: rarer by chance than one typo apart.
                "local": (0.03, 1e-7),
                # A slip of a handle, or a second handle, with the same five-digit number.
                "handle": (0.04, 1e-7),
                "fuzzy": (0.05, 1e-5),
                "related": (0.08, 1e-5),
                "different": (0.27, 0.99997),
            },
            "phone": {"exact": (0.5, 1e-6), "shared": (0.02, 1e-4), "different": (0.48, 0.9999)},
            "first_name": {
                "exact": (0.85, 0.01),
                "fuzzy": (0.08, 0.01),
                "initial": (0.04, 0.03),
                "different": (0.03, 0.95),
            },
            "last_name": {
                "exact": (0.88, 0.002),
                "fuzzy": (0.09, 0.004),
                "different": (0.03, 0.994),
            },
            "address": {
                "exact": (0.55, 1e-5),
                "postcode": (0.1, 1e-3),
                "different": (0.35, 0.999),
            },
            "company": {"exact": (0.6, 0.005), "different": (0.4, 0.995)},
        }
    ),
    # Until trained, assume a large store: two records sharing only a common name are not worth
    # a person's time, and probabilistic links need two independent pieces of evidence.
    prior=prior_for(1_000_000),
)
