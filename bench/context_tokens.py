"""Token economy: our chatbot context against the raw vendor JSON, per demo persona and overall.

Usage (from the repository root)::

    .venv/bin/python bench/context_tokens.py                  # 300 demo customers around them
    .venv/bin/python bench/context_tokens.py --iterations 2000

For each persona it prints the ``o200k_base`` tokens of:

* the raw vendor JSON an agent would otherwise be handed: every vendor object of the customer's
  profile (Shopify customer and orders, Stripe customer, subscription, invoices and charges,
  HubSpot contact and deals, Zendesk user and tickets with their comments) exactly as the demo
  generator writes them, which is every field the vendors' APIs return (see
  ``context_service/demo``), compact JSON, summed; and the same objects with every empty value
  (``null``, ``false``, ``""``, ``[]``, ``{}``) dropped, the least a careful integrator would do;
* our chatbot context (text) with no budget, and at 150, 300 and 600 tokens, with the share of
  a per-persona checklist of key facts still present and the ratio raw / ours.

A key fact is a pattern that must match one line of the context (``Pro ... past_due``: the
plan and its state together), so rewording does not lose it and scattering does not fake it.

Then the same ratio over every profile of the demo store (sum of raw tokens / sum of context
tokens at 300), and the in-process cost of the audience path (decode the stored snapshot,
select, fit, render), p50/p99 in microseconds, warm. Figures are printed, never asserted; the
README quotes them.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import msgspec

from context_service.audience import ContextRequest, FieldPolicy, build_context, count_tokens
from context_service.demo import generate_demo
from context_service.models import Snapshot
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_all
from context_service.wiring import default_mappers

OUT = Path(__file__).resolve().parent / "out"
BUDGETS = (150, 300, 600)
TARGET = 300
# Who to look at (how to find them) and the facts a bot must not lose: (label, pattern).
Facts = list[tuple[str, str]]
PERSONAS: dict[str, tuple[str, Facts]] = {
    "Maya Patel": (
        "maya.patel@example.com",
        [
            ("name", r"Maya Patel"),
            ("Pro plan past due", r"\bPro\b.*past_due"),
            ("invoice KJFEVMTW-0009", r"KJFEVMTW-0009"),
            ("49 USD due", r"49(\.00)? USD due"),
            ("order #1003", r"#1003\b"),
            ("#1003 not shipped", r"#1003\b.*(unfulfilled|not fulfilled)"),
            ("ticket: charged twice", r"charged twice"),
        ],
    ),
    "Tomás García": (
        "tomas.garcia@example.com",
        [
            ("name", r"Tomás García"),
            ("order #1004", r"#1004\b"),
            ("#1004 refunded", r"#1004\b.*refunded"),
            ("ticket solved", r"\bsolved\b"),
        ],
    ),
    "Lee Wong": (
        "lee.wong@example.com",
        [("name", r"Lee Wong"), ("Starter plan active", r"\bStarter\b.*\bactive\b")],
    ),
    "Ana Silva": ("+16175550142", [("name", r"Ana Silva"), ("company", r"Silva & Costa")]),
}
_decode = msgspec.json.Decoder(Snapshot).decode


def build_store(customers: int) -> Path:
    """Build the demo store once; reuse it afterwards."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"tokens_{customers}.db"
    if not path.exists():
        store = Store(path)
        payloads = (RawPayload(p.source, p.kind, p.payload) for p in generate_demo(customers))
        ingest_all(store, payloads, IngestContext(mappers=default_mappers()))
        store.close()
    return path


def find(store: Store, key: str) -> tuple[bytes, str]:
    """(stored snapshot JSON, profile id) of the persona with this email or phone."""
    from context_service.snapshot import lookup

    stored = (
        lookup.by_phone(store.conn, key, "US")
        if key.startswith("+")
        else lookup.by_email(store.conn, key)
    )
    return stored.json, stored.profile_id


def vendor_objects(store: Store, snap: Snapshot) -> list[Any]:
    """Every stored vendor object of the profile's members, as the vendor sent it."""
    objects = []
    for m in snap.members:
        row = store.conn.execute(
            "SELECT payload FROM records WHERE source = ? AND kind = ? AND external_id = ?",
            (m.source, m.kind, m.external_id),
        ).fetchone()
        if row:
            objects.append(json.loads(row[0]))
    return objects


def compact(objects: list[Any]) -> str:
    """Compact JSON, one object per line."""
    return "\n".join(json.dumps(o, separators=(",", ":"), ensure_ascii=False) for o in objects)


def without_empties(value: Any) -> Any:
    """``value`` with every null, false, empty string, list or object dropped, recursively."""
    if isinstance(value, dict):
        kept = {k: without_empties(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, False, "", [], {})}
    if isinstance(value, list):
        return [without_empties(v) for v in value]
    return value


def chatbot(snap: Snapshot, budget: int | None, matched: str) -> str:
    """The chatbot context as text, within ``budget``, for a customer found by ``matched``."""
    view = FieldPolicy().view("chatbot", None)
    request = ContextRequest("chatbot", "text", budget, matched=matched)
    return build_context(snap, request, view).body


def report_persona(store: Store, name: str, key: str, facts: Facts) -> None:
    """One line per budget for one persona."""
    raw_json, _ = find(store, key)
    snap = _decode(raw_json)
    objects = vendor_objects(store, snap)
    raw = count_tokens(compact(objects))
    lean = count_tokens(compact([without_empties(o) for o in objects]))
    matched = "phone" if key.startswith("+") else "email"
    full = chatbot(snap, None, matched)
    print(
        f"\n{name}: raw vendor JSON {raw} tokens ({len(objects)} objects), "
        f"{lean} without empty values"
    )
    print(f"  chatbot, no budget: {count_tokens(full)} tokens, {_share(full, facts)} key facts")
    for budget in BUDGETS:
        body = chatbot(snap, budget, matched)
        tokens = count_tokens(body)
        print(
            f"  chatbot, max_tokens={budget}: {tokens} tokens, {_share(body, facts)} key facts, "
            f"{raw / tokens:.1f}x fewer than raw ({lean / tokens:.1f}x without empties)"
        )


def _share(body: str, facts: Facts) -> str:
    missing = [label for label, pattern in facts if not re.search(pattern, body)]
    present = len(facts) - len(missing)
    return f"{present}/{len(facts)}" + (f" (missing {missing})" if missing else "")


def report_all(store: Store) -> None:
    """The ratio over every profile of the store: sums, and how the per-profile ratios spread."""
    rows = store.conn.execute("SELECT json FROM snapshots").fetchall()
    raw_sum = lean_sum = ours_sum = 0
    ratios = []
    for (stored,) in rows:
        snap = _decode(stored)
        objects = vendor_objects(store, snap)
        raw = count_tokens(compact(objects))
        ours = count_tokens(chatbot(snap, TARGET, "email"))
        raw_sum += raw
        lean_sum += count_tokens(compact([without_empties(o) for o in objects]))
        ours_sum += ours
        ratios.append(raw / ours)
    ratios.sort()
    at_target = sum(1 for r in ratios if r >= 20) / len(ratios)
    print(
        f"\nAll {len(rows)} demo profiles, chatbot at max_tokens={TARGET}: raw {raw_sum} tokens, "
        f"ours {ours_sum}: {raw_sum / ours_sum:.1f}x fewer ({lean_sum / ours_sum:.1f}x without "
        f"empties); per profile median {statistics.median(ratios):.1f}x, "
        f"10th percentile {ratios[len(ratios) // 10]:.1f}x, min {ratios[0]:.1f}x, "
        f"{at_target:.0%} of profiles at 20x or more"
    )


def time_audience_path(store: Store, iterations: int) -> None:
    """p50/p99 of decode + select + fit + render, per shape."""
    raw_json, _ = find(store, "maya.patel@example.com")
    policy = FieldPolicy()
    shapes = [
        ("chatbot text, max_tokens=300", ContextRequest("chatbot", "text", 300)),
        ("chatbot text, no budget", ContextRequest("chatbot", "text")),
        ("agent markdown, no budget", ContextRequest("agent", "markdown")),
        ("agent json, max_tokens=1000", ContextRequest("agent", "json", 1000)),
    ]
    print(f"\nIn-process audience path for Maya, {iterations} calls each, warm:")
    for label, request in shapes:
        view = policy.view(request.audience, None)
        samples = []
        for _ in range(iterations):
            start = time.perf_counter()
            build_context(_decode(raw_json), request, view)
            samples.append((time.perf_counter() - start) * 1e6)
        samples.sort()
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(f"  {label}: p50 {statistics.median(samples):.0f} us, p99 {p99:.0f} us")


def main() -> None:
    """Build or reuse the store, then print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--iterations", type=int, default=1000)
    args = parser.parse_args()
    store = Store(build_store(args.customers))
    count_tokens("warm up")
    for name, (key, facts) in PERSONAS.items():
        report_persona(store, name, key, facts)
    report_all(store)
    time_audience_path(store, args.iterations)
    store.close()


if __name__ == "__main__":
    main()
