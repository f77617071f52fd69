"""Serve the test suite's in-memory Shopify and Stripe fakes over real HTTP on loopback.

Used by ``bench/ingest_bench.py`` (run in its own process, so the fakes do not share the sync's
CPU time). Every ``--throttle-every``-th request answers 429 with ``Retry-After: 0``.

    python bench/mock_vendors.py --shopify-port 9101 --stripe-port 9102 --records 50000
"""

from __future__ import annotations

import argparse
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bisect

from tests.integrations.shopify.fake import (
    _COST_PER_NODE,
    FakeShopify,
    _decode_cursor,
    _encode_cursor,
    _numeric,
)
from tests.integrations.stripe.fake import FakeStripe
from tests.loopback import handler_class

STRIPE_OBJECTS_PER_CUSTOMER = 6  # customer, subscription, 2 invoices, 2 charges (+ some)


class FastShopify(FakeShopify):
    """The test fake with its pages served from a sorted index (the data never changes here)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._index: dict[str, tuple[list[tuple[str, int]], list[dict[str, Any]]]] = {}

    def _page(self, name: str, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
        if variables.get("query"):
            return super()._page(name, variables)
        keys, records = self._sorted(name)
        start = 0
        if variables.get("after"):
            start = bisect.bisect_right(keys, tuple(_decode_cursor(variables["after"])))
        first = int(variables["first"])
        page = records[start : start + first]
        connection = {
            "nodes": page,
            "pageInfo": {
                "hasNextPage": start + first < len(records),
                "endCursor": _encode_cursor(page[-1]) if page else None,
            },
        }
        return {name: connection}, 2 + len(page) * _COST_PER_NODE[name]

    def _sorted(self, name: str) -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
        if name not in self._index:
            records = sorted(
                self._table(name).values(), key=lambda r: (r["updatedAt"], _numeric(r["id"]))
            )
            keys = [(r["updatedAt"], _numeric(r["id"])) for r in records]
            self._index[name] = (keys, records)
        return self._index[name]


class FastStripe(FakeStripe):
    """The test fake with ``starting_after`` found through an id index."""

    def _list(self, request: httpx.Request, items: list[Any]) -> httpx.Response:
        after = request.url.params.get("starting_after")
        if after is None:
            return super()._list(request, items)
        positions = {o["id"]: i for i, o in enumerate(items)} if len(items) < 50 else None
        index = (positions or self._positions(items)).get(after)
        if index is None:
            return super()._list(request, items)
        limit = int(request.url.params.get("limit", "10"))
        rest = items[index + 1 :]
        body = {
            "object": "list",
            "data": rest[:limit],
            "has_more": len(rest) > limit,
            "url": request.url.path,
        }
        return httpx.Response(200, json=body)

    def _positions(self, items: list[Any]) -> dict[str, int]:
        cache: dict[int, dict[str, int]] = self.__dict__.setdefault("_pos_cache", {})
        if id(items) not in cache:
            cache[id(items)] = {o["id"]: i for i, o in enumerate(items)}
        return cache[id(items)]


def _forgetful(fake: Any) -> Any:
    """The fake's handler, without its unbounded log of requests."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        fake.requests.clear()
        return response  # type: ignore[no-any-return]

    return handle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shopify-port", type=int, required=True)
    parser.add_argument("--stripe-port", type=int, required=True)
    parser.add_argument("--records", type=int, default=50_000, help="about this many in all")
    parser.add_argument("--throttle-every", type=int, default=200)
    args = parser.parse_args()
    half = args.records // 2
    shopify = FastShopify(maximum_available=10**9, restore_rate=10**9)  # no cost throttle
    shopify.add_customers(half // 2)
    shopify.add_orders(half - half // 2)
    stripe = FastStripe()
    stripe.add_customers(half // STRIPE_OBJECTS_PER_CUSTOMER)
    servers = [
        ThreadingHTTPServer(
            ("127.0.0.1", args.shopify_port),
            handler_class(_forgetful(shopify), args.throttle_every),
        ),
        ThreadingHTTPServer(
            ("127.0.0.1", args.stripe_port), handler_class(_forgetful(stripe), args.throttle_every)
        ),
    ]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    stripe_count = sum(len(items) for items in stripe.objects.values())
    print(
        f"ready shopify={len(shopify.customers) + len(shopify.orders)} stripe={stripe_count}",
        flush=True,
    )
    threading.Event().wait()


if __name__ == "__main__":
    main()
