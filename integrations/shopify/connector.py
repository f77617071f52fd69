"""The Shopify connector: customers and orders through the GraphQL Admin API, REST webhooks.

Sync pages the ``customers`` and ``orders`` connections sorted by ``UPDATED_AT`` ascending and
converts each node to the REST / webhook shape (``integrations.shopify.graphql``), so the one
mapper in ``integrations.shopify.mapping`` serves both sync and webhooks.

Cursor (opaque to the runner): ``{"since": <max updatedAt committed>, "after": <endCursor>,
"settled": true}`` (``settled`` only beside an ``after``; see below).
While a run pages, ``after`` is the endCursor of the last committed page; Shopify's cursors
encode the position in the sort order (last ``updated_at`` and id), not the filter, so a resumed
run that filters on ``updated_at:>='since'`` and continues ``after`` that cursor sees exactly
the rest of the interrupted run. At the end of the data ``after`` becomes ``null`` and the next
run starts again from ``since`` inclusive; the store's newest-wins rule makes the boundary
records seen again a no-op. Positions have whole seconds and tie on the id, so a record updated
in the very second a page ended, with a smaller id, sorts behind the position: once a page ends
within ``LIVE_EDGE_SECONDS`` of now, the run commits ``since`` = that page's last ``updatedAt``
and no ``after`` (resuming, or the next run, reads that second again). A position committed
so is marked ``settled``; the code before this rule committed positions at the live edge too,
without the mark, so a position without it is not trusted: the run resumes from its ``since``
inclusive instead (its second is read once more, then the cursors are the new kind).

The ``X-Shopify-API-Version`` of every answer is compared with the version asked for: Shopify
serves another one, without an error, when the requested one is unsupported; the run's note
and a warning say so.

Rate limits: HTTP 429 is retried by ``VendorHttp`` (``Retry-After``). A ``200`` answer with a
``THROTTLED`` error is retried here, after waiting as long as its ``extensions.cost`` says the
bucket needs to refill to the query's requested cost (``restoreRate`` points a second), or with
the policy's backoff when it carries no cost; a fixed backoff gives up before a large query
(an orders page asks 922 points, see ``MAX_ORDERS_FIRST``; a Standard shop's 100-point-a-second
bucket refills that from empty in about 9 s).
After every answer the bucket is read and, when it holds less than the last query cost, the
connector sleeps until it has refilled.

GraphQL errors: Shopify answers ``200`` with an ``errors`` list, sometimes beside ``data``
(the "Status and error codes" section of the Admin API reference). ``THROTTLED`` is retried as
above. An ``ACCESS_DENIED`` error located at a field (its ``path``) means the app may not read
that field (a missing scope, or protected customer data it is not approved for); the rest of
the answer is good, and asking again gives the same answer, so the page is kept, its cursor
advanced, and the withheld fields reported as a note on the run. A node whose withheld field is
one the mapping needs (``id``, ``updatedAt``, an order's ``customer``), or that is itself null,
is left out rather than stored as if it were whole. Every other error (no ``path``, no data,
another code such as ``INTERNAL_SERVER_ERROR`` or ``MAX_COST_EXCEEDED``) is fatal.

Deletions missed: a listing never shows a deleted object, and a deletion webhook can be lost
for good (Shopify drops a subscription after 48 hours of failed deliveries). A customers or
orders listing that starts from the top (a first or ``--full`` sync) and reaches its end
without skipping a node, in that run or in the runs that resume it, sets the stream's
``completed_listing``; the runner then looks up, one by one, each stored record of the kind the
listing did not bring and retires those Shopify no longer has. Only the orders created in the
last 55 days are looked up: without ``read_all_orders`` Shopify hides orders older than 60
days from listings and look-ups alike, so an older order missing from both is not gone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec

from context_service.errors import ConfigurationError, FatalError, MappingError
from integrations._connector import Delivery, Page, Stream, VendorObject
from integrations._convert import iso_utc
from integrations._http import RetryPolicy, VendorHttp
from integrations._pagination import LoopGuard
from integrations.shopify import graphql, webhooks
from integrations.shopify._client import (
    Answer,
    ShopifyGraphQL,
    version_drift,
    withheld_summary,
)

__all__ = [
    "DEFAULT_API_VERSION",
    "LIVE_EDGE_SECONDS",
    "MAX_ORDERS_FIRST",
    "Answer",
    "ShopifyConnector",
    "ShopifyStream",
]

log = logging.getLogger("integrations.shopify")

DEFAULT_API_VERSION = "2026-07"
# Shopify refuses a query whose requested cost exceeds 1,000 points. By its rule (an object 1,
# a scalar or enum 0, a connection 2 + first x its node) one order node of
# ``graphql.ORDER_FIELDS`` asks 23: the order 1, ``totalPriceSet`` with its two monies 3,
# ``customer`` 1, ``lineItems(first: 10)`` 2 + 10 = 12 (its ``pageInfo`` is part of the 2;
# ``currentSubtotalLineItemsQuantity`` is a scalar, 0), ``fulfillments`` with
# ``trackingInfo`` 2, ``refunds`` with their money bag 4. So 40 orders ask 2 + 40 x 23 = 922
# whatever ``page_size`` says; 43 would be the most under the limit, and each field added to
# an order costs 40 more per page. Lines beyond the tenth are counted, not listed.
MAX_ORDERS_FIRST = 40
# A page that ends less than this before now is at the live edge: records may still be
# updated within its last second (see ``_live_floor``); the margin covers clock skew.
LIVE_EDGE_SECONDS = 300.0
# Without ``read_all_orders`` Shopify shows only the orders created in the last 60 days. A
# whole listing's missing orders are looked up only if created at least a margin inside that
# window (``ShopifyStream.retirable``): Shopify's count of days need not be ours to the hour.
ORDERS_LISTED_DAYS = 60
RETIRE_MARGIN_DAYS = 5
# Fields of a node without which it cannot be stored as that record: its key, its version, and
# the link from an order to its customer (without it the order would be filed as a guest's).
NEEDED_FIELDS: dict[str, frozenset[str]] = {
    "customer": frozenset({"id", "updatedAt"}),
    "order": frozenset({"id", "updatedAt", "customer"}),
}


class _Cursor(msgspec.Struct):
    since: str | None = None
    after: str | None = None
    # ``after`` was committed behind the live edge (cursors written before that rule lack it).
    settled: bool = False
    # Every page since a listing from the top was whole (no node skipped): the listings from
    # this cursor on continue it (see ``_whole_so_far``).
    whole: bool = False


def _load_cursor(text: str | None, stream: str) -> _Cursor:
    if text is None:
        return _Cursor()
    try:
        return msgspec.json.decode(text, type=_Cursor)
    except msgspec.DecodeError as exc:
        raise FatalError(f"shopify {stream}: unreadable cursor {text[:80]!r}") from exc


def _dump_cursor(since: str | None, after: str | None, whole: bool = False) -> str:
    """The cursor text; a position is only ever committed behind the live edge, so it is
    marked ``settled`` (see ``_resumed_after``); ``whole`` only when true."""
    text: dict[str, Any] = {"since": since, "after": after}
    if after is not None:
        text["settled"] = True
    if whole:
        text["whole"] = True
    return json.dumps(text)


def shop_base_url(shop: str) -> str:
    """``https://<shop>.myshopify.com`` for a handle; a full domain is used as it is."""
    host = shop.strip().removeprefix("https://").removeprefix("http://").strip("/")
    if not host:
        raise ConfigurationError("shopify: no shop configured (a handle or a myshopify.com domain)")
    return f"https://{host if '.' in host else f'{host}.myshopify.com'}"


# --- GraphQL transport ---------------------------------------------------------------------------


def _latest(since: str | None, nodes: list[dict[str, Any]]) -> str | None:
    """The newest of ``since`` and the nodes' ``updatedAt`` (normalized ``...Z`` UTC)."""
    stamps = [since] if since else []
    for node in nodes:
        try:
            stamp = iso_utc(node.get("updatedAt"))
        except MappingError:  # the mapper reports this record; it cannot move the cursor
            continue
        if stamp:
            stamps.append(stamp)
    return max(stamps, default=None)


def _created_at(payload: str) -> str | None:
    """A stored payload's ``created_at`` as ``...Z`` UTC; ``None`` if it has none that reads."""
    try:
        created = msgspec.json.decode(payload).get("created_at")
        return iso_utc(created) if isinstance(created, str) else None
    except (msgspec.DecodeError, AttributeError, MappingError):
        return None


def _days_before(stamp: str, days: int) -> str:
    """The ``...Z`` UTC moment ``days`` days before the ISO-8601 ``stamp``."""
    moment = datetime.fromisoformat(stamp).astimezone(UTC) - timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _horizon(now: float) -> str:
    """The ``updatedAt`` from which a page boundary is at the live edge (``LIVE_EDGE_SECONDS``
    before ``now``), in the ``...Z`` form ``_latest`` compares."""
    moment = datetime.fromtimestamp(now - LIVE_EDGE_SECONDS, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _live_floor(since: str | None, horizon: str) -> str | None:
    """``since`` when it is at the live edge (at or after ``horizon``), else ``None``.

    Shopify's ``endCursor`` is a position (last ``updatedAt``, last id) and ``updatedAt`` has
    whole seconds: a record updated in the second a page ended, but with a smaller id, sorts
    before the position and ``after`` skips it. Only a page read within that second can be
    overtaken so, so from the first page that ends at the live edge on, the run commits this
    floor as ``since`` (the next run, or a resumed one, reads that second again; the store's
    newest-wins rule makes what is read twice a no-op).
    """
    return since if since is not None and since >= horizon else None


def _resumed_after(state: _Cursor, horizon: str) -> str | None:
    """The position to resume after, or ``None`` to resume from ``since`` inclusive.

    A position is trusted only when it is ``settled`` (committed behind the live edge) and
    ``since`` is still behind it. One without the mark was written by the code before the
    live-edge rule, which committed positions at the live edge too: however late it is
    resumed, a record updated in its second with a smaller id may sort behind it, so its
    second is read again (once: the cursors committed then are marked). A position without
    a ``since`` has no second to read again and is kept.
    """
    if state.after is None or state.since is None:
        return state.after
    if not state.settled or _live_floor(state.since, horizon):
        return None
    return state.after


def _committed(since: str | None, floor: str | None, after: str | None, whole: bool) -> str:
    """The cursor committed with a page: the position while the run is behind the live edge,
    then the floor alone (resuming re-reads from it)."""
    if floor is None:
        return _dump_cursor(since, after, whole)
    return _dump_cursor(floor, None, whole)


def _next_after(connection: dict[str, Any], stream: str) -> str | None:
    """The ``endCursor`` to ask for next, ``None`` on the last page; a ``pageInfo`` that is not
    an object leaves the answer unreadable (``FatalError``)."""
    info = connection.get("pageInfo") or {}
    if not isinstance(info, dict):
        raise FatalError(f"shopify {stream}: answer's pageInfo is not an object: {info!r:.80}")
    if not info.get("hasNextPage"):
        return None
    after = info.get("endCursor")
    if not isinstance(after, str) or not after:
        raise FatalError(f"shopify {stream}: hasNextPage without an endCursor")
    return after


def _whole_so_far(state: _Cursor) -> bool:
    """Whether the listings up to ``state`` and from it together list every object of its
    kind: ``state`` is the top (a first sync or a ``--full`` one: no ``since`` filter, no
    position), or was committed by such a listing, or by the runs after it, with no node
    skipped on any page since (``whole``).

    Only then may the end of a listing tell which stored objects Shopify no longer has: the
    pages from the top list every object once, an object changed meanwhile sorts again after
    the position, and one deleted meanwhile is not listed. A listing interrupted and resumed
    by a later run (plain or not) still ends whole, and so do the incremental runs after it,
    so a retirement interrupted half-way is finished by the next run. One node skipped ends
    it until the next ``--full`` sync: what was withheld there is not known to be gone (and
    looking it up would fail the same way). The runner notes a listing's start only when no
    cursor is committed; this check keeps the stream safe on its own.
    """
    return state.whole or (state.since is None and state.after is None)


class _Withheld(msgspec.Struct):
    """What a page's field errors left out: nodes skipped, and the fields kept empty."""

    skipped: set[int]
    skipped_errors: list[dict[str, Any]]
    emptied_errors: list[dict[str, Any]]


def _withheld(errors: list[dict[str, Any]], root: str, kind: str) -> _Withheld:
    """Sort a connection page's field errors into nodes to skip and fields kept empty.

    An error's path is ``[root, "nodes", i, field, ...]``; one anywhere else (the connection,
    its ``pageInfo``) leaves the page unreadable and is fatal.
    """
    out = _Withheld(set(), [], [])
    for error in errors:
        path = error["path"]
        if path[:2] != [root, "nodes"] or len(path) < 3 or not isinstance(path[2], int):
            raise FatalError(f"shopify {root}: Shopify withheld {path!r}: {error.get('message')}")
        if len(path) == 3 or path[3] in NEEDED_FIELDS[kind]:
            out.skipped.add(path[2])
            out.skipped_errors.append(error)
        else:
            out.emptied_errors.append(error)
    return out


def _note(stream: str, withheld: _Withheld) -> str | None:
    """The run's note on what Shopify withheld (the same words on every page, so the run
    keeps it once)."""
    parts = []
    if withheld.emptied_errors:
        summary = withheld_summary(withheld.emptied_errors)
        parts.append(f"shopify {stream}: Shopify withheld {summary}; stored without them")
    if withheld.skipped_errors:
        summary = withheld_summary(withheld.skipped_errors)
        parts.append(f"shopify {stream}: Shopify withheld {summary}; those records were skipped")
    return "; ".join(parts) or None


class ShopifyStream:
    """One connection (``customers`` or ``orders``) paged by ``updated_at`` ascending."""

    def __init__(
        self,
        name: str,
        kind: str,
        gql: ShopifyGraphQL,
        page_size: int,
        clock: Callable[[], float] = time.time,
        *,
        retires_unlisted: bool = False,
        listed_days: int | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.gql = gql
        self.page_size = page_size
        self.clock = clock
        self.query = graphql.connection_query(kind)
        # With ``retires_unlisted`` (customers) the runner retires what a whole listing of this
        # kind did not bring (a deletion whose webhook was missed: Shopify drops a subscription
        # after 48 hours of failed deliveries): it notes when a listing starts from the top,
        # and once this names the kind (``pages`` reached the end of such a listing, skipping
        # no node) it looks up each stored record of the kind fetched before it started.
        self.lists_kind = kind if retires_unlisted else None
        self.retires_unlisted = retires_unlisted
        self.completed_listing: str | None = None
        # Shopify shows only the objects created in the last ``listed_days`` days (orders
        # without ``read_all_orders``): only those are looked up and retired (``retirable``).
        self.listed_days = listed_days

    def retirable(self, payload: str, listing_since: str) -> bool:
        """Whether a stored object a whole listing started at ``listing_since`` did not bring
        can be looked up and retired: always, unless Shopify shows only the last
        ``listed_days`` days of the kind; then only an object created at least
        ``RETIRE_MARGIN_DAYS`` inside that window (an older one is hidden from a look-up by id
        as well, so its absence proves nothing)."""
        if self.listed_days is None:
            return True
        created = _created_at(payload)
        days = self.listed_days - RETIRE_MARGIN_DAYS
        return created is not None and created >= _days_before(listing_since, days)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages from ``cursor`` to the end; each page's cursor resumes right after it.

        Nodes that Shopify withheld a needed field of are left out, the cursor still moves past
        them, and the page's note says what was withheld. Once a page ends at the live edge
        (``LIVE_EDGE_SECONDS``), the cursors committed from then on hold ``since`` at that
        page's last ``updatedAt`` and carry no position (see ``_live_floor``).

        ``completed_listing`` is set to the kind just before the last page is yielded, and only
        when the listing was whole: started from the top, in this call or in an earlier one
        this cursor continues, with no node left out on any page since (``_whole_so_far``; the
        cursors of a stream that retires nothing never claim it). A listing that skipped a
        node (withheld, or null) does not show that the node is gone, and looking it up by id
        would fail the same way (``fetch_one`` refuses a node whose needed fields are
        withheld), failing every run.
        """
        self.completed_listing = None
        state = _load_cursor(cursor, self.name)
        whole = _whole_so_far(state)
        horizon = _horizon(self.clock())
        after = _resumed_after(state, horizon)
        search = graphql.updated_since_filter(state.since)
        since, floor = state.since, None
        guard = LoopGuard(f"shopify {self.name}")
        guard.check(after)
        while True:
            connection, errors = self._fetch(after, search)
            listed = connection.get("nodes") or []
            withheld = _withheld(errors, self.name, self.kind)
            nodes = [node for node in listed if isinstance(node, dict)]
            since, after = _latest(since, nodes), _next_after(connection, self.name)
            floor = floor or _live_floor(since, horizon)
            guard.check(after)
            kept = [
                n for i, n in enumerate(listed) if isinstance(n, dict) and i not in withheld.skipped
            ]
            whole = whole and len(kept) == len(listed) and self.retires_unlisted
            objects = [VendorObject(self.kind, graphql.to_rest(self.kind, n)) for n in kept]
            note = self._page_note(withheld, len(nodes) - len(kept), len(nodes))
            if after is None and whole:
                self.completed_listing = self.kind
            yield Page(objects=objects, cursor=_committed(since, floor, after, whole), note=note)
            if after is None:
                return

    def _page_note(self, withheld: _Withheld, skipped: int, nodes: int) -> str | None:
        """A page's note: the API version served when it is not the one asked for, and what
        Shopify withheld (logged too, with how many of the page's nodes were skipped)."""
        note = _note(self.name, withheld)
        if note:
            log.warning("%s (%d of %d nodes skipped)", note, skipped, nodes)
        return "; ".join(filter(None, (self.gql.version_note, note))) or None

    def _fetch(
        self, after: str | None, search: str | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        variables = {"first": self.page_size, "after": after, "query": search}
        answer = self.gql.execute(self.query, variables)
        connection = answer.data.get(self.name)
        if not isinstance(connection, dict):
            detail = f"; {withheld_summary(answer.withheld)}" if answer.withheld else ""
            raise FatalError(f"shopify {self.name}: answer has no `{self.name}` connection{detail}")
        return connection, answer.withheld


# --- Connector -----------------------------------------------------------------------------------

# Deliveries whose version drift was warned about, remembered so that the intake's read and the
# applier's parse of one delivery warn once; the oldest are forgotten beyond this many.
WARNED_DELIVERIES_KEPT = 1024


class _Remembered:
    """A bounded set of keys, oldest forgotten first; safe to share between threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        """Whether ``key`` is new (it is remembered from now on)."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return True


def _delivery_key(delivery: Delivery, raw_body: bytes) -> str:
    """What tells one delivery from another: its webhook and event ids, and its body."""
    digest = hashlib.sha256(raw_body).hexdigest()
    return "|".join([*delivery.dedup_ids, digest])


class ShopifyConnector:
    """Shopify as a ``Connector``: streams ``customers`` then ``orders``; webhooks; fetch_one.

    ``shop`` is a handle (``acme``) or a domain (``acme.myshopify.com``); ``base_url`` overrides
    the ``https://<shop>.myshopify.com`` it implies. ``access_token`` is sent as
    ``X-Shopify-Access-Token`` and redacted from every log line and error. ``webhook_secret`` is
    the app's client secret (deliveries are refused while it is unset). ``sleep`` is used for
    every wait (retries and cost-bucket refills); ``clock`` (epoch seconds) tells which pages
    end at the live edge (``LIVE_EDGE_SECONDS``).
    """

    source = "shopify"

    def __init__(
        self,
        client: httpx.Client,
        *,
        shop: str,
        access_token: str | None,
        webhook_secret: str | None,
        base_url: str | None = None,
        previous_webhook_secret: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        page_size: int = 100,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shop = shop
        self.clock = clock
        self.api_version = api_version
        self.page_size = page_size
        self._webhook_secret = webhook_secret
        self._previous_webhook_secret = previous_webhook_secret
        headers = {"Accept": "application/json"}
        if access_token:
            headers["X-Shopify-Access-Token"] = access_token
        self.http = VendorHttp(
            client,
            base_url=base_url or shop_base_url(shop),
            headers=headers,
            secrets=[access_token or "", webhook_secret or "", previous_webhook_secret or ""],
            policy=policy,
            sleep=sleep,
        )
        self._drift_warned = _Remembered(WARNED_DELIVERIES_KEPT)
        path = f"/admin/api/{api_version}/graphql.json"
        self.gql = ShopifyGraphQL(
            self.http, path, sleep, authorized=bool(access_token), api_version=api_version
        )

    def streams(self) -> list[Stream]:
        """``customers`` then ``orders`` (people before their activities)."""
        orders_first = min(self.page_size, MAX_ORDERS_FIRST)
        return [
            ShopifyStream(
                "customers", "customer", self.gql, self.page_size, self.clock, retires_unlisted=True
            ),
            # Without ``read_all_orders`` Shopify shows only the last 60 days of orders, to a
            # listing and to a look-up by id alike: only the recent ones missing from a whole
            # listing are looked up and retired; an older one is not gone (its deletion comes
            # by webhook).
            ShopifyStream(
                "orders",
                "order",
                self.gql,
                orders_first,
                self.clock,
                retires_unlisted=True,
                listed_days=ORDERS_LISTED_DAYS,
            ),
        ]

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url: str, now: float
    ) -> None:
        """Check ``X-Shopify-Hmac-Sha256`` over the raw body, ``X-Shopify-Triggered-At``, and
        that the delivery (``X-Shopify-Shop-Domain`` and the signed body's ``shop_domain``) is
        for the shop this connector syncs."""
        webhooks.verify(
            headers, raw_body, self._webhook_secret, now, previous=self._previous_webhook_secret
        )
        webhooks.require_shop(headers, self.shop, raw_body)

    def read_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        """A verified delivery routed by topic (see ``integrations.shopify.webhooks``), without
        calling Shopify: what the intake stores while Shopify waits for the answer (its dedup
        ids and topic). A deletion notice in it is not confirmed yet (``parse_webhook`` does
        that when the delivery is applied). A delivery rendered in another API version than
        this connector's is logged as a warning, once per delivery (``parse_webhook`` reads
        it again when it is applied)."""
        delivery = webhooks.parse(headers, raw_body, shop=self.shop)
        drift = version_drift(self.api_version, webhooks.header(headers, "API-Version"))
        if drift is not None and self._drift_warned.first_time(_delivery_key(delivery, raw_body)):
            log.warning("%s (webhook %s)", drift, delivery.topic[:60])
        return delivery

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        """The delivery as it is applied: ``read_webhook``'s, with each deletion notice acted
        on only once Shopify confirms the object is gone (one GraphQL call each; Shopify out of
        reach raises ``RetriableError``, which leaves the delivery pending). An ``orders/*``
        delivery also asks for its order to be refetched (``fetch_one``: the body lacks what
        only GraphQL says, such as an order's hold)."""
        delivery = self.read_webhook(headers, raw_body)
        delivery.objects = [self._confirmed(obj) for obj in delivery.objects]
        return delivery

    def _confirmed(self, notice: VendorObject) -> VendorObject:
        """A ``customers/delete`` or ``orders/delete`` notice if Shopify no longer has the
        object, else the object as Shopify holds it now. Shopify signs the body, not
        ``X-Shopify-Topic``: a captured ``customers/update`` body re-sent as
        ``customers/delete`` would otherwise delete a live customer."""
        if not notice.deleted or notice.merged_into is not None:
            return notice
        live = self.fetch_one(notice.kind, str(notice.payload.get("id")))
        if live is None:
            return notice
        log.warning(
            "shopify %s %s: a deletion notice for a live object, ignored",
            notice.kind,
            notice.payload.get("id"),
        )
        return live

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        """One customer or order fetched fresh by id, in the REST shape; ``None`` if gone."""
        if kind not in graphql.KIND_TYPES:
            raise FatalError(f"shopify cannot fetch kind {kind!r}")
        variables = {"id": graphql.gid(kind, external_id)}
        answer = self.gql.execute(graphql.node_query(kind), variables)
        node = answer.data.get(kind)
        needed = [e for e in answer.withheld if e["path"][1] in NEEDED_FIELDS[kind]]
        if needed or (answer.withheld and not isinstance(node, dict)):
            summary = withheld_summary(answer.withheld)
            raise FatalError(f"shopify {kind} {external_id}: Shopify withheld {summary}")
        if answer.withheld:
            log.warning(
                "shopify %s %s: Shopify withheld %s",
                kind,
                external_id,
                withheld_summary(answer.withheld),
            )
        return VendorObject(kind, graphql.to_rest(kind, node)) if isinstance(node, dict) else None
