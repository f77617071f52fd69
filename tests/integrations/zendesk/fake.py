"""``FakeZendesk``: an in-memory Zendesk Support API for ``httpx.MockTransport``.

Shapes follow Zendesk's API reference (developer.zendesk.com/api-reference/ticketing/...), the
same documented fields as the hand-built mapping fixtures in ``tests/integrations/fixtures/
zendesk``, trimmed to what the connector and mapper read plus a few neighbours. Served:

* ``GET /api/v2/incremental/organizations.json?start_time&per_page``: time-based export,
  ``updated_at >= start_time`` ascending; a page is extended to every object sharing its last
  second (as Zendesk documents), ``end_time`` is that second, ``end_of_stream`` when the page is
  short; so the object at ``end_time`` comes back on the next page (the boundary duplicate);
* ``GET /api/v2/incremental/{users,tickets}/cursor.json?start_time|cursor&per_page``: cursor
  export ordered by (``updated_at`` for users, ``generated_timestamp`` for tickets, id); the
  opaque cursor encodes the last position; ``end_of_stream`` with the cursor of the last item;
* ``start_time`` within the last minute is refused with 400 (``Too recent start_time``);
* ``GET /api/v2/tickets/{id}/comments.json`` (``sort``, ``page[size]``, ``page[after]``);
* ``GET /api/v2/{users,tickets,organizations}/{id}.json``, 404 ``RecordNotFound`` when absent
  (``delete`` removes an object, merged away or purged; ``restore`` brings it back, updated now);
* ``GET /api/v2/organizations/{id}/users.json`` (``page[size]``, ``page[after]``), the users whose
  ``organization_id`` it is; 404 when the organization is absent;
* ``include=organizations`` on the user export, a user and an organization's users side-loads
  the organizations those users name (other side-loads are not served).

Faults: ``inject`` (a status or a timeout for the next requests, optional ``Retry-After`` sent
lowercase with a text body, as Zendesk's 429s may be); ``stuck`` makes a cursor export hand back
the cursor it was given; ``comments_page_cap`` shrinks comment pages. ``sleep`` records into ``sleeps`` and moves the fake clock, so pacing
is measured on ``incremental_at`` (the clock at each export request). Nothing sleeps for real.

The contract suite relies on: ``FakeZendesk``, ``handler``, ``inject``, ``sleeps``,
``connector``, ``signed``, ``now``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import msgspec

from integrations.zendesk import ZendeskConnector

SUBDOMAIN = "fakeshop"
BASE = f"https://{SUBDOMAIN}.zendesk.com"
EMAIL = "agent@fakeshop.example"
API_TOKEN = "zd_fake_token_0123456789abcdef"
WEBHOOK_SECRET = "zd_fake_signing_secret_0123456789"
START = 1_767_225_600  # 2026-01-01T00:00:00Z

Json = dict[str, Any]


class _Fault(msgspec.Struct):
    status: int | Literal["timeout"]
    times: int
    retry_after: float | None


def iso(seconds: float) -> str:
    """Unix seconds as Zendesk writes timestamps (``2026-01-01T00:00:00Z``)."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unix(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def _error(status: int, error: str, description: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "description": description})


def _encode_cursor(position: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(f"{position[0]}:{position[1]}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, int] | None:
    try:
        stamp, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return int(stamp), int(ident)
    except ValueError:
        return None


class FakeZendesk:
    """An in-memory Zendesk account: organizations, users, tickets, comments, faults."""

    def __init__(self, *, clock: float = START) -> None:
        self.clock = clock
        self.organizations: dict[int, Json] = {}
        self.users: dict[int, Json] = {}
        self.tickets: dict[int, Json] = {}
        self.comments: dict[int, list[Json]] = {}
        self.requests: list[httpx.Request] = []
        self.incremental_at: list[float] = []
        self.sleeps: list[float] = []
        self.stuck: set[str] = set()
        self.comments_page_cap: int | None = None
        self._faults: list[_Fault] = []
        self._next_comment = 9000
        self._deleted: dict[tuple[str, int], Json] = {}

    # --- time ---

    def now(self) -> float:
        """The fake's clock (unix seconds)."""
        return self.clock

    def sleep(self, seconds: float) -> None:
        """Record a wait and move the clock by it."""
        self.sleeps.append(seconds)
        self.clock += seconds

    # --- data ---

    def populate(self, organizations: int, users: int, tickets: int) -> None:
        """Objects updated a second apart, ending an hour before the clock; 2 comments a ticket."""
        stamp = int(self.clock) - 3600 - (organizations + users + tickets)
        for k in range(1, organizations + 1):
            self.put_organization(360000 + k, f"Org {k}", stamp := stamp + 1)
        for k in range(1, users + 1):
            org = 360000 + (k % organizations) + 1 if organizations else None
            self.put_user(384000 + k, f"user{k}@example.com", stamp := stamp + 1, org)
        for k in range(1, tickets + 1):
            requester = 384000 + (k % users) + 1 if users else None
            ticket = self.put_ticket(35000 + k, requester, stamp := stamp + 1)
            self.add_comment(ticket["id"], f"Question {k}", public=True, at=stamp)
            self.add_comment(ticket["id"], f"Internal note {k}", public=False, at=stamp)

    def put_organization(self, org_id: int, name: str, updated: int) -> Json:
        """Store an organization updated at ``updated`` (unix seconds)."""
        org = {
            "id": org_id,
            "url": f"{BASE}/api/v2/organizations/{org_id}.json",
            "name": name,
            "domain_names": [f"{name.lower().replace(' ', '')}.example"],
            "tags": [],
            "created_at": iso(updated - 86_400),
            "updated_at": iso(updated),
        }
        self.organizations[org_id] = org
        return org

    def put_user(self, user_id: int, email: str, updated: int, org: int | None = None) -> Json:
        """Store an end-user updated at ``updated``."""
        user = {
            "id": user_id,
            "url": f"{BASE}/api/v2/users/{user_id}.json",
            "name": f"User {user_id}",
            "email": email,
            "phone": None,
            "external_id": None,
            "organization_id": org,
            "role": "end-user",
            "active": True,
            "tags": [],
            "created_at": iso(updated - 86_400),
            "updated_at": iso(updated),
        }
        self.users[user_id] = user
        return user

    def put_ticket(self, ticket_id: int, requester: int | None, updated: int) -> Json:
        """Store an open ticket updated (and generated) at ``updated``."""
        ticket = {
            "id": ticket_id,
            "url": f"{BASE}/api/v2/tickets/{ticket_id}.json",
            "subject": f"Help with order {ticket_id}",
            "description": f"Question about {ticket_id}",
            "status": "open",
            "priority": "normal",
            "requester_id": requester,
            "tags": [],
            "via": {"channel": "email"},
            "satisfaction_rating": {"score": "unoffered"},
            "created_at": iso(updated - 600),
            "updated_at": iso(updated),
            "generated_timestamp": updated,
        }
        self.tickets[ticket_id] = ticket
        return ticket

    def update(self, kind: str, object_id: int, **changes: Any) -> Json:
        """Change an object now (``updated_at`` and, for tickets, ``generated_timestamp``)."""
        store = {"user": self.users, "ticket": self.tickets, "organization": self.organizations}
        obj = store[kind][object_id]
        obj.update(changes, updated_at=iso(self.clock))
        if kind == "ticket":
            obj["generated_timestamp"] = int(self.clock)
        return obj

    def delete(self, kind: str, object_id: int) -> None:
        """Remove an object: from now on it answers 404 and no export lists it."""
        self._deleted[(kind, object_id)] = self._store(kind).pop(object_id)

    def restore(self, kind: str, object_id: int) -> Json:
        """Bring a deleted object back, updated now."""
        self._store(kind)[object_id] = self._deleted.pop((kind, object_id))
        return self.update(kind, object_id)

    def _store(self, kind: str) -> dict[int, Json]:
        return {"user": self.users, "ticket": self.tickets, "organization": self.organizations}[
            kind
        ]

    def add_comment(self, ticket_id: int, body: str, *, public: bool, at: float) -> Json:
        """Append a comment to a ticket."""
        self._next_comment += 1
        comment = {
            "id": self._next_comment,
            "type": "Comment",
            "author_id": self.tickets[ticket_id]["requester_id"],
            "body": body,
            "html_body": f"<p>{body}</p>",
            "public": public,
            "attachments": [],
            "created_at": iso(at),
        }
        self.comments.setdefault(ticket_id, []).append(comment)
        return comment

    # --- webhooks ---

    def event(self, type_: str, object_id: int, *, at: float | None = None, **detail: Any) -> Json:
        """An event-subscription envelope (``zen:event-type:...``) about one object."""
        resource = type_.partition(".")[0]
        when = self.clock if at is None else at
        digest = hashlib.sha256(f"{type_}:{object_id}:{when}".encode()).hexdigest()
        return {
            "type": f"zen:event-type:{type_}",
            "account_id": 12514403,
            "id": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
            "time": iso(when),
            "zendesk_event_version": "2022-06-20",
            "subject": f"zen:{resource}:{object_id}",
            "detail": {"id": str(object_id), **detail},
            "event": {},
        }

    def signed(
        self,
        payload: Json | bytes,
        *,
        at: float | None = None,
        secret: str = WEBHOOK_SECRET,
        invocation_id: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A delivery: headers with signature and timestamp (``at``, default now), and body."""
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        stamp = iso(self.clock if at is None else at)
        digest = hmac.new(secret.encode(), stamp.encode() + raw, hashlib.sha256).digest()
        headers = {
            "Content-Type": "application/json",
            "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        }
        if invocation_id is not None:
            headers["X-Zendesk-Webhook-Invocation-Id"] = invocation_id
        return headers, raw

    # --- faults, connector ---

    def inject(
        self, status: int | Literal["timeout"], times: int = 1, retry_after: float | None = None
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (or a read timeout)."""
        self._faults.append(_Fault(status, times, retry_after))

    def client(self) -> httpx.Client:
        """An ``httpx.Client`` whose transport is this fake."""
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def connector(self, client: httpx.Client | None = None, **kw: Any) -> ZendeskConnector:
        """A ``ZendeskConnector`` on this fake: its clock, its sleep, its credentials."""
        options: dict[str, Any] = {
            "subdomain": SUBDOMAIN,
            "email": EMAIL,
            "api_token": API_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "client": client or self.client(),
            "sleep": self.sleep,
            "now": self.now,
        }
        options.update(kw)
        return ZendeskConnector(**options)

    # --- HTTP ---

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as Zendesk would (the ``MockTransport`` handler)."""
        self.requests.append(request)
        if request.url.path.startswith("/api/v2/incremental/"):
            self.incremental_at.append(self.clock)
        fault = self._take_fault(request)
        if fault is not None:
            return fault
        expected = base64.b64encode(f"{EMAIL}/token:{API_TOKEN}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return httpx.Response(401, json={"error": "Couldn't authenticate you"})
        if request.method != "GET":
            return _error(405, "MethodNotAllowed", f"{request.method} not supported by the fake")
        return self._route(request)

    def _take_fault(self, request: httpx.Request) -> httpx.Response | None:
        if not self._faults:
            return None
        fault = self._faults[0]
        fault.times -= 1
        if fault.times <= 0:
            self._faults.pop(0)
        if fault.status == "timeout":
            raise httpx.ReadTimeout("injected timeout", request=request)
        headers = {"content-type": "text/plain"}
        if fault.retry_after is not None:
            headers["retry-after"] = f"{fault.retry_after:g}"
        return httpx.Response(fault.status, text=f"injected {fault.status}", headers=headers)

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removesuffix(".json").strip("/").split("/")
        match path:
            case ["api", "v2", "incremental", "organizations"]:
                return self._time_export(request)
            case ["api", "v2", "incremental", "users" | "tickets" as resource, "cursor"]:
                return self._with_organizations(request, self._cursor_export(request, resource))
            case ["api", "v2", "tickets", ident, "comments"] if ident.isdigit():
                return self._comments(request, int(ident))
            case ["api", "v2", "organizations", ident, "users"] if ident.isdigit():
                return self._members(request, int(ident))
            case ["api", "v2", "users" | "tickets" | "organizations" as resource, ident]:
                return self._with_organizations(request, self._show(resource, ident))
        return _error(404, "InvalidEndpoint", f"Not found: {request.url.path}")

    def _too_recent(self, start_time: int) -> httpx.Response | None:
        if start_time > self.clock - 60:
            return _error(
                400, "InvalidValue", "Too recent start_time. Use a start_time older than 1 minute"
            )
        return None

    def _time_export(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        start, per_page = int(params.get("start_time", "-1")), int(params.get("per_page", "1000"))
        if start < 0:
            return _error(400, "InvalidValue", "start_time is required")
        if (refused := self._too_recent(start)) is not None:
            return refused
        ordered = sorted(
            self.organizations.values(), key=lambda o: (_unix(o["updated_at"]), o["id"])
        )
        matching = [o for o in ordered if _unix(o["updated_at"]) >= start]
        page = matching[:per_page]
        if page:  # never split a second across pages
            last = _unix(page[-1]["updated_at"])
            page += [o for o in matching[per_page:] if _unix(o["updated_at"]) == last]
        end_time = _unix(page[-1]["updated_at"]) if page else None
        body = {
            "organizations": page,
            "count": len(page),
            "end_time": end_time,
            "end_of_stream": len(page) < per_page,
            "next_page": (
                f"{BASE}/api/v2/incremental/organizations.json?start_time={end_time}"
                if end_time is not None
                else None
            ),
        }
        return httpx.Response(200, json=body)

    def _cursor_export(self, request: httpx.Request, resource: str) -> httpx.Response:
        params = request.url.params
        per_page = int(params.get("per_page", "1000"))
        cursor = params.get("cursor")
        if cursor is not None:
            position = _decode_cursor(cursor)
            if position is None:
                return _error(400, "InvalidCursor", "The cursor is invalid")
        elif "start_time" in params:
            start = int(params["start_time"])
            if (refused := self._too_recent(start)) is not None:
                return refused
            position = (start - 1, 2**62)
        else:
            return _error(400, "InvalidValue", "start_time or cursor is required")
        ordered = sorted(self._positioned(resource), key=lambda pair: pair[0])
        rest = [(pos, obj) for pos, obj in ordered if pos > position]
        page = rest[:per_page]
        after = _encode_cursor(page[-1][0] if page else position)
        if resource in self.stuck and cursor is not None:
            after = cursor
        body = {
            resource: [obj for _, obj in page],
            "after_cursor": after,
            "after_url": f"{BASE}/api/v2/incremental/{resource}/cursor.json?cursor={after}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": len(rest) <= per_page and resource not in self.stuck,
        }
        return httpx.Response(200, json=body)

    def _positioned(self, resource: str) -> list[tuple[tuple[int, int], Json]]:
        if resource == "tickets":
            return [((t["generated_timestamp"], t["id"]), t) for t in self.tickets.values()]
        return [((_unix(u["updated_at"]), u["id"]), u) for u in self.users.values()]

    def _comments(self, request: httpx.Request, ticket_id: int) -> httpx.Response:
        if ticket_id not in self.tickets:
            return _error(404, "RecordNotFound", "Not found")
        params = request.url.params
        size = min(int(params.get("page[size]", "100")), self.comments_page_cap or 100)
        items = list(self.comments.get(ticket_id, []))
        # Cursor pagination sorts with ``sort`` (``created_at`` or ``-created_at``); the offset
        # model's ``sort_order`` is not honoured with ``page[size]``.
        if params.get("sort") == "-created_at":
            items.reverse()
        offset = int(params.get("page[after]", "0"))
        page = items[offset : offset + size]
        more = offset + size < len(items)
        meta = {"has_more": more, "after_cursor": str(offset + size) if more else None}
        return httpx.Response(200, json={"comments": page, "meta": meta, "links": {}})

    def _show(self, resource: str, ident: str) -> httpx.Response:
        store = {"users": self.users, "tickets": self.tickets, "organizations": self.organizations}
        found = store[resource].get(int(ident)) if ident.isdigit() else None
        if found is None:
            return _error(404, "RecordNotFound", "Not found")
        return httpx.Response(200, json={resource.removesuffix("s"): found})

    def _members(self, request: httpx.Request, org_id: int) -> httpx.Response:
        if org_id not in self.organizations:
            return _error(404, "RecordNotFound", "Not found")
        params = request.url.params
        size = int(params.get("page[size]", "100"))
        offset = int(params.get("page[after]", "0"))
        found = sorted(
            (u for u in self.users.values() if u["organization_id"] == org_id),
            key=lambda u: int(u["id"]),
        )
        more = offset + size < len(found)
        meta = {"has_more": more, "after_cursor": str(offset + size) if more else None}
        body = {"users": found[offset : offset + size], "meta": meta, "links": {}}
        return self._with_organizations(request, httpx.Response(200, json=body))

    def _with_organizations(
        self, request: httpx.Request, response: httpx.Response
    ) -> httpx.Response:
        """``response`` with the organizations its users name side-loaded, when asked."""
        asked = "organizations" in request.url.params.get("include", "").split(",")
        body = json.loads(response.content) if response.status_code == 200 else {}
        users = body.get("users") or ([body["user"]] if "user" in body else [])
        if not asked or not users:
            return response
        named = {u["organization_id"] for u in users if u.get("organization_id") is not None}
        body["organizations"] = [
            self.organizations[o] for o in sorted(named) if o in self.organizations
        ]
        return httpx.Response(200, json=body)
