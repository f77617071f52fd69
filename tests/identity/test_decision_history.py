"""A later decision no longer erases an earlier one from the record: a profile's audit keeps
every decision people took about its records (``history``), with who, when and their note.

Before, Alice's merge ("customer confirmed by phone, ticket 4411") vanished the moment Bob split
the two records again: the audit showed only Bob's ``apart``."""

from __future__ import annotations

import pytest

from context_service.cli import main
from context_service.identity.audit import ProfileAudit, profile_audit
from context_service.identity.carry import carry_all
from context_service.identity.decisions import merge_profiles, split_profile
from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync.rebuild import resolve_all
from context_service.wiring import ingest_context
from tests.conftest import Ingest, make_settings
from tests.identity_helpers import pid, rid, write
from tests.payloads import hubspot_contact, shopify_customer, zendesk_user
from tests.trust.helpers import erase

ANN = RecordKey("shopify", "customer", "1")
CAL = RecordKey("hubspot", "contact", "2")
MERGED_AT, SPLIT_AT = "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"


def _merged_then_split(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "cal.moss@example.com", "Cal", "Moss"))
    write(
        store,
        merge_profiles,
        [pid(store, ANN), pid(store, CAL)],
        "api:alice",
        MERGED_AT,
        "US",
        note="customer confirmed by phone, ticket 4411",
    )
    write(store, split_profile, pid(store, ANN), [CAL], "api:bob", SPLIT_AT, "US", note="wrong")


def test_a_split_keeps_the_merge_it_undid_in_the_history(store: Store, ingest: Ingest) -> None:
    _merged_then_split(store, ingest)

    for key in (ANN, CAL):
        audit = profile_audit(store.conn, pid(store, key))
        assert [(d.decision, d.decided_by, d.note) for d in audit.decisions] == [
            ("apart", "api:bob", "wrong")
        ]
        assert [(d.decision, d.decided_by, d.decided_at, d.note) for d in audit.history] == [
            ("together", "api:alice", MERGED_AT, "customer confirmed by phone, ticket 4411"),
            ("apart", "api:bob", SPLIT_AT, "wrong"),
        ]


def test_the_command_line_lists_the_decisions_replaced(
    store: Store,
    ingest: Ingest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    _merged_then_split(store, ingest)

    assert main(["profiles", "audit", pid(store, ANN)]) == 0

    out = capsys.readouterr().out
    replaced = out.split("Earlier decisions, since replaced or carried over (1):")[1]
    assert "together" in replaced
    assert "api:alice" in replaced
    assert "ticket 4411" in replaced


def test_erasing_a_person_removes_the_decisions_about_them(store: Store, ingest: Ingest) -> None:
    _merged_then_split(store, ingest)

    erase(store, pid(store, CAL))

    rows = store.conn.execute("SELECT count(*) FROM identity_decision_log").fetchone()[0]
    assert rows == 0
    assert profile_audit(store.conn, pid(store, ANN)).history == []


def test_a_merge_keeps_the_evidence_that_held_the_profile_together(
    store: Store, ingest: Ingest
) -> None:
    """Merging a third profile in used to show the two records that share an email as held by
    the merge alone: the email link that was their reason left the audit."""
    ingest(
        shopify_customer(1, "lee@example.com", "Lee", "Wong"),
        hubspot_contact("2", "lee@example.com", "Lee", "Wong"),
    )
    ingest(zendesk_user(3, "Lee Wong", "lwong@other.example"))
    lee, other = pid(store, ANN), pid(store, RecordKey("zendesk", "user", "3"))

    write(store, merge_profiles, [lee, other], "api:alice", MERGED_AT, "US", note="same person")

    for audit in (profile_audit(store.conn, lee), _rebuilt_audit(store, lee)):
        rules = sorted(
            (link.record.source, link.other.source if link.other else None, link.rule)
            for link in audit.links
        )
        assert ("hubspot", "shopify", "email") in rules
        assert [rule for *_, rule in rules].count("manual") == 1
        assert all(m.linked_at for m in audit.members if m.record.source == "hubspot")


def _rebuilt_audit(store: Store, profile_id: str) -> ProfileAudit:
    resolve_all(store, ingest_context(make_settings(store.path)))
    return profile_audit(store.conn, profile_id)


def test_a_decision_carried_over_a_vendor_merge_is_in_the_history(
    store: Store, ingest: Ingest
) -> None:
    """A merge at the source moves people's decisions to the survivor record: the history
    shows the decision where it now binds, noted as carried."""
    ingest(shopify_customer(2, "ann.lee@example.com", "Ann", "Lee"))
    ingest(shopify_customer(1, "ann.work@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "cal.moss@example.com", "Cal", "Moss"))
    old_ann = RecordKey("shopify", "customer", "2")
    write(store, merge_profiles, [pid(store, old_ann), pid(store, CAL)], "lead", MERGED_AT, "US")

    write(store, carry_all, [(rid(store, old_ann), rid(store, ANN))])

    rows = store.conn.execute(
        "SELECT a, b, decided_by, note FROM identity_decision_log ORDER BY id"
    ).fetchall()
    carried = tuple(sorted((rid(store, ANN), rid(store, CAL))))
    assert [(a, b) for a, b, _, _ in rows][-1] == carried
    assert rows[-1][2] == "lead"
    assert "carried to the survivor" in rows[-1][3]
