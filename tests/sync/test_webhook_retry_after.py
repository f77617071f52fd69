"""A delivery whose refetch a vendor answered 429 with a ``Retry-After`` is tried again no
sooner than the vendor asked (the server's connectors give up at once instead of waiting it
out in-line): asking again after 5, 10, 20 s spends a request of a limit the vendor said is
spent for 90 s. Without a hint, the delay grows from 5 seconds as before."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from context_service.errors import RetriableError
from context_service.models import Delivery, VendorObject
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive
from context_service.sync.webhooks import RETRY_MAX_SECONDS

NOW = 1_796_000_000.0  # the clock handed to apply_pending: nothing here waits


class _Busy:
    """A source whose every refetch is answered 429 with ``retry_after`` seconds asked."""

    source = "zendesk"

    def __init__(self, retry_after: float | None) -> None:
        self.retry_after = retry_after
        self.calls = 0

    def streams(self) -> list[Any]:
        return []

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str, now: float) -> None:
        return None

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        ref = str(json.loads(body)["refetch"])
        return Delivery([f"r{ref}"], "user.updated", refetch=[("user", ref)])

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        self.calls += 1
        extra = {} if self.retry_after is None else {"retry_after": self.retry_after}
        raise RetriableError("zendesk answered 429", **extra)


def _calls_at(store: Store, ctx: IngestContext, vendor: _Busy, offsets: list[float]) -> list[int]:
    body = json.dumps({"refetch": 1}).encode()
    assert receive(store, vendor, {}, body, "u", NOW).status == "accepted"
    seen = []
    for offset in offsets:
        apply_pending(store, {"zendesk": vendor}, ctx, now=NOW + offset)
        seen.append(vendor.calls)
    return seen


def test_a_delivery_waits_as_long_as_the_vendor_asked(store: Store, ctx: IngestContext) -> None:
    assert _calls_at(store, ctx, _Busy(90.0), [0, 5, 30, 89, 90]) == [1, 1, 1, 1, 2]


def test_without_a_hint_the_delay_grows_from_five_seconds(store: Store, ctx: IngestContext) -> None:
    assert _calls_at(store, ctx, _Busy(None), [0, 4, 5]) == [1, 1, 2]


def test_an_absurd_hint_waits_no_longer_than_the_longest_delay(
    store: Store, ctx: IngestContext
) -> None:
    seen = _calls_at(store, ctx, _Busy(10 * 86_400.0), [0, RETRY_MAX_SECONDS])
    assert seen == [1, 2]
