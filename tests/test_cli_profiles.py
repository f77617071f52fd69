"""``context-service profiles`` and ``context-service review`` against a real store."""

from __future__ import annotations

import json

import pytest

from context_service.cli import main
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import canonical_id
from tests.conftest import Ingest
from tests.identity_helpers import pid as _pid
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer

SHOP1 = RecordKey("shopify", "customer", "1")
HUB2 = RecordKey("hubspot", "contact", "2")


@pytest.fixture(autouse=True)
def _env(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    monkeypatch.setenv("USER", "tester")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_audit_prints_links_with_rule_probability_and_evidence(
    store: Store, ingest: Ingest, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(shopify_customer(1, "lee@example.com", "Lee", "Wong"))
    ingest(hubspot_contact("2", "lee@example.com", "Lee", "Wong"))
    pid = _pid(store, SHOP1)

    code, out, _ = _run(capsys, "profiles", "audit", pid)
    assert code == 0
    assert f"Profile {pid}" in out
    assert "shopify:customer:1 Lee Wong" in out
    assert "email, p=1.000, by auto" in out
    assert "email=exact(" in out

    code, out, _ = _run(capsys, "profiles", "audit", pid, "--json")
    assert code == 0
    audit = json.loads(out)
    assert audit["links"][0]["rule"] == "email"
    assert audit["links"][0]["evidence"]["email"]["level"] == "exact"

    code, _, err = _run(capsys, "profiles", "audit", "prof_00000000000000000000000000")
    assert code == 2
    assert "no profile" in err


def test_merge_then_split_from_the_command_line(
    store: Store, ingest: Ingest, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "a.stone@work.example", "Bea", "Stone"))
    older, newer = _pid(store, SHOP1), _pid(store, HUB2)

    code, out, _ = _run(capsys, "profiles", "merge", newer, older, "--note", "one desk")
    assert code == 0
    assert f"merged {newer} into {older}" in out
    assert canonical_id(store.conn, newer) == older
    code, out, _ = _run(capsys, "profiles", "audit", newer, "--json")
    links = json.loads(out)["links"]
    assert [(x["rule"], x["decided_by"], x["note"]) for x in links] == [
        ("manual", "cli:tester", "one desk")
    ]

    code, out, _ = _run(capsys, "profiles", "split", older, "--record", "hubspot:contact:2")
    assert code == 0
    assert _pid(store, SHOP1) == older
    assert _pid(store, HUB2) != older
    assert f"the rest is in {older}" in out


def test_split_refuses_bad_records(
    store: Store, ingest: Ingest, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(shopify_customer(1, "lee@example.com", "Lee", "Wong"))
    ingest(hubspot_contact("2", "lee@example.com", "Lee", "Wong"))
    pid = _pid(store, SHOP1)
    code, _, err = _run(capsys, "profiles", "split", pid, "--record", "zendesk:user:9")
    assert code == 2
    assert "not a member" in err
    with pytest.raises(SystemExit) as exited:
        main(["profiles", "split", pid, "--record", "hubspot-2"])
    assert exited.value.code == 2
    assert "SOURCE:KIND:EXTERNAL_ID" in capsys.readouterr().err
    assert _pid(store, HUB2) == pid


def test_review_list_accept_and_a_second_decision(
    store: Store, ingest: Ingest, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(shopify_customer(1, "desai.family@example.com", "Christopher", "Desai"))
    ingest(hubspot_contact("2", "desai.family@example.com", "Robert", "Petrov"))
    ingest(stripe_customer("cus_3", "desai.family@example.com", None))

    code, out, _ = _run(capsys, "review", "list", "--json")
    assert code == 0
    items = json.loads(out)["items"]
    item = next(i for i in items if (i["a"]["external_id"], i["b"]["external_id"]) == ("1", "2"))
    code, out, _ = _run(capsys, "review", "list")
    assert f"#{item['id']} open" in out
    assert "shopify:customer:1 Christopher Desai" in out
    assert "open review items 1-" in out

    code, out, _ = _run(capsys, "review", "accept", str(item["id"]), "--note", "same family")
    assert code == 0
    assert f"review item {item['id']} accepted" in out
    assert _pid(store, SHOP1) == _pid(store, HUB2)
    code, out, _ = _run(capsys, "review", "list", "--status", "accepted")
    assert "by cli:tester" in out

    code, _, err = _run(capsys, "review", "reject", str(item["id"]))
    assert code == 2
    assert "already accepted" in err
    code, _, err = _run(capsys, "review", "reject", "999999")
    assert code == 2
    assert "no review item" in err
