"""``FakeHubSpot``: an in-memory HubSpot CRM v3 API for ``httpx.MockTransport``.

Shapes follow HubSpot's public API reference (see ``shared/refdata/NOTES.md`` section 3; no
HubSpot spec file may be copied): objects ``{id, properties, createdAt, updatedAt, archived}``
with date properties as ISO strings; ``POST /crm/v3/objects/{type}/search`` with one AND filter
group (``EQ``/``GT``/``GTE``/``LT``/``LTE``/``IN``), one sort, ``limit`` at most 200 and the 10,000-result
cap (``after`` past it answers 400), no associations in results; ``GET
/crm/v3/objects/{type}/{id}?properties=&associations=``; ``POST
/crm/v3/objects/{type}/batch/read``; ``POST
/crm/v4/associations/{from}/{to}/batch/read`` (207 with errors for ids without associations);
``GET /crm/v3/owners?archived=`` (live or archived owners) paged by ``paging.next.after``, and
``GET /crm/v3/owners/{id}?archived=``; ``GET /crm/v3/pipelines/deals``;
``GET /crm/v3/properties/contacts/lifecyclestage`` (the property's definition, its options
``lifecycle_stages``: HubSpot's default stages and one the portal created; 403
``MISSING_SCOPES`` while ``schema_scope`` is false, as for a token without
``crm.schemas.contacts.read``);
``GET /crm/v3/objects/{type}?archived=&limit=&after=`` (live or archived objects in id order,
``limit`` at most 100); ``GET /account-info/v3/details`` (``portalId``: ``portal_id``).
``archive`` moves an object to the recycling bin (``archived``,
``archivedAt``): search and a plain ``GET`` by id no longer find it (404), ``GET`` by id with
``archived=true`` does; ``restore`` brings it back with a newer modification time.
Records that share a sort value come back in an arbitrary (but fixed) order, as HubSpot gives
no tie order. Every response carries the ``X-HubSpot-RateLimit-*`` headers.

Faults are injected with ``inject`` (status or timeout, ``Retry-After``) and
``exhaust_interval`` (``X-HubSpot-RateLimit-Remaining: 0``); ``sleeps`` records every wait of a
connector made by ``connector`` and moves the fake clock. Nothing here sleeps or reaches the
network. The contract suite relies on: ``handler``, ``inject``, ``sleeps``, ``connector``.
"""

from __future__ import annotations

import base64
import bisect
import copy
import hashlib
import hmac
import json
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs

import httpx

from integrations.hubspot import HubSpotConnector
from tests.integrations.hubspot.fake_data import (
    custom_pipeline,
    default_pipeline,
    lifecycle_stages,
    missing_scopes,
)

TOKEN = "pat-na1-fake-0123-4567-89ab-cdef01234567"
CLIENT_SECRET = "fake-hubspot-client-secret"
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: the fake's clock at creation
PORTAL_ID = 4_242_424  # the fake portal's id (hub id): its webhook events' ``portalId``
SEARCH_CAP = 10_000
_MODIFIED = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate"}
_TYPES = ("contacts", "companies", "deals")
_OPS: dict[str, Callable[[int, int], bool]] = {
    "EQ": operator.eq,
    "GT": operator.gt,
    "GTE": operator.ge,
    "LT": operator.lt,
    "LTE": operator.le,
}

Json = dict[str, Any]


def iso(ms: int) -> str:
    """Epoch milliseconds as HubSpot's ISO form (``2026-01-01T00:00:00.000Z``)."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _ms(value: str) -> int:
    if value.isdigit():
        return int(value)
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def _error(
    status: int, message: str, category: str = "VALIDATION_ERROR", **headers: str
) -> httpx.Response:
    body = {"status": "error", "message": message, "category": category}
    return httpx.Response(status, json=body, headers=headers)


def _modified_prop(object_type: str) -> str:
    return _MODIFIED.get(object_type, "hs_lastmodifieddate")


class FakeHubSpot:
    """An in-memory HubSpot portal: CRM objects, associations, owners, pipelines, faults."""

    def __init__(self, *, token: str = TOKEN, client_secret: str = CLIENT_SECRET) -> None:
        self.token = token
        self.client_secret = client_secret
        self.portal_id = PORTAL_ID
        self.clock = START
        self.objects: dict[str, dict[str, Json]] = {t: {} for t in _TYPES}
        self.archived: dict[str, dict[str, Json]] = {t: {} for t in _TYPES}
        self.associations: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.owners: dict[str, Json] = {}
        self.archived_owners: dict[str, Json] = {}
        self.pipelines: list[Json] = [default_pipeline(), custom_pipeline()]
        self.lifecycle_stages: list[Json] = lifecycle_stages()
        self.schema_scope = True  # whether the token may read property definitions
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self._faults: list[tuple[int | Literal["timeout"], int, float | None]] = []
        self._exhausted = 0
        self._sorted: dict[tuple[str, str], tuple[list[int], list[Json]]] = {}
        self._values: dict[tuple[str, str], dict[str, int | None]] = {}
        self._next_id = 1000

    # --- time ---

    def now(self) -> float:
        """The fake clock (unix seconds)."""
        return self.clock

    def sleep(self, seconds: float) -> None:
        """What the connector sleeps: recorded, and the clock moves on."""
        self.sleeps.append(seconds)
        self.clock += seconds

    # --- objects ---

    def new_id(self) -> str:
        """A fresh numeric object id."""
        self._next_id += 1
        return str(self._next_id)

    def put(self, object_type: str, obj: Json) -> Json:
        """Store (insert or replace) one CRM object."""
        obj["properties"]["hs_object_id"] = obj["id"]
        self.objects[object_type][obj["id"]] = obj
        self._sorted.clear()
        self._values.clear()
        return obj

    def add(
        self, object_type: str, modified_ms: int, object_id: str | None = None, **props: Any
    ) -> Json:
        """Add a contact, company or deal modified at ``modified_ms`` with ``props``."""
        object_id = object_id or self.new_id()
        stamp = iso(modified_ms)
        properties = {"createdate": stamp, _modified_prop(object_type): stamp, **props}
        obj = {
            "id": object_id,
            "properties": properties,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
        }
        return self.put(object_type, obj)

    def touch(self, object_type: str, object_id: str, modified_ms: int, **props: Any) -> Json:
        """Change properties of a stored object and its modification time."""
        obj = self.objects[object_type][object_id]
        stamp = iso(modified_ms)
        obj["properties"].update(props, **{_modified_prop(object_type): stamp})
        obj["updatedAt"] = stamp
        self._sorted.clear()
        self._values.clear()
        return obj

    def archive(self, object_type: str, object_id: str, archived_ms: int) -> Json:
        """Move an object to the recycling bin at ``archived_ms`` (its ``updatedAt`` stays)."""
        obj = self.objects[object_type].pop(object_id)
        obj.update(archived=True, archivedAt=iso(archived_ms))
        self.archived[object_type][object_id] = obj
        self._sorted.clear()
        self._values.clear()
        return obj

    def restore(self, object_type: str, object_id: str, modified_ms: int) -> Json:
        """Bring an archived object back, modified at ``modified_ms`` (as HubSpot's restore)."""
        obj = self.archived[object_type].pop(object_id)
        obj["archived"] = False
        obj.pop("archivedAt", None)
        self.put(object_type, obj)
        return self.touch(object_type, object_id, modified_ms)

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Associate two records (both directions). A contact's first company becomes its
        primary one (``associatedcompanyid``), as in HubSpot (its modification time stays)."""
        forward = self.associations.setdefault((from_type, to_type), {})
        forward.setdefault(from_id, []).append(to_id)
        backward = self.associations.setdefault((to_type, from_type), {})
        backward.setdefault(to_id, []).append(from_id)
        ends = {from_type: from_id, to_type: to_id}
        contact = self.objects["contacts"].get(ends.get("contacts", ""))
        if "companies" in ends and contact is not None:
            contact["properties"].setdefault("associatedcompanyid", ends["companies"])
            self._values.clear()

    def add_owner(self, owner_id: str, updated_ms: int, email: str, first: str, last: str) -> Json:
        """Add an owner (a HubSpot user)."""
        owner = {
            "id": owner_id,
            "email": email,
            "type": "PERSON",
            "firstName": first,
            "lastName": last,
            "userId": int(owner_id) % 100_000,
            "createdAt": iso(updated_ms - 86_400_000),
            "updatedAt": iso(updated_ms),
            "archived": False,
        }
        self.owners[owner_id] = owner
        return owner

    def archive_owner(self, owner_id: str, archived_ms: int) -> Json:
        """Deactivate an owner (a user removed from the portal) at ``archived_ms``: it leaves the
        live list for ``archived=true``. Owners carry no ``archivedAt``; ``updatedAt`` moves."""
        owner = self.owners.pop(owner_id)
        owner.update(archived=True, updatedAt=iso(archived_ms))
        self.archived_owners[owner_id] = owner
        return owner

    def keys(self) -> set[tuple[str, str]]:
        """``(kind, id)`` of every stored record and owner."""
        kinds = {"contacts": "contact", "companies": "company", "deals": "deal"}
        found = {(kinds[t], i) for t, items in self.objects.items() for i in items}
        return found | {("owner", i) for i in self.owners}

    # --- webhooks ---

    def signed(
        self,
        events: list[Json],
        uri: str,
        *,
        timestamp_ms: int | None = None,
        secret: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A v3-signed delivery of ``events`` to ``uri``: headers and raw body."""
        body = json.dumps(events, separators=(",", ":")).encode()
        stamp = str(int(self.clock * 1000) if timestamp_ms is None else timestamp_ms)
        source = b"POST" + uri.encode() + body + stamp.encode()
        key = (secret or self.client_secret).encode()
        signature = base64.b64encode(hmac.new(key, source, hashlib.sha256).digest()).decode()
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": signature,
            "X-HubSpot-Request-Timestamp": stamp,
        }
        return headers, body

    # --- faults, connector ---

    def inject(
        self,
        status: int | Literal["timeout"],
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (or a read timeout)."""
        self._faults.append((status, times, retry_after))

    def exhaust_interval(self, times: int = 1) -> None:
        """The next ``times`` answers say no request is left in this 10-second interval."""
        self._exhausted += times

    def client(self) -> httpx.Client:
        """An ``httpx.Client`` whose transport is this fake."""
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def connector(self, client: httpx.Client | None = None, **kw: Any) -> HubSpotConnector:
        """A connector on this fake: its token and secret, its clock, recorded sleeps."""
        options: dict[str, Any] = {
            "access_token": self.token,
            "client_secret": self.client_secret,
            "sleep": self.sleep,
            "now": self.now,
        }
        options.update(kw)
        return HubSpotConnector(client or self.client(), **options)

    # --- HTTP ---

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as HubSpot would (the ``MockTransport`` handler)."""
        self.requests.append(request)
        fault = self._take_fault(request)
        if fault is not None:
            return fault
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "Authentication credentials not found.", "INVALID_AUTHENTICATION")
        response = self._route(request)
        remaining = "0" if self._exhausted else "99"
        self._exhausted = max(0, self._exhausted - 1)
        response.headers.update(
            {
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Remaining": remaining,
            }
        )
        return response

    def _take_fault(self, request: httpx.Request) -> httpx.Response | None:
        if not self._faults:
            return None
        status, times, retry_after = self._faults[0]
        if times <= 1:
            self._faults.pop(0)
        else:
            self._faults[0] = (status, times - 1, retry_after)
        if status == "timeout":
            raise httpx.ReadTimeout("injected timeout", request=request)
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        category = "RATE_LIMITS" if status == 429 else "INTERNAL_ERROR"
        return _error(status, f"injected {status}", category, **headers)

    def _route(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        method = request.method
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 5 and parts[4] == "search":
            return self._search(parts[3], json.loads(request.content))
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 5 and method == "GET":
            return self._get_object(parts[3], parts[4], request)
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 4 and method == "GET":
            return self._list(parts[3], request)
        if parts[:3] == ["crm", "v3", "objects"] and parts[4:] == ["batch", "read"]:
            return self._batch_read(parts[3], json.loads(request.content))
        if parts[:3] == ["crm", "v4", "associations"] and parts[5:] == ["batch", "read"]:
            return self._batch_associations(parts[3], parts[4], json.loads(request.content))
        if parts[:3] == ["crm", "v3", "owners"] and method == "GET":
            return self._owners(parts[3] if len(parts) == 4 else None, request)
        if parts == ["crm", "v3", "pipelines", "deals"] and method == "GET":
            return httpx.Response(200, json={"results": copy.deepcopy(self.pipelines)})
        if parts == ["crm", "v3", "properties", "contacts", "lifecyclestage"] and method == "GET":
            return self._lifecycle_property()
        if parts == ["account-info", "v3", "details"] and method == "GET":
            return httpx.Response(200, json=self._account_details())
        return _error(404, f"Unable to route {method} request", "OBJECT_NOT_FOUND")

    # --- search ---

    def _values_of(self, object_type: str, prop: str) -> dict[str, int | None]:
        """``id -> value`` of one property (ms or id) for every object, cached until a change."""
        key = (object_type, prop)
        if key not in self._values:
            items = self.objects[object_type].items()
            if prop == "hs_object_id":
                self._values[key] = {i: int(i) for i, _ in items}
            else:
                raw = {i: o["properties"].get(prop) for i, o in items}
                self._values[key] = {i: _ms(v) if v else None for i, v in raw.items()}
        return self._values[key]

    def _index(self, object_type: str, prop: str) -> tuple[list[int], list[Json]]:
        """Values and objects sorted by ``prop``; ties in a fixed arbitrary order, as HubSpot's."""
        key = (object_type, prop)
        if key not in self._sorted:
            values = self._values_of(object_type, prop)
            rows = [(values[i] or 0, _scramble(i), o) for i, o in self.objects[object_type].items()]
            rows.sort(key=lambda row: row[:2])
            self._sorted[key] = ([v for v, _, _ in rows], [o for _, _, o in rows])
        return self._sorted[key]

    def _sorted_range(self, object_type: str, sort: str, filters: list[Json]) -> list[Json]:
        """The objects in sort order, narrowed by bisection on filters over the sort property."""
        values, objects = self._index(object_type, sort)
        low, high = 0, len(objects)
        for spec in filters:
            if spec["propertyName"] != sort:
                continue
            wanted, op = _ms(str(spec["value"])), spec["operator"]
            if op in ("GT", "GTE"):
                find = bisect.bisect_right if op == "GT" else bisect.bisect_left
                low = max(low, find(values, wanted))
            elif op in ("LT", "LTE"):
                find = bisect.bisect_left if op == "LT" else bisect.bisect_right
                high = min(high, find(values, wanted))
        return objects[low:high]

    def _filtered(self, object_type: str, objects: list[Json], spec: Json) -> list[Json]:
        """``objects`` that pass one filter (values compared as numbers: ms or ids)."""
        values = self._values_of(object_type, spec["propertyName"])
        if spec["operator"] == "IN":
            among = {_ms(str(value)) for value in spec["values"]}
            return [o for o in objects if values[o["id"]] in among]
        test, wanted = _OPS[spec["operator"]], _ms(str(spec["value"]))
        return [o for o in objects if (v := values[o["id"]]) is not None and test(v, wanted)]

    def _search(self, object_type: str, body: Json) -> httpx.Response:
        limit, after = int(body.get("limit", 10)), int(body.get("after") or 0)
        if not 1 <= limit <= 200:
            return _error(400, "limit must be between 1 and 200")
        if after + limit > SEARCH_CAP:
            return _error(400, "Search results are capped at 10,000; use a narrower filter")
        [sort] = body.get("sorts") or [{"propertyName": "hs_object_id"}]
        if sort.get("direction", "ASCENDING") != "ASCENDING":
            return _error(400, "the fake sorts ascending only")
        groups = body.get("filterGroups") or [{"filters": []}]
        if len(groups) != 1:
            return _error(400, "the fake takes one filter group")
        filters = groups[0]["filters"]
        matches = self._sorted_range(object_type, sort["propertyName"], filters)
        for spec in filters:
            if spec["propertyName"] != sort["propertyName"] or spec["operator"] == "EQ":
                matches = self._filtered(object_type, matches, spec)
        page = matches[after : after + limit]
        wanted = set(body.get("properties") or ()) | {"hs_object_id", "createdate"}
        wanted.add(_modified_prop(object_type))
        result: Json = {"total": len(matches), "results": [_project(o, wanted) for o in page]}
        if after + limit < len(matches):
            result["paging"] = {"next": {"after": str(after + limit)}}
        return httpx.Response(200, json=result)

    def _get_object(
        self, object_type: str, object_id: str, request: httpx.Request
    ) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        archived = query.get("archived", ["false"])[0] == "true"
        obj = (self.archived if archived else self.objects).get(object_type, {}).get(object_id)
        if obj is None:
            return _error(
                404, "Object not found. objectId are usually numeric.", "OBJECT_NOT_FOUND"
            )
        wanted = set(",".join(query.get("properties", [])).split(",")) - {""}
        result = _project(obj, wanted | {"hs_object_id", "createdate", _modified_prop(object_type)})
        for to in ",".join(query.get("associations", [])).split(","):
            ids = self.associations.get((object_type, to), {}).get(object_id) if to else None
            if ids:
                label = f"{object_type[:-1]}_to_{to[:-1]}".replace("companie", "company")
                unlabeled = [{"id": i, "type": f"{label}_unlabeled"} for i in ids]
                typed = [{"id": i, "type": label} for i in ids]
                result.setdefault("associations", {})[to] = {"results": typed + unlabeled}
        return httpx.Response(200, json=result)

    def _batch_read(self, object_type: str, body: Json) -> httpx.Response:
        """``POST /crm/v3/objects/{type}/batch/read``: the live objects asked for (207 with
        errors for the others)."""
        table = self.objects.get(object_type, {})
        wanted = set(body.get("properties") or ()) | {"hs_object_id", "createdate"}
        wanted.add(_modified_prop(object_type))
        ids = [str(item["id"]) for item in body["inputs"]]
        results = [_project(table[i], wanted) for i in ids if i in table]
        missing = [i for i in ids if i not in table]
        answer: Json = {"status": "COMPLETE", "results": results}
        if missing:
            error = {"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": missing}}
            answer.update(numErrors=len(missing), errors=[error])
        return httpx.Response(207 if missing else 200, json=answer)

    def _batch_associations(self, from_type: str, to_type: str, body: Json) -> httpx.Response:
        table = self.associations.get((from_type, to_type), {})
        results, errors = [], []
        for item in body["inputs"]:
            targets = table.get(str(item["id"]))
            if not targets:
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND", "context": {}})
                continue
            to = [
                {
                    "toObjectId": int(t),
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": None},
                        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": "Primary"},
                    ],
                }
                for t in targets
            ]
            results.append({"from": {"id": str(item["id"])}, "to": to})
        answer: Json = {"status": "COMPLETE", "results": results}
        if errors:
            answer.update(numErrors=len(errors), errors=errors)
        return httpx.Response(207 if errors else 200, json=answer)

    def _list(self, object_type: str, request: httpx.Request) -> httpx.Response:
        """``GET /crm/v3/objects/{type}``: live or archived objects in id order, by offset."""
        params = request.url.params
        limit, start = int(params.get("limit", "10")), int(params.get("after", "0"))
        if not 1 <= limit <= 100:
            return _error(400, "limit must be between 1 and 100")
        table = self.archived if params.get("archived") == "true" else self.objects
        items = sorted(table.get(object_type, {}).values(), key=lambda o: int(o["id"]))
        wanted = set(",".join(params.get_list("properties")).split(",")) - {""}
        body: Json = {"results": [_project(o, wanted) for o in items[start : start + limit]]}
        if start + limit < len(items):
            body["paging"] = {"next": {"after": str(start + limit), "link": "?after="}}
        return httpx.Response(200, json=body)

    def _lifecycle_property(self) -> httpx.Response:
        """``GET /crm/v3/properties/contacts/lifecyclestage``: the property's definition, or
        HubSpot's 403 for a token without the scope that reads it.

        The definition's shape is the "Read a property" reference's (developers.hubspot.com/docs/
        api-reference/crm-properties-v3/core/get-crm-v3-properties-objectType-propertyName):
        ``name``, ``label``, ``type`` ``enumeration``, ``fieldType``, ``groupName``, ``options``
        ``[{label, value, displayOrder, hidden, description}]``, ``modificationMetadata``...;
        the values besides the options are illustrative.
        """
        if not self.schema_scope:
            return httpx.Response(403, json=missing_scopes("crm.schemas.contacts.read"))
        definition = {
            "name": "lifecyclestage",
            "label": "Lifecycle Stage",
            "type": "enumeration",
            "fieldType": "radio",
            "groupName": "contactinformation",
            "description": "The qualification of contacts to sales readiness.",
            "displayOrder": -1,
            "options": copy.deepcopy(self.lifecycle_stages),
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": False,
            "hidden": False,
            "hubspotDefined": True,
            "formField": True,
            "modificationMetadata": {
                "archivable": True,
                "readOnlyDefinition": True,
                "readOnlyOptions": False,
                "readOnlyValue": False,
            },
            "createdAt": "2019-08-06T02:41:52.134Z",
            "updatedAt": "2025-02-01T09:00:00.000Z",
            "archived": False,
        }
        return httpx.Response(200, json=definition)

    def _account_details(self) -> Json:
        """``GET /account-info/v3/details``: the portal the token belongs to."""
        return {
            "portalId": self.portal_id,
            "accountType": "STANDARD",
            "timeZone": "US/Eastern",
            "companyCurrency": "USD",
            "additionalCurrencies": [],
            "utcOffset": "-05:00",
            "utcOffsetMilliseconds": -18_000_000,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        }

    # --- owners ---

    def _owners(self, owner_id: str | None, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        table = self.archived_owners if params.get("archived") == "true" else self.owners
        if owner_id is not None:
            owner = table.get(owner_id)
            if owner is None:
                return _error(404, "Owner not found", "OBJECT_NOT_FOUND")
            return httpx.Response(200, json=copy.deepcopy(owner))
        limit, start = int(params.get("limit", "100")), int(params.get("after", "0"))
        items = copy.deepcopy(list(table.values()))
        body: Json = {"results": items[start : start + limit]}
        if start + limit < len(items):
            body["paging"] = {"next": {"after": str(start + limit), "link": "?after="}}
        return httpx.Response(200, json=body)


def _scramble(object_id: str) -> int:
    """A fixed, arbitrary order for records that share a sort value."""
    return int(hashlib.blake2b(object_id.encode(), digest_size=4).hexdigest(), 16)


def _project(obj: Json, wanted: set[str]) -> Json:
    """The object with only the ``wanted`` properties (as HubSpot returns it), copied."""
    props = {name: obj["properties"].get(name) for name in sorted(wanted)}
    return {**{k: v for k, v in obj.items() if k != "properties"}, "properties": props}
