"""The HubSpot connector: owners, then companies, contacts and deals through the search API.

Streams, in dependency order:

* ``owners``: live and deactivated owners, the deactivated ones as deletions (see
  ``integrations.hubspot._owners``).
* ``companies``, ``contacts``, ``deals``: incremental through ``POST
  /crm/v3/objects/{type}/search`` (``integrations.hubspot._search``: keyset paging with an
  ``hs_object_id`` tie-break, so neither the 10,000-result cap nor a bulk update sharing one
  timestamp stops a sync). Each record's ``hs_merged_object_ids`` (the ids HubSpot merged into
  it) become deletion notices naming it as their survivor, so a merge whose webhook never
  came (none configured, or lost) does not leave the merged-away record live beside it.
  Search returns no associations, so each page's contact->company and
  deal->contact/company associations are read in one v4 batch request per target type and put
  where ``GET /crm/v3/objects/{type}/{id}?associations=...`` puts them. Deals get the labels of
  their pipeline and stage (``GET /crm/v3/pipelines/deals``, once per run) under ``_labels``;
  contacts their lifecycle stage's label under ``_labels`` (``GET
  /crm/v3/properties/contacts/lifecyclestage``, once per run; without the scope to read it, the
  stage's internal value is shown: ``integrations.hubspot._lifecycle``) and their primary
  company's name under ``_company``, and the ``companies`` stream
  emits a changed company's contacts again with it (``integrations.hubspot._companies``).
  After a listing from the top (a full or first sync), the runner looks up each stored record
  it did not bring, and retires those HubSpot no longer has (``SearchStream.lists_kind``).

* ``companies_archived``, ``contacts_archived``, ``deals_archived``: deletions that reach us
  without a webhook (none configured, or a delivery lost past HubSpot's retries; search never
  returns archived records): ``GET /crm/v3/objects/{type}?archived=true`` paged by ``after``,
  each archived object a deletion notice dated by its ``archivedAt``. The list cannot be
  filtered by time, so it is read at most once per ``archived_every_seconds`` (an hour by
  default) and on every full sync; see ``integrations.hubspot._archived``.

Deletions also arrive by webhook, and a refetch that HubSpot answers 404 ``OBJECT_NOT_FOUND``
deletes a stored record (``fetch_one``; any other 404 is retried, never taken for a deletion).
A delivery is read without calling HubSpot when it arrives (``read_webhook``) and applied later
(``parse_webhook``), when the records it refetches are fetched and their
``hs_merged_object_ids`` followed as the streams follow them. Only the events of this
service's portal are applied (``integrations.hubspot._portal``). Every request sends
``Authorization: Bearer <token>`` (redacted from logs and errors) and is paced by
``integrations.hubspot._limits`` (the burst budget per 10 s, the search budget per second, and
the pauses ``X-HubSpot-RateLimit-Remaining: 0`` asks for); 429 and 5xx are retried by
``VendorHttp``, honouring ``Retry-After``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from context_service.errors import ConfigurationError, FatalError, MappingError, RetriableError
from integrations._connector import Delivery, Stream, VendorObject
from integrations._convert import iso_utc
from integrations._http import RetryPolicy, VendorHttp, vendor_json
from integrations._pagination import LoopGuard
from integrations.hubspot._archived import ArchivedStream, listed_results, next_after, tombstone
from integrations.hubspot._companies import (
    contacts_of,
    primary_company_id,
    read_companies,
    with_primary_companies,
)
from integrations.hubspot._errors import not_found
from integrations.hubspot._lifecycle import LifecycleStages
from integrations.hubspot._limits import Budget, Pacer
from integrations.hubspot._owners import OwnersStream
from integrations.hubspot._portal import Portal
from integrations.hubspot._prefetch import Prefetched
from integrations.hubspot._search import ObjectSpec, SearchStream, merge_notices
from integrations.hubspot.mapping import LABELS_KEY, PROPERTIES, SOURCE
from integrations.hubspot.webhooks import (
    deletion_notice,
    parse_delivery,
    require_portal,
    verify_signature,
)

__all__ = [
    "BURST_LIMIT",
    "OBJECTS",
    "PREFETCH_MAX_AGE_SECONDS",
    "SEARCH_PER_SECOND",
    "HubSpotConnector",
]

# (stream, kind, API object type, modification property, associations read), dependency order.
OBJECTS: tuple[ObjectSpec, ...] = (
    ObjectSpec("companies", "company", "companies", "hs_lastmodifieddate"),
    ObjectSpec("contacts", "contact", "contacts", "lastmodifieddate", ("companies",)),
    ObjectSpec("deals", "deal", "deals", "hs_lastmodifieddate", ("contacts", "companies")),
)
BURST_LIMIT = 100  # requests per 10 s on Free/Starter portals (higher tiers allow 190)
SEARCH_PER_SECOND = 4  # search limit per token (4/s; current docs say 5/s per account)
MAX_SEARCH_LIMIT = 200
SETTLE_SECONDS = 30.0  # records modified this recently are left to the next run (index lag)
ARCHIVED_EVERY_SECONDS = 3600.0  # archived lists are read at most this often (and on full syncs)
LABELS_MAX_AGE_SECONDS = 300.0  # pipeline and stage labels older than this are read again
# A record fetched while a delivery is parsed answers the applier's refetch this long at most.
PREFETCH_MAX_AGE_SECONDS = 60.0
_SPECS = {spec.kind: spec for spec in OBJECTS}

Json = dict[str, Any]
Labels = dict[str, tuple[str | None, dict[str, str]]]


def _ids(objects: list[Json]) -> list[str]:
    return [str(obj["id"]) for obj in objects]


def _canonical(to_ids: list[str]) -> Json:
    """Associations in the list endpoint's shape, deduplicated, in numeric id order."""
    unique = sorted(set(to_ids), key=lambda value: (len(value), value))
    return {"results": [{"id": value} for value in unique]}


class HubSpotConnector:
    """HubSpot CRM as a ``Connector``: streams, webhook signature v3, and single-object fetches.

    ``access_token`` is a private-app or OAuth token; ``client_secret`` is the app's client
    secret that signs webhooks (deliveries are refused while it is unset). ``sleep`` is used for
    every wait and ``now`` (unix seconds) for pacing and the search window, so tests never sleep.
    ``archived_every_seconds`` is how often the archived lists (deletions) are read; the app
    sets it from ``CONTEXT_SERVICE_HUBSPOT_ARCHIVED_EVERY_SECONDS`` (``context_service.wiring``).
    ``portal_id`` (``CONTEXT_SERVICE_HUBSPOT_PORTAL_ID``) is the portal whose webhook events
    are applied; without it, the access token's portal, read once from HubSpot (``_portal``).
    """

    source = SOURCE

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        access_token: str | None,
        client_secret: str | None = None,
        base_url: str = "https://api.hubapi.com",
        page_size: int = 100,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        policy: RetryPolicy | None = None,
        burst_limit: int = BURST_LIMIT,
        settle_seconds: float = SETTLE_SECONDS,
        archived_every_seconds: float = ARCHIVED_EVERY_SECONDS,
        portal_id: str | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_SEARCH_LIMIT:
            raise ConfigurationError(f"hubspot page_size must be 1..200, not {page_size}")
        self.page_size = page_size
        self.now = now
        self.settle_seconds = settle_seconds
        self.archived_every_seconds = archived_every_seconds
        self.pacer = Pacer(sleep, now)
        self._burst = Budget(burst_limit, 10.0)
        self._search_budget = Budget(SEARCH_PER_SECOND, 1.0)
        headers = {"Accept": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        self.http = VendorHttp(
            client or httpx.Client(timeout=30.0),
            base_url=base_url,
            headers=headers,
            secrets=[s for s in (access_token, client_secret) if s],
            policy=policy,
            decide=self.pacer.observe,
            sleep=self.pacer.retry_sleep,
        )
        self._has_token = bool(access_token)
        self._client_secret = client_secret
        self._labels: Labels | None = None
        self._labels_read_at = float("-inf")
        self._labels_missed: set[tuple[str | None, str | None]] = set()
        self._stages = LifecycleStages(self.get_json, now, LABELS_MAX_AGE_SECONDS)
        self._prefetched = Prefetched(now, PREFETCH_MAX_AGE_SECONDS)
        self._portal = Portal(portal_id, self.get_json if access_token else None)

    def streams(self) -> list[Stream]:
        """``owners``, ``companies``, ``contacts``, ``deals`` (referenced records first), then
        the deletions: ``companies_archived``, ``contacts_archived``, ``deals_archived``.

        Called once per run: pipeline labels are read again on the run's first deals page,
        lifecycle stage labels on its first contact.
        """
        self._labels = None
        self._stages.reset()
        searches: list[Stream] = [
            SearchStream(self, spec, self._upper_ms, list(PROPERTIES[spec.kind]))
            for spec in OBJECTS
        ]
        archived: list[Stream] = [
            ArchivedStream(self, spec, self._now_ms, self._upper_ms, self.archived_every_seconds)
            for spec in OBJECTS
        ]
        return [OwnersStream(self), *searches, *archived]

    def account_portal_id(self) -> str:
        """The portal the access token belongs to, read from HubSpot now, whatever is
        configured (for ``doctor``: a configured portal id that differs from it refuses the
        webhook events of the portal the sync reads)."""
        return Portal(None, self.get_json if self._has_token else None).require()

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url: str, now: float
    ) -> None:
        """Raise ``WebhookRejected`` unless ``X-HubSpot-Signature-v3`` is valid and fresh and,
        once the portal this service syncs is known, some event of the delivery is for it (one
        app's secret signs the deliveries of every portal that installed it)."""
        verify_signature(self._client_secret, headers, raw_body, url, now)
        portal = self._portal.known()
        if portal is not None:
            require_portal(raw_body, portal)

    def read_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        """An event batch as refetches, erasures and tombstones (see ``.webhooks``), read
        without calling HubSpot: what the intake stores while HubSpot waits for the answer.
        Events of another portal are left out once this service's portal is known (else
        ``parse_webhook`` leaves them out when the delivery is applied)."""
        return parse_delivery(raw_body, self._portal.known())

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        """The delivery as it is applied: ``read_webhook``'s, and the merges its refetched
        records list followed as the streams follow them.

        Each contact, company or deal it refetches is fetched here (HubSpot out of reach
        raises ``RetriableError``, which leaves the delivery pending), and the ids in its
        ``hs_merged_object_ids`` become deletion notices naming it as their survivor
        (``merge_notices``): a webhook about a merge's survivor, whose ``*.merge`` event was
        lost or never subscribed to, no longer leaves the merged-away record's profile apart
        until the next sync. The copies fetched answer the applier's ``fetch_one`` for the
        same records (``Prefetched``), so each is fetched once.

        Only the events of this service's portal are applied; the portal is learned from
        HubSpot first if it is not configured (``_portal``), and a delivery with no event of
        it is refused (``WebhookRejected``: the delivery fails, nothing is applied).
        """
        delivery = parse_delivery(raw_body, self._portal.require())
        keys = [key for key in dict.fromkeys(delivery.refetch) if key[0] in _SPECS]
        notified = {(o.kind, str(o.payload.get("id"))) for o in delivery.objects}
        notices: list[VendorObject] = []
        try:
            for kind, external_id in keys:
                found = self._fetch(kind, external_id)
                self._prefetched.put((kind, external_id), found)
                notices += _followed_merges(found, notified)
        except Exception:
            self._prefetched.drop(keys)
            raise
        delivery.objects = [*delivery.objects, *notices]
        return delivery

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        """One owner, contact, company or deal: the copy ``parse_webhook`` fetched a moment
        ago for this record, once, else fetched fresh (``_fetch``)."""
        ready, found = self._prefetched.take((kind, external_id))
        return found if ready else self._fetch(kind, external_id)

    def _fetch(self, kind: str, external_id: str) -> VendorObject | None:
        """``_fetch_now``, with a 429 for the portal's daily limit (which ``VendorHttp`` does
        not retry, see ``_limits``) raised as ``RetriableError``: this is a webhook being
        applied, and a failed delivery is never tried again, while a pending one is applied
        once the limit resets (the sync, which stops at it, resumes from its cursor anyway)."""
        try:
            return self._fetch_now(kind, external_id)
        except FatalError as exc:
            if exc.extra.get("status") == 429:
                raise RetriableError(f"hubspot {kind} {external_id}: {exc.detail}") from exc
            raise

    def _fetch_now(self, kind: str, external_id: str) -> VendorObject | None:
        """One owner, contact, company or deal fetched fresh.

        A contact, company or deal that HubSpot answers 404 ``OBJECT_NOT_FOUND`` is gone: ``GET
        /crm/v3/objects/{type}/{id}`` does not return archived (deleted) objects unless asked
        with ``archived=true`` ("Whether to return only results that have been archived",
        developers.hubspot.com/docs/api-reference/2026-03/crm/objects/objects/get-object), and
        a token without access to an object type is answered 403, not 404
        (developers.hubspot.com/docs/api-reference/error-handling). So such a 404 becomes a
        deletion notice (``_gone``) instead of leaving the stored record live; a 404 that is
        not HubSpot's raises ``RetriableError`` (``_get_or_none``). Owners answer ``None``.
        An answer naming another id is the record ``external_id`` was merged into
        (``_merged_away``).
        """
        if kind == "owner":
            path, params = f"/crm/v3/owners/{quote(external_id, safe='')}", None
        elif kind in _SPECS:
            path, params = self._object_request(_SPECS[kind], external_id)
        else:
            raise MappingError(f"unknown hubspot kind {kind!r}", source=SOURCE)
        payload = self._get_or_none(path, params)
        if payload is None:
            # An owner is a user of the portal, not a CRM record: a 404 can be a deactivated
            # user whose id records still name (owners are listed with ``archived`` separately),
            # so it says nothing about a deletion we should apply; the owners stream re-lists
            # every owner each run anyway.
            return None if kind == "owner" else self._gone(_SPECS[kind], external_id)
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str | int):
            raise FatalError(f"hubspot {kind} {external_id}: the answer is not an object")
        if kind in _SPECS and _other_record(payload, external_id):
            return self._merged_away(kind, external_id, str(payload["id"]))
        if kind in _SPECS:
            payload = self._reshaped(_SPECS[kind], payload)
        return VendorObject(kind, payload)

    def _merged_away(self, kind: str, external_id: str, survivor: str) -> VendorObject:
        """The notice of a record merged into ``survivor``: HubSpot answers a merged-away id
        with the record that absorbed it, which must not be stored under the old id's name
        nor leave the old record live (a merge webhook may be missing or lost). Dated now:
        the merge happened before this answer."""
        return deletion_notice(kind, external_id, iso_utc(self.now()), survivor)

    # --- used by the streams ---

    def search(self, spec: ObjectSpec, body: Json) -> list[Json]:
        """``POST /crm/v3/objects/{type}/search`` (paced by the search budget too)."""
        path = f"/crm/v3/objects/{spec.object_type}/search"
        return listed_results(
            self._send("POST", path, json=body, search=True), f"{spec.stream} search"
        )

    def complete(self, spec: ObjectSpec, results: list[Json]) -> list[Json]:
        """Search results with their associations (v4 batch read) and labels, for contacts
        their primary company (``_companies``)."""
        completed = self._linked(spec, results)
        return self._with_companies(completed) if spec.kind == "contact" else completed

    def followers(self, spec: ObjectSpec, changed: list[Json]) -> list[VendorObject]:
        """The contacts whose primary company is among ``changed`` companies, emitted again
        with them by the ``companies`` stream (a renamed company changes none of its contacts
        in HubSpot); nothing for any other kind."""
        if spec.kind != "company" or not changed:
            return []
        contact = _SPECS["contact"]
        companies = {str(company["id"]): company for company in changed}
        properties = list(PROPERTIES["contact"])
        found: list[VendorObject] = []
        for page in contacts_of(self, contact, list(companies), properties):
            completed = with_primary_companies(self._linked(contact, page), companies)
            found += [VendorObject("contact", obj) for obj in completed]
        return found

    def get_json(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        """A paced GET, decoded."""
        return self._send("GET", path, params=params)

    def post_json(self, path: str, body: Json) -> Any:
        """A paced POST of a JSON body, decoded."""
        return self._send("POST", path, json=body)

    # --- internals ---

    def _upper_ms(self) -> int:
        return int((self.now() - self.settle_seconds) * 1000)

    def _now_ms(self) -> int:
        return int(self.now() * 1000)

    def _send(self, method: str, path: str, *, search: bool = False, **kwargs: Any) -> Any:
        if not self._has_token:
            raise ConfigurationError("no HubSpot access token configured")
        budgets = (self._burst, self._search_budget) if search else (self._burst,)
        self.pacer.acquire(*budgets)
        response = self.http.request(method, path, **kwargs)
        try:
            return vendor_json(response.content)
        except msgspec.DecodeError as exc:
            raise FatalError(f"hubspot {method} {path}: malformed JSON: {exc}") from exc

    def _get_or_none(self, path: str, params: list[tuple[str, str]] | None) -> Any:
        """``get_json``, but ``None`` when HubSpot says the object does not exist.

        Only HubSpot's own answer counts (``not_found``): a 404 page of a proxy, a gateway or
        a misconfigured base URL says nothing about the object, and taking it for one would
        delete every stored record a webhook names. Such a 404 is a ``RetriableError``: the
        delivery stays pending (the sync stops) and the stored data is kept.
        """
        try:
            return self.get_json(path, params)
        except FatalError as exc:
            if exc.extra.get("status") != 404:
                raise
            if not_found(exc.extra.get("body")):
                return None
            raise RetriableError(
                f"hubspot GET {path}: HTTP 404 that is not HubSpot's OBJECT_NOT_FOUND (a proxy "
                "or a wrong CONTEXT_SERVICE_HUBSPOT_BASE_URL?); nothing deleted, tried again "
                f"later: {exc.detail}"
            ) from exc

    def _gone(self, spec: ObjectSpec, external_id: str) -> VendorObject | None:
        """The deletion notice of an object HubSpot answered 404 for.

        Asked again with ``archived=true``: an archived object (restorable for 90 days) is dated
        by its ``archivedAt``, so a restore, which sets a newer modification time, brings it
        back. One unknown even archived (purged, or not readable yet: the CRM is eventually
        consistent, 404 just after ``*.creation``) deletes a stored record only, dated now: a
        tombstone would hide a new record from the sync, which dates it by its creation. ``None``
        if it turns out live after all (restored in between), or for no HubSpot id (not digits).
        """
        if not external_id.isdigit():
            return None
        path = f"/crm/v3/objects/{spec.object_type}/{quote(external_id, safe='')}"
        archived = self._get_or_none(path, [("archived", "true")])
        if archived is None:
            now = iso_utc(self.now())
            return deletion_notice(
                spec.kind, external_id, now, only_if_stored=True, from_lookup=True
            )
        if not isinstance(archived, dict) or archived.get("archived") is not True:
            return None
        return tombstone(spec.kind, {**archived, "id": external_id})

    def _linked(self, spec: ObjectSpec, results: list[Json]) -> list[Json]:
        """Search results with their associations and labels (``_with_labels``)."""
        associated = {to: self._associations(spec, to, _ids(results)) for to in spec.associations}
        completed = []
        for obj in results:
            links = {
                to: _canonical(found.get(str(obj["id"]), [])) for to, found in associated.items()
            }
            completed.append(
                self._with_labels(spec, {**obj, "associations": links} if links else obj)
            )
        return completed

    def _with_companies(self, contacts: list[Json]) -> list[Json]:
        """Contacts with their primary companies, read in one batch (``_companies``)."""
        ids = [found for contact in contacts if (found := primary_company_id(contact))]
        return with_primary_companies(contacts, read_companies(self, ids) if ids else {})

    def _object_request(
        self, spec: ObjectSpec, external_id: str
    ) -> tuple[str, list[tuple[str, str]]]:
        params = [("properties", ",".join(PROPERTIES[spec.kind]))]
        if spec.associations:
            params.append(("associations", ",".join(spec.associations)))
        return f"/crm/v3/objects/{spec.object_type}/{quote(external_id, safe='')}", params

    def _reshaped(self, spec: ObjectSpec, payload: Json) -> Json:
        """A single-object answer in the shape the streams emit (canonical associations, labels).

        HubSpot embeds one page of each association type (``paging.next.after`` when there is
        more); such a list is read whole through the paged v4 batch read instead.
        """
        given = payload.get("associations")
        given = given if isinstance(given, dict) else {}
        links = {
            to: _canonical(self._all_associated(spec, str(payload["id"]), to, given.get(to)))
            for to in spec.associations
        }
        reshaped = self._with_labels(spec, {**payload, "associations": links} if links else payload)
        return self._with_companies([reshaped])[0] if spec.kind == "contact" else reshaped

    def _all_associated(self, spec: ObjectSpec, from_id: str, to: str, embedded: Any) -> list[str]:
        """The ids of one association type: the embedded list, or all pages when it has more."""
        if not isinstance(embedded, dict) or next_after(embedded) is None:
            return _listed_ids(embedded)
        return self._associations(spec, to, [from_id]).get(from_id, [])

    def _associations(self, spec: ObjectSpec, to: str, ids: list[str]) -> dict[str, list[str]]:
        """``from id -> [to ids]`` by ``POST /crm/v4/associations/{from}/{to}/batch/read``."""
        path = f"/crm/v4/associations/{spec.object_type}/{to}/batch/read"
        found: dict[str, list[str]] = {}
        guard = LoopGuard(f"{spec.stream}->{to} associations")
        inputs: list[Json] = [{"id": value} for value in ids]
        while inputs:
            guard.check(_encode_json(inputs))
            body = self._send("POST", path, json={"inputs": inputs})
            inputs = _collect_associations(body, found, path)
        return found

    def _with_labels(self, spec: ObjectSpec, payload: Json) -> Json:
        """A deal with its pipeline's and stage's labels, a contact with its lifecycle stage's
        label (``_lifecycle``), under ``_labels``; a company as it is."""
        if spec.kind == "contact":
            return self._stages.labelled(payload)
        if spec.kind != "deal":
            return payload
        props = payload.get("properties")
        props = props if isinstance(props, dict) else {}
        pipeline_id = _property_text(props, "pipeline")
        stage_id = _property_text(props, "dealstage")
        labels = self._pipelines()
        wanted = (pipeline_id, stage_id)
        if not _labels_known(labels, *wanted) and wanted not in self._labels_missed:
            self._labels_missed.add(wanted)  # read again once per unknown id, not per deal
            labels = self._read_pipelines()  # a pipeline or stage created since the last read
        pipeline, stages = labels.get(pipeline_id or "", (None, {}))
        names = {"pipeline": pipeline, "dealstage": stages.get(stage_id or "")}
        return {**payload, LABELS_KEY: {k: v for k, v in names.items() if v is not None}}

    def _pipelines(self) -> Labels:
        """Pipeline id -> (label, stage id -> label), from ``GET /crm/v3/pipelines/deals``:
        read on first use in a run, and again once older than ``LABELS_MAX_AGE_SECONDS`` (the
        connector outlives runs: webhook re-reads would keep renamed labels for good). A deal in
        a pipeline or stage they lack reads them again too, once per such id and age."""
        if self._labels is None or self.now() - self._labels_read_at >= LABELS_MAX_AGE_SECONDS:
            self._labels_missed.clear()
            return self._read_pipelines()
        return self._labels

    def _read_pipelines(self) -> Labels:
        body = self.get_json("/crm/v3/pipelines/deals")
        self._labels = {
            str(p["id"]): (
                _label(p),
                {str(s["id"]): _label(s) or str(s["id"]) for s in _stages(p)},
            )
            for p in listed_results(body, "pipelines")
            if isinstance(p.get("id"), str | int)  # a pipeline without one labels nothing
        }
        self._labels_read_at = self.now()
        return self._labels


def _followed_merges(
    found: VendorObject | None, notified: set[tuple[str, str]]
) -> list[VendorObject]:
    """The deletion notices of the records a fetched survivor lists as merged into it, less
    those the delivery already has a notice for (its ``*.merge`` event's tombstones)."""
    if found is None or found.deleted:
        return []
    notices = merge_notices(_SPECS[found.kind], found.payload)
    return [n for n in notices if (n.kind, str(n.payload["id"])) not in notified]


def _property_text(props: Json, name: str) -> str | None:
    value = props.get(name)
    text = str(value).strip() if isinstance(value, str | int) else ""
    return text or None


def _labels_known(labels: Labels, pipeline_id: str | None, stage_id: str | None) -> bool:
    """Whether ``labels`` name the deal's pipeline and stage (an id it lacks needs none)."""
    if pipeline_id is not None and pipeline_id not in labels:
        return False
    if stage_id is None:
        return True
    if pipeline_id is not None:
        return stage_id in labels[pipeline_id][1]
    return any(stage_id in stages for _, stages in labels.values())


def _other_record(payload: Json, external_id: str) -> bool:
    """Whether HubSpot answered a request for ``external_id`` with another record's id."""
    answered = str(payload["id"]).strip()
    wanted = external_id.strip()
    if answered.isdigit() and wanted.isdigit():
        return int(answered) != int(wanted)
    return answered != wanted


def _label(obj: Json) -> str | None:
    label = obj.get("label")
    return label.strip() or None if isinstance(label, str) else None


def _stages(pipeline: Json) -> list[Json]:
    stages = pipeline.get("stages")
    if not isinstance(stages, list):
        return []
    return [s for s in stages if isinstance(s, dict) and isinstance(s.get("id"), str | int)]


def _listed_ids(associations: Any) -> list[str]:
    results = associations.get("results") if isinstance(associations, dict) else None
    if not isinstance(results, list):
        return []
    return [str(r["id"]) for r in results if isinstance(r, dict) and "id" in r]


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _collect_associations(body: Any, found: dict[str, list[str]], path: str) -> list[Json]:
    """Add one batch answer's associations to ``found``; the inputs of their next pages."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise FatalError(f"hubspot POST {path}: the answer has no list of results")
    following: list[Json] = []
    for result in results:
        source = result.get("from") if isinstance(result, dict) else None
        if not isinstance(source, dict) or "id" not in source:
            raise FatalError(f"hubspot POST {path}: a result without a `from` id")
        from_id = str(source["id"])
        targets = result.get("to") if isinstance(result.get("to"), list) else []
        found.setdefault(from_id, []).extend(
            str(t["toObjectId"]) for t in targets if isinstance(t, dict) and "toObjectId" in t
        )
        if (after := next_after(result)) is not None:
            following.append({"id": from_id, "after": after})
    return following
