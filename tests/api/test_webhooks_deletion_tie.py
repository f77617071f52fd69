"""A HubSpot deletion of the same second as the stored copy, delivered after it.

HubSpot times a deletion and a restore to the millisecond, but both are kept to the second, so
a deletion at .100 delivered after a restore at .900 ties with the restored copy: which came
last cannot be told from them. The service asks HubSpot, and removes the contact only if
HubSpot no longer has it live; a deletion of an earlier or later second is settled without
asking.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.records import get_record
from tests.api.webhook_deliveries import (
    NEW_EMAIL,
    as_post_args,
    emails_found,
    hubspot_event,
    hubspot_signed,
    inbox_rows,
)
from tests.integrations.hubspot.fake import FakeHubSpot

Post = Callable[..., Any]


def _send(post: Post, fake: FakeHubSpot, kind: str, contact_id: str, occurred_ms: int) -> None:
    event = hubspot_event(kind, contact_id, occurred_ms)
    response = post("hubspot", fake, *as_post_args(hubspot_signed(fake, [event])))
    assert response.status_code == 200, response.text


def _second_ms() -> int:
    """The start of a whole second a little in the past (the signature must be fresh)."""
    return (int(time.time()) - 20) * 1000


def _contact_fetches(fake: FakeHubSpot, contact_id: str) -> int:
    path = f"/crm/v3/objects/contacts/{contact_id}"
    return sum(request.url.path == path for request in fake.requests)


def test_hubspot_deletion_delivered_after_a_same_second_restore_keeps_the_contact(
    store: Store, post: Post
) -> None:
    fake = FakeHubSpot()
    second = _second_ms()
    deleted_at, restored_at = second + 100, second + 900  # restored 0.8 s after the deletion
    contact = fake.add("contacts", restored_at, email=NEW_EMAIL, firstname="Max")
    _send(post, fake, "contact.restore", contact["id"], restored_at)
    _send(post, fake, "contact.deletion", contact["id"], deleted_at)
    assert [status for _, status in inbox_rows(store)] == ["applied"] * 2
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}  # HubSpot has it live
    assert _contact_fetches(fake, contact["id"]) == 2  # the restore's refetch, and the tie


def test_a_same_second_deletion_that_hubspot_confirms_removes_the_contact(
    store: Store, post: Post
) -> None:
    fake = FakeHubSpot()
    second = _second_ms()
    restored_at, deleted_at = second + 100, second + 900  # deleted again 0.8 s later
    contact = fake.add("contacts", restored_at, email=NEW_EMAIL, firstname="Max")
    _send(post, fake, "contact.restore", contact["id"], restored_at)
    fake.archive("contacts", contact["id"], deleted_at)
    _send(post, fake, "contact.deletion", contact["id"], deleted_at)
    assert [status for _, status in inbox_rows(store)] == ["applied"] * 2
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: False}
    tombstone = get_record(store.conn, RecordKey("hubspot", "contact", contact["id"]))
    assert tombstone is not None
    assert tombstone.deleted
    assert NEW_EMAIL not in tombstone.payload


def test_a_same_second_deletion_that_cannot_ask_hubspot_stays_pending_and_removes_nothing(
    store: Store, post: Post
) -> None:
    fake = FakeHubSpot()
    second = _second_ms()
    contact = fake.add("contacts", second + 900, email=NEW_EMAIL, firstname="Max")
    _send(post, fake, "contact.restore", contact["id"], second + 900)
    fake.inject(503, times=50)
    _send(post, fake, "contact.deletion", contact["id"], second + 100)
    assert [status for _, status in inbox_rows(store)] == ["applied", "pending"]
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


def test_a_deletion_of_a_later_second_removes_the_contact_without_asking(
    store: Store, post: Post
) -> None:
    fake = FakeHubSpot()
    second = _second_ms()
    contact = fake.add("contacts", second - 5000, email=NEW_EMAIL, firstname="Max")
    _send(post, fake, "contact.creation", contact["id"], second - 5000)
    _send(post, fake, "contact.deletion", contact["id"], second + 100)
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: False}
    assert _contact_fetches(fake, contact["id"]) == 1  # the creation's refetch only
