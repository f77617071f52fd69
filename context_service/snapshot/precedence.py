"""Which value to show when sources disagree, and the conflicts that result.

Each field has a source precedence (the system most likely to be curated for that field comes
first); sources not listed rank after the listed ones, and within one source the most recently
updated record wins. A conflict is reported when different sources hold different values.
"""

from __future__ import annotations

import re
from functools import lru_cache

import msgspec

from context_service.identity.normalize import fold
from context_service.models import Conflict, ConflictValue

PRECEDENCE: dict[str, tuple[str, ...]] = {
    "name": ("hubspot", "shopify", "stripe", "zendesk"),
    "phone": ("shopify", "stripe", "hubspot", "zendesk"),
    "company": ("hubspot", "stripe", "shopify", "zendesk"),
    "address": ("shopify", "stripe", "hubspot", "zendesk"),
}
_COMPANY_SUFFIX = re.compile(r"\b(inc|llc|ltd|limited|gmbh|corp|co|plc|sa|sas|bv)\b\.?")


class Candidate(msgspec.Struct, frozen=True):
    """One source's value for a field: shown as ``display``, compared as ``normalized``."""

    source: str
    display: str
    normalized: str
    updated_at: str | None = None


@lru_cache(maxsize=65536)
def normalize_for(field: str, value: str) -> str:
    """The comparison form of a field's value (case, accents, punctuation, company suffixes)."""
    folded = fold(value)
    if field == "company":
        folded = _COMPANY_SUFFIX.sub("", folded)
    return " ".join(re.findall(r"[\w+]+", folded))


def source_rank(field: str, source: str) -> int:
    """Where ``source`` stands in ``field``'s precedence (0 first; unlisted sources last)."""
    order = PRECEDENCE.get(field, ())
    return order.index(source) if source in order else len(order)


def choose(field: str, candidates: list[Candidate]) -> tuple[str | None, Conflict | None]:
    """The value to show for a field and, if sources disagree, the conflict explaining the pick."""
    if not candidates:
        return None, None
    order = PRECEDENCE.get(field, ())
    newest_first = sorted(candidates, key=lambda c: c.updated_at or "", reverse=True)
    # stable: within one source, the newest stays first
    ranked = sorted(newest_first, key=lambda c: source_rank(field, c.source))
    chosen = ranked[0]
    distinct = {(c.source, c.normalized) for c in candidates}
    if len({norm for _, norm in distinct}) < 2 or len({src for src, _ in distinct}) < 2:
        return chosen.display, None
    rule = "source precedence: " + " > ".join(order) if order else "most recently updated"
    values = _one_per_source_value(ranked)
    return chosen.display, Conflict(field=field, chosen=chosen.display, rule=rule, values=values)


def _one_per_source_value(ranked: list[Candidate]) -> list[ConflictValue]:
    seen: set[tuple[str, str]] = set()
    values: list[ConflictValue] = []
    for cand in ranked:
        if (cand.source, cand.normalized) in seen:
            continue
        seen.add((cand.source, cand.normalized))
        values.append(ConflictValue(source=cand.source, value=cand.display))
    return values
