"""Zendesk webhooks: the published signature vector, rejections, parsing, dedup and ordering."""

from __future__ import annotations

import json
from typing import Any

import pytest

from context_service.errors import MappingError, WebhookRejected
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from integrations._connector import VendorObject
from integrations._webhooks import hmac_base64
from integrations.zendesk import ZendeskConnector
from integrations.zendesk.webhooks import parse_timestamp
from tests.integrations.refdata import refdata
from tests.integrations.zendesk.fake import WEBHOOK_SECRET, FakeZendesk, iso

URL = "https://context.example.com/v1/webhooks/zendesk"


def vector() -> dict[str, Any]:
    data: dict[str, Any] = refdata("webhook_signature_vectors.json")["zendesk"]
    return data


def vector_delivery() -> tuple[dict[str, str], bytes, float]:
    v = vector()
    signature, timestamp = v["headers"]
    headers = {signature: v["expected"], timestamp: v["timestamp_header_value"]}
    return headers, v["raw_body"].encode(), parse_timestamp(v["timestamp_header_value"])


def rejected(connector: ZendeskConnector, headers: dict[str, str], body: bytes, now: float) -> str:
    with pytest.raises(WebhookRejected) as caught:
        connector.verify_webhook(headers, body, URL, now)
    return str(caught.value)


@pytest.fixture
def fake() -> FakeZendesk:
    zendesk = FakeZendesk()
    zendesk.populate(organizations=1, users=2, tickets=2)
    return zendesk


# --- Signatures ----------------------------------------------------------------------------------


def test_the_published_vector_verifies() -> None:
    headers, body, now = vector_delivery()
    connector = ZendeskConnector(webhook_secret=vector()["signing_secret"])
    connector.verify_webhook(headers, body, URL, now)
    lower = {name.lower(): value for name, value in headers.items()}
    connector.verify_webhook(lower, body, URL, now + 300)  # any case, up to five minutes late


def test_the_published_vector_parses_to_a_user_refetch() -> None:
    headers, body, _ = vector_delivery()
    delivery = ZendeskConnector().parse_webhook(headers, body)
    assert delivery.topic == "zen:event-type:user.active_changed"
    assert delivery.refetch == [("user", "6596848315901")]
    assert delivery.dedup_ids == ["event:2b24ef10-19d4-4740-93cf-8f98ec4776c0"]
    assert delivery.occurred_at == "2099-07-04T05:33:18Z"


def test_a_tampered_body_or_another_secret_is_rejected() -> None:
    headers, body, now = vector_delivery()
    good = ZendeskConnector(webhook_secret=vector()["signing_secret"])
    tampered = body.replace(b"6596848315901", b"6596848315902")
    assert "does not match" in rejected(good, headers, tampered, now)
    assert "does not match" in rejected(
        ZendeskConnector(webhook_secret="other"), headers, body, now
    )


def test_the_timestamp_is_signed_too() -> None:
    headers, body, now = vector_delivery()
    timestamp = vector()["headers"][1]
    moved = {**headers, timestamp: "2099-07-04T05:33:20Z"}
    good = ZendeskConnector(webhook_secret=vector()["signing_secret"])
    assert "does not match" in rejected(good, moved, body, now)


def test_stale_and_future_timestamps_are_rejected(fake: FakeZendesk) -> None:
    connector = fake.connector()
    now = fake.now()
    headers, body = fake.signed(fake.event("user.created", 384001), at=now - 301)
    assert "old" in rejected(connector, headers, body, now)
    headers, body = fake.signed(fake.event("user.created", 384001), at=now + 301)
    assert "future" in rejected(connector, headers, body, now)
    headers, body = fake.signed(fake.event("user.created", 384001), at=now - 299)
    connector.verify_webhook(headers, body, URL, now)


@pytest.mark.parametrize(
    ("drop", "reason"),
    [
        ("X-Zendesk-Webhook-Signature", "missing X-Zendesk-Webhook-Signature header"),
        ("X-Zendesk-Webhook-Signature-Timestamp", "missing X-Zendesk-Webhook-Signature-Timestamp"),
    ],
)
def test_a_missing_header_is_rejected(fake: FakeZendesk, drop: str, reason: str) -> None:
    headers, body = fake.signed(fake.event("user.created", 384001))
    del headers[drop]
    assert reason in rejected(fake.connector(), headers, body, fake.now())


def test_an_unreadable_timestamp_is_rejected(fake: FakeZendesk) -> None:
    body = json.dumps(fake.event("user.created", 384001)).encode()
    for stamp, reason in [("yesterday", "not a timestamp"), ("2026-01-01T00:00", "no time zone")]:
        headers = {
            "X-Zendesk-Webhook-Signature": hmac_base64(WEBHOOK_SECRET, stamp.encode() + body),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        }
        assert reason in rejected(fake.connector(), headers, body, fake.now())


def test_without_a_secret_every_delivery_is_refused(fake: FakeZendesk) -> None:
    headers, body = fake.signed(fake.event("user.created", 384001))
    assert "no webhook secret" in rejected(fake.connector(webhook_secret=None), headers, body, 0)


def test_an_empty_body_can_be_signed(fake: FakeZendesk) -> None:
    headers, body = fake.signed(b"")
    fake.connector().verify_webhook(headers, body, URL, fake.now())
    with pytest.raises(MappingError):
        fake.connector().parse_webhook(headers, body)


# --- Parsing -------------------------------------------------------------------------------------


def parse(fake: FakeZendesk, payload: dict[str, Any] | bytes, **kw: Any) -> Any:
    headers, body = fake.signed(payload, **kw)
    return fake.connector().parse_webhook(headers, body)


@pytest.mark.parametrize(
    ("event", "refetch"),
    [
        ("ticket.status_changed", [("ticket", "35001")]),
        ("ticket.comment_added", [("ticket", "35001")]),
        ("user.identity_changed", [("user", "35001")]),
        ("organization.name_changed", [("organization", "35001")]),
    ],
)
def test_events_name_the_object_to_refetch(
    fake: FakeZendesk, event: str, refetch: list[tuple[str, str]]
) -> None:
    delivery = parse(fake, fake.event(event, 35001))
    assert delivery.refetch == refetch
    assert delivery.objects == []
    assert delivery.topic == f"zen:event-type:{event}"


def test_a_new_ticket_also_refetches_its_requester_first(fake: FakeZendesk) -> None:
    delivery = parse(fake, fake.event("ticket.created", 35001, requester_id="384002"))
    assert delivery.refetch == [("user", "384002"), ("ticket", "35001")]


def test_the_id_comes_from_the_subject_when_detail_has_none(fake: FakeZendesk) -> None:
    event = fake.event("ticket.priority_changed", 35002)
    event["detail"] = {}
    assert parse(fake, event).refetch == [("ticket", "35002")]


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ("user.deleted", "user"),
        ("organization.deleted", "organization"),
        ("ticket.soft_deleted", "ticket"),
        ("ticket.permanently_deleted", "ticket"),
    ],
)
def test_deletions_are_notices_observed_at_the_event_time(
    fake: FakeZendesk, event: str, kind: str
) -> None:
    delivery = parse(fake, fake.event(event, 35001, at=fake.now() - 30))
    gone = VendorObject(kind, {"id": "35001"}, observed_at=iso(fake.now() - 30), deleted=True)
    assert delivery.objects == [gone]
    assert delivery.refetch == []


def test_events_about_other_resources_carry_nothing(fake: FakeZendesk) -> None:
    delivery = parse(fake, fake.event("article.published", 7))
    assert (delivery.objects, delivery.refetch) == ([], [])
    assert delivery.topic == "zen:event-type:article.published"


def test_a_trigger_body_refetches_its_ticket(fake: FakeZendesk) -> None:
    delivery = parse(fake, {"ticket_id": "35002", "event": "solved"}, invocation_id="inv-9")
    assert delivery.refetch == [("ticket_requester", "35002"), ("ticket", "35002")]
    assert delivery.topic == "trigger:solved"
    assert delivery.dedup_ids[0] == "invocation:inv-9"
    assert [i.split(":")[0] for i in delivery.dedup_ids] == ["invocation", "body"]
    assert delivery.occurred_at == iso(fake.now())


def test_a_trigger_without_an_invocation_id_is_identified_by_its_signed_content(
    fake: FakeZendesk,
) -> None:
    first = parse(fake, {"ticket_id": 35002})
    again = parse(fake, {"ticket_id": 35002})
    later = parse(fake, {"ticket_id": 35002}, at=fake.now() + 5)
    assert first.dedup_ids == again.dedup_ids
    assert first.dedup_ids != later.dedup_ids
    assert first.dedup_ids[0].startswith("body:")
    assert first.topic == "trigger"


def test_event_dedup_ids_are_the_invocation_and_the_event(fake: FakeZendesk) -> None:
    event = fake.event("ticket.status_changed", 35001)
    delivery = parse(fake, event, invocation_id="01HX-inv")
    assert delivery.dedup_ids == ["invocation:01HX-inv", f"event:{event['id']}"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'"a string"',
        b"{}",
        b'{"type": "something.else", "id": "x"}',
        b'{"type": "zen:event-type:ticket.created", "detail": {"id": "1"}}',
        b'{"type": "zen:event-type:ticket.created", "id": "e1", "detail": {}}',
        b'{"type": "zen:event-type:ticket.created", "id": "e1", "detail": {"id": "abc"}}',
        b'{"type": "zen:event-type:ticket.created", "id": "e1", "detail": {"id": true}}',
        b'{"type": "zen:event-type:ticket.created", "id": "e1", "detail": {"id": 1}, "time": "x"}',
        b'{"type": "zen:event-type:ticket.created", "id": "e1", "detail": {"id": 1, '
        b'"requester_id": "me"}}',
        b'{"type": "zen:event-type:user.created", "id": "e1", "detail": []}',
        b'{"ticket_id": null}',
        b'{"ticket_id": "12a"}',
        b'{"ticket_id": 5, "event": 7}',
    ],
)
def test_malformed_bodies_raise_mapping_error(fake: FakeZendesk, body: bytes) -> None:
    with pytest.raises(MappingError):
        parse(fake, body)


# --- Through the intake: duplicates and ordering -------------------------------------------------


def deliver(
    store: Store, connector: ZendeskConnector, fake: FakeZendesk, event: dict[str, Any], **kw: Any
) -> str:
    headers, body = fake.signed(event, **kw)
    return receive(store, connector, headers, body, URL, fake.now()).status


def stored(store: Store, kind: str, ident: int) -> dict[str, Any]:
    row = store.conn.execute(
        "SELECT payload, deleted FROM records WHERE source = 'zendesk' AND kind = ? "
        "AND external_id = ?",
        (kind, str(ident)),
    ).fetchone()
    return {**json.loads(row[0]), "_deleted": bool(row[1])}


def test_a_duplicate_delivery_is_acknowledged_and_applied_once(
    fake: FakeZendesk, store: Store, ctx: IngestContext
) -> None:
    connector = fake.connector()
    event = fake.event("ticket.comment_added", 35001)
    assert deliver(store, connector, fake, event, invocation_id="inv-1") == "accepted"
    assert deliver(store, connector, fake, event, invocation_id="inv-1") == "duplicate"
    # the same event through a second webhook: another invocation, the same event id
    assert deliver(store, connector, fake, event, invocation_id="inv-2") == "duplicate"
    assert apply_pending(store, {"zendesk": connector}, ctx) == 1
    assert stored(store, "ticket", 35001)["comments"][-1]["body"] == "Internal note 1"


def test_deliveries_in_any_order_end_with_the_newest_state(
    fake: FakeZendesk, store: Store, ctx: IngestContext
) -> None:
    connector = fake.connector()
    fake.clock += 60
    fake.update("user", 384001, name="First rename")
    older = fake.event("user.name_changed", 384001)
    fake.clock += 60
    fake.update("user", 384001, name="Second rename")
    newer = fake.event("user.name_changed", 384001)
    assert deliver(store, connector, fake, newer) == "accepted"
    assert deliver(store, connector, fake, older) == "accepted"
    assert apply_pending(store, {"zendesk": connector}, ctx) == 2
    assert stored(store, "user", 384001)["name"] == "Second rename"


def test_a_deletion_older_than_the_stored_state_is_ignored(
    fake: FakeZendesk, store: Store, ctx: IngestContext
) -> None:
    connector = fake.connector()
    deleted_at = fake.now()
    fake.clock += 120
    fake.update("user", 384002, name="Restored")  # undeleted after the deletion event
    assert deliver(store, connector, fake, fake.event("user.created", 384002)) == "accepted"
    late = fake.event("user.deleted", 384002, at=deleted_at)
    assert deliver(store, connector, fake, late) == "accepted"
    assert apply_pending(store, {"zendesk": connector}, ctx) == 2
    assert stored(store, "user", 384002)["_deleted"] is False
    assert stored(store, "user", 384002)["name"] == "Restored"


def test_a_newer_deletion_wins(fake: FakeZendesk, store: Store, ctx: IngestContext) -> None:
    connector = fake.connector()
    assert deliver(store, connector, fake, fake.event("ticket.created", 35002)) == "accepted"
    fake.clock += 60
    gone = fake.event("ticket.permanently_deleted", 35002)
    assert deliver(store, connector, fake, gone) == "accepted"
    assert apply_pending(store, {"zendesk": connector}, ctx) == 2
    assert stored(store, "ticket", 35002)["_deleted"] is True


def emails(store: Store) -> set[str]:
    rows = store.conn.execute("SELECT value FROM identifiers WHERE kind = 'email'").fetchall()
    return {str(row[0]) for row in rows}


def test_a_merged_user_that_now_answers_404_is_deleted_and_a_restore_brings_it_back(
    fake: FakeZendesk, store: Store, ctx: IngestContext
) -> None:
    """``user.merged`` is refetched; the merged-away user is gone at Zendesk (404), so the
    stored user must not stay live with its email; if Zendesk shows it again later, newer, a
    sync brings it back."""
    connector = fake.connector()
    assert run_sync(store, connector, ctx).status == "ok"
    assert stored(store, "user", 384001)["_deleted"] is False
    fake.clock += 60
    fake.delete("user", 384001)
    assert deliver(store, connector, fake, fake.event("user.merged", 384001)) == "accepted"
    assert apply_pending(store, {"zendesk": connector}, ctx) == 1
    assert stored(store, "user", 384001)["_deleted"] is True
    assert "user1@example.com" not in emails(store)
    fake.clock += 120
    fake.restore("user", 384001)
    fake.clock += 120
    assert run_sync(store, connector, ctx).status == "ok"
    assert stored(store, "user", 384001)["_deleted"] is False
    assert "user1@example.com" in emails(store)


def test_a_ticket_that_now_answers_404_is_deleted(
    fake: FakeZendesk, store: Store, ctx: IngestContext
) -> None:
    connector = fake.connector()
    assert run_sync(store, connector, ctx).status == "ok"
    fake.clock += 60
    fake.delete("ticket", 35001)
    assert deliver(store, connector, fake, fake.event("ticket.status_changed", 35001)) == (
        "accepted"
    )
    assert apply_pending(store, {"zendesk": connector}, ctx) == 1
    assert stored(store, "ticket", 35001)["_deleted"] is True
    assert stored(store, "ticket", 35002)["_deleted"] is False


def test_a_malformed_delivery_is_recorded_and_refused(fake: FakeZendesk, store: Store) -> None:
    headers, body = fake.signed(b'{"hello": "world"}')
    with pytest.raises(MappingError):
        receive(store, fake.connector(), headers, body, URL, fake.now())
    count = store.conn.execute(
        "SELECT count(*) FROM webhook_inbox WHERE status = 'rejected'"
    ).fetchone()
    assert count[0] == 1
