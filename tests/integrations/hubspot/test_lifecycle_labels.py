"""HubSpot lifecycle stages are shown by their labels, as deal stages are.

A contact's ``lifecyclestage`` holds the stage's internal value (``salesqualifiedlead``; a
stage the portal created is a number such as ``1035364862``). The connector reads the labels
from ``GET /crm/v3/properties/contacts/lifecyclestage`` (the property's ``options: [{label,
value, ...}]``, "Read a property", developers.hubspot.com/docs/api-reference/crm-properties-v3/
core/get-crm-v3-properties-objectType-propertyName), once per run or connector, and puts the
label beside the value under ``_labels``; the snapshot shows the label, else the value: when the
token may not read property definitions (403 ``MISSING_SCOPES``, ``FakeHubSpot.schema_scope``),
for a value the options lack, and for a contact stored before labels were added.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from context_service.models import RecordKey, Snapshot
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from context_service.sync.remap import remap_queued
from integrations.hubspot import map_record
from integrations.hubspot._lifecycle import OPTIONS_PATH, stage_labels
from tests.conftest import Ingest
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.hubspot.fake_data import lifecycle_option
from tests.snapshots import snapshot_of

URL = "https://context.example.com/v1/webhooks/hubspot"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "hubspot"
STANDARD, CUSTOM = "salesqualifiedlead", "1035364862"  # the fake portal labels the custom one
HOUR = 3600.0
Json = dict[str, Any]


def at_stages(fake: FakeHubSpot, *stages: str) -> list[str]:
    """A populated portal whose first contacts are at ``stages``; their ids."""
    people = populate(fake, contacts=len(stages))
    for contact, stage in zip(people, stages, strict=True):
        fake.objects["contacts"][contact]["properties"]["lifecyclestage"] = stage
    return people


def snapshot(store: Store, ctx: IngestContext, contact: str) -> Snapshot:
    return snapshot_of(store.conn, RecordKey("hubspot", "contact", contact), ctx.links)


def shown(store: Store, ctx: IngestContext, contact: str) -> str | None:
    """The lifecycle stage the contact's snapshot shows, in its summary too."""
    snap = snapshot(store, ctx, contact)
    assert f"CRM: {snap.crm.lifecycle_stage}, owner Sam Rivera" in snap.summary
    return snap.crm.lifecycle_stage


def option_reads(fake: FakeHubSpot) -> int:
    return sum(r.url.path == OPTIONS_PATH for r in fake.requests)


def stage_change(fake: FakeHubSpot, contact: str, stage: str, event_id: int) -> Json:
    """HubSpot's ``contact.propertyChange`` event for a new lifecycle stage (a refetch)."""
    return {
        "eventId": event_id,
        "subscriptionId": 2,
        "portalId": fake.portal_id,
        "appId": 3,
        "occurredAt": int(fake.now() * 1000) - 30_000,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": int(contact),
        "changeSource": "CRM_UI",
        "propertyName": "lifecyclestage",
        "propertyValue": stage,
    }


def moved(fake: FakeHubSpot, changes: dict[str, str]) -> list[Json]:
    """The contacts moved to new stages in HubSpot a minute ago; the events saying so."""
    when = int(fake.now() * 1000) - 60_000
    events = []
    for n, (contact, stage) in enumerate(changes.items()):
        fake.touch("contacts", contact, when, lifecyclestage=stage)
        events.append(stage_change(fake, contact, stage, 900 + n))
    return events


def delivered(store: Store, ctx: IngestContext, fake: FakeHubSpot, events: list[Json]) -> None:
    """The events received and applied by a connector that serves webhooks (a fresh one)."""
    connector = fake.connector()
    headers, raw = fake.signed(events, URL)
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": connector}, ctx, now=fake.now()) == 1


# --- sync and webhook refetch --------------------------------------------------------------------


def test_a_sync_shows_the_labels_of_a_standard_and_a_custom_stage(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    standard, custom = at_stages(fake, STANDARD, CUSTOM)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert shown(store, ctx, standard) == "Sales Qualified Lead"
    assert shown(store, ctx, custom) == "Onboarding"
    assert option_reads(fake) == 1  # once per run, not per contact or page


def test_a_webhook_refetch_shows_the_labels_of_a_standard_and_a_custom_stage(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    first, second = populate(fake, contacts=2)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert shown(store, ctx, first) == "Customer"
    fake.clock += HOUR
    delivered(store, ctx, fake, moved(fake, {first: STANDARD, second: CUSTOM}))
    assert shown(store, ctx, first) == "Sales Qualified Lead"
    assert shown(store, ctx, second) == "Onboarding"


def test_every_stream_that_emits_contacts_labels_them_as_a_refetch_does() -> None:
    fake = FakeHubSpot()
    contact = at_stages(fake, CUSTOM)[0]
    connector = fake.connector(page_size=10)
    streams = {s.name: s for s in connector.streams()}
    synced = [o.payload for p in streams["contacts"].pages(None) for o in p.objects]
    assert synced[0]["_labels"] == {"lifecyclestage": "Onboarding"}
    fetched = connector.fetch_one("contact", contact)
    assert fetched is not None
    assert fetched.payload == synced[0]


# --- a token without the scope -------------------------------------------------------------------


def test_without_the_scope_the_sync_goes_on_with_the_values_and_warns_once(
    store: Store, ctx: IngestContext, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeHubSpot()
    fake.schema_scope = False
    standard, custom = at_stages(fake, STANDARD, CUSTOM)
    connector = fake.connector()
    with caplog.at_level(logging.WARNING, logger="integrations.hubspot"):
        assert run_sync(store, connector, ctx).status == "ok"
        assert shown(store, ctx, standard) == STANDARD
        assert shown(store, ctx, custom) == CUSTOM
        assert option_reads(fake) == 1  # not again for each value it could not label
        fake.clock += HOUR
        events = moved(fake, {standard: "opportunity"})
        headers, raw = fake.signed(events, URL)
        assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
        assert apply_pending(store, {"hubspot": connector}, ctx, now=fake.now()) == 1
    assert shown(store, ctx, standard) == "opportunity"
    warnings = [r for r in caplog.records if r.name == "integrations.hubspot"]
    assert len(warnings) == 1  # once per connector, though asked again after the hour
    assert "crm.schemas.contacts.read" in warnings[0].getMessage()
    assert "403" in warnings[0].getMessage()
    assert fake.token not in caplog.text


def test_once_the_scope_is_granted_a_full_sync_shows_the_labels(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    fake.schema_scope = False
    [contact] = at_stages(fake, CUSTOM)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert shown(store, ctx, contact) == CUSTOM
    fake.schema_scope = True
    fake.clock += HOUR
    assert run_sync(store, fake.connector(), ctx, full=True).status == "ok"
    assert shown(store, ctx, contact) == "Onboarding"


# --- values the options lack, new and renamed stages ---------------------------------------------


def test_a_value_the_options_lack_is_shown_as_it_is_and_read_again_once(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    people = at_stages(fake, "998877", "998877", "998877")
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert {shown(store, ctx, contact) for contact in people} == {"998877"}
    assert option_reads(fake) == 2  # the run's read, and one more for the unknown value


def test_a_contact_moved_to_a_stage_created_since_shows_its_label(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    [contact] = at_stages(fake, STANDARD)
    connector = fake.connector()
    assert run_sync(store, connector, ctx).status == "ok"
    fake.lifecycle_stages.append(lifecycle_option("1040000001", "Renewal due", 9))
    fake.clock += 60
    events = moved(fake, {contact: "1040000001"})
    headers, raw = fake.signed(events, URL)
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": connector}, ctx, now=fake.now()) == 1
    assert shown(store, ctx, contact) == "Renewal due"


def test_a_renamed_stage_shows_its_new_label_on_a_later_refetch() -> None:
    fake = FakeHubSpot()
    [contact] = at_stages(fake, CUSTOM)
    connector = fake.connector()

    def label() -> str | None:
        fetched = connector.fetch_one("contact", contact)
        assert fetched is not None
        person = map_record("contact", fetched.payload).person
        assert person is not None
        return person.attributes.get("lifecycle_stage")

    assert label() == "Onboarding"
    fake.lifecycle_stages[-1]["label"] = "Onboarding (paid)"
    assert label() == "Onboarding"  # the options read a moment ago serve the next refetch
    fake.clock += HOUR
    assert label() == "Onboarding (paid)"
    assert option_reads(fake) == 2


# --- stored contacts -----------------------------------------------------------------------------


def _contact_full() -> Json:
    payload: Json = json.loads((FIXTURES / "contact_full.json").read_text(encoding="utf-8"))
    return payload


def test_a_contact_stored_before_labels_maps_to_its_value(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    stored = _contact_full()  # as the connector stored contacts before: no ``_labels``
    assert "_labels" not in stored
    ingest(("hubspot", "contact", stored))
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO remap_queue (source, kind, queued_at) VALUES (?, ?, ?)",
            ("hubspot", "contact", "2026-12-01T00:00:00Z"),
        )
    assert remap_queued(store, ctx) == 0  # mapped again, to what it was mapped to
    assert snapshot(store, ctx, "501").crm.lifecycle_stage == "customer"


def test_the_mapper_shows_the_label_else_the_value() -> None:
    stored = _contact_full()

    def stage(payload: Json) -> str | None:
        person = map_record("contact", payload).person
        assert person is not None
        return person.attributes.get("lifecycle_stage")

    assert stage(stored) == "customer"
    assert stage({**stored, "_labels": {}}) == "customer"
    assert stage({**stored, "_labels": {"lifecyclestage": " "}}) == "customer"
    assert stage({**stored, "_labels": {"lifecyclestage": "Customer"}}) == "Customer"
    no_stage = {**stored, "properties": {**stored["properties"], "lifecyclestage": None}}
    assert stage({**no_stage, "_labels": {"lifecyclestage": "Customer"}}) is None


def test_options_without_a_label_or_a_value_are_left_out() -> None:
    definition = {
        "name": "lifecyclestage",
        "options": [
            {"label": "Lead", "value": "lead"},
            {"label": "", "value": "subscriber"},
            {"label": "No value"},
            "not an option",
            {"label": " Customer ", "value": " customer "},
        ],
    }
    assert stage_labels(definition) == {"lead": "Lead", "customer": "Customer"}
    assert stage_labels({"name": "lifecyclestage"}) == {}
    assert stage_labels([]) == {}
