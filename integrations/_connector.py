"""The contract every source connector implements; the sync runner only knows this module.

A connector is one package per source (``integrations/<source>/``) exposing a ``Connector``:

* ``streams``: the streams it can sync (``customers``, ``orders``...). A stream yields ``Page``s;
  each page carries the vendor objects fetched and the cursor to persist **after** that page.
  The runner commits a page's records and its cursor in one transaction, so a run killed at any
  moment resumes from the last committed page. Cursors are opaque JSON strings owned by the
  stream; ``None`` means "start from the beginning" (a full backfill).
* ``verify_webhook``: checks a delivery's signature over the raw body (constant-time) and its
  age, before anything is parsed; raises ``WebhookRejected``.
* ``parse_webhook``: turns a verified delivery into the vendor objects it carries, with the ids
  used to deduplicate it.

Connectors import only ``context_service.models``, ``context_service.errors`` and
``integrations._*`` helpers. HTTP goes through the one injected ``httpx.Client``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import msgspec

from context_service.errors import WebhookRejected

__all__ = ["Connector", "Delivery", "Page", "Stream", "VendorObject", "WebhookRejected"]


class VendorObject(msgspec.Struct, frozen=True):
    """One vendor object fetched or delivered: its kind (mapper kind) and decoded JSON.

    ``observed_at`` is when the vendor says this version existed (a webhook's event time, an
    event's ``created``), for vendors whose objects carry no ``updated_at`` of their own.
    ``deleted`` marks a deletion notice that carries only the id.
    """

    kind: str
    payload: dict[str, Any]
    observed_at: str | None = None
    deleted: bool = False


class Page(msgspec.Struct):
    """One page of a stream: the objects and the cursor to store once they are committed."""

    objects: list[VendorObject]
    cursor: str | None
    note: str | None = None


class Stream(Protocol):
    """A resumable sequence of pages for one kind of object."""

    name: str

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages from ``cursor`` (``None``: from the beginning) to the end of the data."""
        ...


class Delivery(msgspec.Struct):
    """A verified webhook delivery: dedup ids and the objects it carries.

    ``dedup_ids`` are the vendor's delivery/event ids (any one seen before means "replay").
    ``topic`` is the vendor's event type. ``refetch`` lists (kind, external_id) of objects to
    fetch fresh through ``Connector.fetch_one`` because the delivery carries only a part of them
    (a Shopify refund or fulfillment belongs to an order). ``erase`` lists (kind, external_id)
    of records whose data must be erased (compliance topics such as ``customers/redact``).
    """

    dedup_ids: list[str]
    topic: str
    objects: list[VendorObject] = []
    refetch: list[tuple[str, str]] = []
    erase: list[tuple[str, str]] = []
    occurred_at: str | None = None


class Connector(Protocol):
    """What the sync runner and the webhook intake need from a source."""

    source: str

    def streams(self) -> list[Stream]:
        """The streams to sync, in dependency order (people before their activities)."""
        ...

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url: str, now: float
    ) -> None:
        """Raise ``WebhookRejected`` unless the delivery is authentic and fresh."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        """The delivery's objects; raise ``MappingError`` if the body is malformed."""
        ...

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        """Fetch one object fresh from the API (``None`` if the vendor says it is gone)."""
        ...
