"""Zendesk: a user's organization is the company in their context, and stays current.

Requests for users side-load their organizations (``include=organizations``, a users side-load:
developer.zendesk.com/documentation/api-basics/working-with-data/side-loading), the user's own
attached as ``organization``; the mapper makes its name the company. Renaming an organization
does not touch its members' user objects, so a sync that resumes lists the members of each
organization the export brings (``GET /api/v2/organizations/{id}/users.json``) and maps them
again, each dated by the later of its own and its organization's ``updated_at``.
"""

from __future__ import annotations

from typing import Any

import pytest

from context_service.models import RecordKey, Snapshot
from context_service.snapshot.assemble import assemble
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from integrations.zendesk import map_user
from tests.conftest import Ingest
from tests.integrations.zendesk.fake import FakeZendesk
from tests.payloads import zendesk_user

URL = "https://context.example.com/v1/webhooks/zendesk"
Json = dict[str, Any]
ORG = 360001
MEMBER, OTHER = 384002, 384001  # in populate(organizations=2, users=2): 384002 is ORG's
COLLEAGUE = 385000


@pytest.fixture
def fake() -> FakeZendesk:
    zendesk = FakeZendesk()
    zendesk.populate(organizations=2, users=2, tickets=1)
    assert zendesk.users[MEMBER]["organization_id"] == ORG
    assert zendesk.users[OTHER]["organization_id"] != ORG
    return zendesk


def _context(store: Store, ctx: IngestContext, user: int) -> Snapshot:
    profile = profile_of_key(store.conn, RecordKey("zendesk", "user", str(user)))
    assert profile is not None
    snapshot = assemble(store.conn, profile, ctx.links, "now", "US")
    assert snapshot is not None
    return snapshot


def _member(updated_at: str, organization: Json | None, **changes: Any) -> Json:
    payload = zendesk_user(7, "Ann Lee", email="ann@northwind.example")[2]
    payload.update(organization_id=ORG, updated_at=updated_at, **changes)
    if organization is not None:
        payload["organization"] = organization
    return payload


NORTHWIND = {"id": ORG, "name": "Northwind Outfitters", "updated_at": "2026-03-01T00:00:00Z"}


# --- 1. Mapping ----------------------------------------------------------------------------------


def test_the_attached_organizations_name_is_the_company() -> None:
    mapped = map_user(_member("2026-02-01T00:00:00Z", NORTHWIND))
    assert mapped.person is not None
    assert mapped.person.company == "Northwind Outfitters"
    assert mapped.person.attributes["organization_id"] == str(ORG)
    # an organization attached under another id is not the user's
    other = map_user(_member("2026-02-01T00:00:00Z", {**NORTHWIND, "id": 999}))
    assert other.person is not None
    assert other.person.company is None
    assert other.updated_at == "2026-02-01T00:00:00Z"


def test_the_record_is_dated_by_the_later_of_the_user_and_its_organization() -> None:
    assert (
        map_user(_member("2026-02-01T00:00:00Z", NORTHWIND)).updated_at == NORTHWIND["updated_at"]
    )
    assert map_user(_member("2026-04-01T00:00:00Z", NORTHWIND)).updated_at == "2026-04-01T00:00:00Z"
    assert map_user(_member("2026-02-01T00:00:00Z", None)).updated_at == "2026-02-01T00:00:00Z"


@pytest.mark.parametrize("changes", [{"role": "agent"}, {"suspended": True}])
def test_staff_and_suspended_users_keep_their_organization_as_an_attribute_only(
    changes: Json,
) -> None:
    person = map_user(_member("2026-02-01T00:00:00Z", NORTHWIND, **changes)).person
    assert person is not None
    assert person.company is None  # matching weighs a company: these never match anyone
    assert person.attributes["organization"] == "Northwind Outfitters"


# --- 2. Sync: exports and organizations that change ---------------------------------------------


def test_a_synced_users_organization_is_the_company_in_their_context(
    fake: FakeZendesk, store: Store, ctx: IngestContext
) -> None:
    fake.users[MEMBER]["name"] = "Ann Lee"
    fake.put_user(COLLEAGUE, "bo.park@example.com", int(fake.clock) - 3000, ORG)
    fake.users[COLLEAGUE]["name"] = "Bo Park"
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    company = fake.organizations[ORG]["name"]
    assert _context(store, ctx, MEMBER).identity.company == company
    assert _context(store, ctx, COLLEAGUE).identity.company == company
    # matching weighs a shared company, but it merges no colleagues
    assert _context(store, ctx, MEMBER).profile_id != _context(store, ctx, COLLEAGUE).profile_id
    # a first run lists no organization's members: the users export reads every user anyway
    assert not [r for r in fake.requests if r.url.path.endswith("/users.json")]


def test_a_renamed_organizations_members_follow_on_the_next_sync(
    fake: FakeZendesk, store: Store, ctx: IngestContext
) -> None:
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    fake.clock += 600
    fake.update("organization", ORG, name="Northwind Outfitters")
    fake.requests.clear()
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert _context(store, ctx, MEMBER).identity.company == "Northwind Outfitters"
    assert _context(store, ctx, OTHER).identity.company != "Northwind Outfitters"
    listed = [r.url.path for r in fake.requests if r.url.path.endswith("/users.json")]
    assert listed == [f"/api/v2/organizations/{ORG}/users.json"]


def test_an_organizations_members_are_listed_page_by_page(fake: FakeZendesk) -> None:
    for k in range(3):
        fake.put_user(385000 + k, f"colleague{k}@example.com", int(fake.clock) - 3000, ORG)
    [organizations, _, _] = fake.connector().streams()
    cursor = list(organizations.pages(None))[-1].cursor
    fake.clock += 600
    fake.update("organization", ORG, name="Renamed")
    found = {
        obj.payload["id"]: obj.payload["organization"]["name"]
        for page in organizations.pages(cursor)
        for obj in page.objects
        if obj.kind == "user"
    }
    assert found == dict.fromkeys([MEMBER, 385000, 385001, 385002], "Renamed")


def test_a_late_copy_naming_the_old_organization_name_is_stale(
    store: Store, ingest: Ingest
) -> None:
    renamed = {**NORTHWIND, "name": "Northwind", "updated_at": "2026-05-01T00:00:00Z"}
    ingest(("zendesk", "user", _member("2026-02-01T00:00:00Z", renamed)))
    ingest(("zendesk", "user", _member("2026-02-01T00:00:00Z", NORTHWIND)))  # the older copy
    stored = store.conn.execute(
        "SELECT updated_at FROM records WHERE source = 'zendesk' AND kind = 'user'"
    ).fetchone()
    assert stored == ("2026-05-01T00:00:00Z",)


# --- 3. Webhooks: a user's refetch carries the organization ----------------------------------


def test_a_users_refetch_brings_their_organizations_current_name(
    fake: FakeZendesk, store: Store, ctx: IngestContext
) -> None:
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    fake.clock += 60
    fake.update("organization", ORG, name="Northwind Outfitters")
    fake.update("user", MEMBER, name="Ann Lee")
    headers, body = fake.signed(fake.event("user.name_changed", MEMBER, at=fake.clock))
    assert receive(store, fake.connector(), headers, body, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"zendesk": fake.connector()}, ctx, now=fake.now()) == 1
    snapshot = _context(store, ctx, MEMBER)
    assert (snapshot.identity.name, snapshot.identity.company) == (
        "Ann Lee",
        "Northwind Outfitters",
    )
