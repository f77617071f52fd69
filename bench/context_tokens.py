"""Token economy: our chatbot context against the raw vendor JSON, per demo persona.

Usage (from the repository root)::

    .venv/bin/python bench/context_tokens.py                  # 300 demo customers around them
    .venv/bin/python bench/context_tokens.py --iterations 2000

For each persona it prints the ``o200k_base`` tokens of:

* the raw vendor JSON an agent would otherwise be handed: every vendor object of the customer's
  profile (Shopify customer and orders, Stripe customer, subscription, invoices and charges,
  HubSpot contact and deals, Zendesk user and tickets), compact JSON, summed;
* our chatbot context (text) with no budget, and at 150, 300 and 600 tokens, with the share of
  a per-persona checklist of key facts still present and the ratio raw / ours at 300.

Then the in-process cost of the audience path (decode the stored snapshot, select, fit, render),
p50/p99 in microseconds, warm. Figures are printed, never asserted; the README quotes them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import msgspec

from context_service.audience import ContextRequest, FieldPolicy, build_context, count_tokens
from context_service.demo import generate_demo
from context_service.models import Snapshot
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_all
from context_service.wiring import default_mappers

OUT = Path(__file__).resolve().parent / "out"
BUDGETS = (150, 300, 600)
# Who to look at (how to find them) and the facts a bot must not lose for each.
PERSONAS: dict[str, tuple[str, list[str]]] = {
    "Maya Patel": (
        "maya.patel@example.com",
        [
            "Maya Patel",
            "Pro subscription is past_due",
            "KJFEVMTW-0009",
            "49.00 USD due",
            "#1003",
            "not fulfilled",
            "charged twice",
        ],
    ),
    "Tomás García": (
        "tomas.garcia@example.com",
        ["Tomás García", "#1004", "refunded", "solved"],
    ),
    "Lee Wong": ("lee.wong@example.com", ["Lee Wong", "Starter", "active"]),
    "Ana Silva": ("+16175550142", ["Ana Silva", "Silva & Costa"]),
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


def raw_vendor_json(store: Store, snap: Snapshot) -> str:
    """Every vendor object of the profile's members, compact JSON, one per line."""
    lines = []
    for m in snap.members:
        row = store.conn.execute(
            "SELECT payload FROM records WHERE source = ? AND kind = ? AND external_id = ?",
            (m.source, m.kind, m.external_id),
        ).fetchone()
        if row:
            lines.append(json.dumps(json.loads(row[0]), separators=(",", ":")))
    return "\n".join(lines)


def chatbot(snap: Snapshot, budget: int | None) -> str:
    """The chatbot context as text, within ``budget``."""
    view = FieldPolicy().view("chatbot", None)
    return build_context(snap, ContextRequest("chatbot", "text", budget), view).body


def report_persona(store: Store, name: str, key: str, facts: list[str]) -> None:
    """One line per budget for one persona."""
    raw_json, _ = find(store, key)
    snap = _decode(raw_json)
    raw = count_tokens(raw_vendor_json(store, snap))
    full = chatbot(snap, None)
    print(f"\n{name}: raw vendor JSON {raw} tokens ({len(snap.members)} objects)")
    print(f"  chatbot, no budget: {count_tokens(full)} tokens, {_share(full, facts)} key facts")
    for budget in BUDGETS:
        body = chatbot(snap, budget)
        tokens = count_tokens(body)
        print(
            f"  chatbot, max_tokens={budget}: {tokens} tokens, {_share(body, facts)} key facts, "
            f"{raw / tokens:.1f}x fewer than raw"
        )


def _share(body: str, facts: list[str]) -> str:
    present = sum(1 for fact in facts if fact in body)
    missing = [fact for fact in facts if fact not in body]
    return f"{present}/{len(facts)}" + (f" (missing {missing})" if missing else "")


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
    time_audience_path(store, args.iterations)
    store.close()


if __name__ == "__main__":
    main()
