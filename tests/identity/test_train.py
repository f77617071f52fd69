"""Training estimates every level of every field from the store's own records."""

from __future__ import annotations

import math
import random

import msgspec

from context_service.identity.compare import FIELDS
from context_service.identity.features import Features
from context_service.identity.model import DEFAULT_MODEL, MatchModel
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


def _strangers(count: int) -> dict[int, Features]:
    """``count`` people with one record each: distinct names, mailboxes and numbers."""
    return {
        i: Features(
            emails=(f"{FIRST[i % 10]}.{LAST[i % 8]}.{10000 + i}@mail{i % 7}.example",),
            first=FIRST[i % 10],
            last=LAST[i % 8] + chr(97 + i % 26) + chr(97 + (i // 26) % 26),
        )
        for i in range(count)
    }


def test_a_rare_level_keeps_a_rare_u_instead_of_a_smoothed_floor() -> None:
    """Two different people almost never share a handle at two providers. A u smoothed up from
    a sample of 20,000 pairs that shows none (about 1 in 40,000) would cut the weight of that
    level from about 18 to about 10, and the model would stop linking one person's two
    mailboxes. The email field is sampled on its own, 500,000 pairs, and what the sample cannot
    see keeps its starting value (as Splink does), capped at one in the sample's size."""
    found = _strangers(6000)
    for n in range(40):  # forty people whose second record has the same handle elsewhere
        first = found[n]
        found[10_000 + n] = Features(
            emails=(first.emails[0].split("@")[0] + "@other.example",),
            first=first.first,
            last=first.last,
        )
    model = train(found, "2026-01-01T00:00:00Z").model
    assert model.levels["email"]["local"].u <= 1 / 500_000
    assert model.levels["email"]["local"].weight > 15
    assert model.levels["email"]["fuzzy"].u <= DEFAULT_MODEL.levels["email"]["fuzzy"].u


def test_a_field_no_record_holds_keeps_its_starting_values() -> None:
    """No record names a company: nothing says how often strangers share one (the sample
    saw none), so company keeps its starting m and u instead of u = 1/3 and a weight near 0."""
    model = train(_strangers(600), "2026-01-01T00:00:00Z").model
    for level in ("exact", "different"):
        assert model.levels["company"][level] == DEFAULT_MODEL.levels["company"][level]


def test_company_u_is_how_often_two_random_records_share_a_company() -> None:
    """Here 300 of 600 records work at one firm and the others at firms with unrelated names:
    about a quarter of random pairs share a company. (Company's ``exact`` level also takes
    near-identical names, so it is sampled, not counted from identical values.)"""
    rng = random.Random(3)
    found = {
        rid: msgspec.structs.replace(
            f,
            company="globex"
            if rid % 2
            else "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(9)),
        )
        for rid, f in _strangers(600).items()
    }
    model = train(found, "2026-01-01T00:00:00Z").model
    assert abs(model.levels["company"]["exact"].u - 300 * 299 / (600 * 599)) < 0.02
    assert 0 < model.levels["company"]["exact"].weight < 3
