"""The contract every source connector implements; the sync runner only knows this contract.

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
* ``fetch_one``: fetches one object fresh (for deliveries that carry only part of it).

The types live in ``context_service.models`` (the shared vocabulary, so the sync runner can use
them without importing an integration); this module re-exports them for connectors. Connectors
import only ``context_service.models``, ``context_service.errors`` and ``integrations._*``
helpers. HTTP goes through the one injected ``httpx.Client`` (``integrations._http``).
"""

from __future__ import annotations

from context_service.errors import WebhookRejected
from context_service.models import Connector, Delivery, Page, Stream, VendorObject

__all__ = ["Connector", "Delivery", "Page", "Stream", "VendorObject", "WebhookRejected"]
