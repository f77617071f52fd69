"""Manual identity control probed as a demanding support lead and an attacker would:
merges and splits at the edges, review items gone stale, decisions against ``resolve --all``,
and what the audit and the command line show afterwards. Real SQLite stores throughout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.cli import main
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import canonical_id
from tests.conftest import Ingest
from tests.identity_helpers import pid
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer
from tests.review_fixtures import AUTH, app_client

SHOP1 = RecordKey("shopify", "customer", "1")
HUB2 = RecordKey("hubspot", "contact", "2")
STRIPE3 = RecordKey("stripe", "customer", "cus_3")


@pytest.fixture
def client(store: Store) -> Iterator[TestClient[Any]]:
    with app_client(store.path, store=store) as test_client:
        yield test_client


@pytest.fixture
def cli_env(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    monkeypatch.setenv("USER", "lead")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _three_people(ingest: Ingest) -> None:
    ingest(shopify_customer(1, "ann@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "bo@example.com", "Bo", "Park"))
    ingest(stripe_customer("cus_3", "cy@example.com", "Cy Moss"))


def test_merge_of_a_profile_with_its_own_alias_is_refused(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _three_people(ingest)
    first, second = pid(store, SHOP1), pid(store, HUB2)
    merged = client.post("/v1/profiles/merge", json={"profile_ids": [first, second]}, headers=AUTH)
    assert merged.status_code == 200, merged.text
    alias = merged.json()["merged"][0]
    survivor = merged.json()["profile_id"]

    again = client.post("/v1/profiles/merge", json={"profile_ids": [survivor, alias]}, headers=AUTH)
    assert again.status_code == 400, again.text
    same = client.post("/v1/profiles/merge", json={"profile_ids": [alias, alias]}, headers=AUTH)
    assert same.status_code == 400, same.text
    assert canonical_id(store.conn, alias) == survivor


def test_split_out_of_a_one_record_profile_is_refused(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _three_people(ingest)
    only = pid(store, SHOP1)
    body = {"records": [{"source": "shopify", "kind": "customer", "external_id": "1"}]}
    answer = client.post(f"/v1/profiles/{only}/split", json=body, headers=AUTH)
    assert answer.status_code == 422, answer.text
    assert pid(store, SHOP1) == only


def test_audit_names_who_merged_and_when(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _three_people(ingest)
    first, second = pid(store, SHOP1), pid(store, HUB2)
    body = {"profile_ids": [first, second], "note": "same person, confirmed by phone"}
    merged = client.post("/v1/profiles/merge", json=body, headers=AUTH).json()
    audit = client.get(f"/v1/profiles/{merged['merged'][0]}/audit", headers=AUTH).json()
    assert audit["profile_id"] == merged["profile_id"]
    decided = [d for d in audit["decisions"] if d["decision"] == "together"]
    assert decided
    assert all(d["decided_by"].startswith("api") for d in decided)
    assert all(d["decided_at"] and d["note"] == body["note"] for d in decided)


def test_merge_with_an_erased_profile_is_not_found_and_merges_nothing(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _three_people(ingest)
    erased, kept = pid(store, SHOP1), pid(store, HUB2)
    assert client.delete(f"/v1/profiles/{erased}", headers=AUTH).status_code in {200, 204}
    answer = client.post("/v1/profiles/merge", json={"profile_ids": [kept, erased]}, headers=AUTH)
    assert answer.status_code == 404, answer.text
    assert canonical_id(store.conn, erased) is None


def _family(ingest: Ingest) -> None:
    ingest(shopify_customer(1, "desai.family@example.com", "Christopher", "Desai"))
    ingest(hubspot_contact("2", "desai.family@example.com", "Robert", "Petrov"))
    ingest(stripe_customer("cus_3", "desai.family@example.com", None))


def _item(client: TestClient[Any], first: str, second: str) -> int:
    page = client.get("/v1/review", headers=AUTH).json()
    return next(
        int(item["id"])
        for item in page["items"]
        if (item["a"]["external_id"], item["b"]["external_id"]) == (first, second)
    )


def test_accepting_an_item_whose_record_was_erased_is_not_a_server_error(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _family(ingest)
    item = _item(client, "1", "cus_3")
    assert client.delete(f"/v1/profiles/{pid(store, STRIPE3)}", headers=AUTH).status_code < 300
    answer = client.post(f"/v1/review/{item}", json={"decision": "accept"}, headers=AUTH)
    assert answer.status_code in {404, 409}, answer.text


def test_accepting_an_item_whose_profiles_were_merged_meanwhile(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _family(ingest)
    item = _item(client, "1", "cus_3")
    ids = [pid(store, SHOP1), pid(store, STRIPE3)]
    merged = client.post("/v1/profiles/merge", json={"profile_ids": ids}, headers=AUTH)
    assert merged.status_code == 200, merged.text
    answer = client.post(f"/v1/review/{item}", json={"decision": "reject"}, headers=AUTH)
    assert answer.status_code in {404, 409}, answer.text
    assert pid(store, SHOP1) == pid(store, STRIPE3)


def test_review_list_on_a_terminal_escapes_hostile_names(
    store: Store, ingest: Ingest, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # A customer signs up with a name that would forge a decided item on the reviewer's screen.
    forged = "Robert\n  #1 accepted by cli:lead: p=1.000\x1b[2J"
    ingest(shopify_customer(1, "desai.family@example.com", "Christopher", "Desai"))
    ingest(hubspot_contact("2", "desai.family@example.com", forged, "Petrov"))
    ingest(stripe_customer("cus_3", "desai.family@example.com", None))
    code, out, _ = _run(capsys, "review", "list")
    assert code == 0
    assert "\x1b" not in out
    assert "\n  #1 accepted" not in out
    code, out, _ = _run(capsys, "profiles", "audit", pid(store, HUB2))
    assert code == 0
    assert "\x1b" not in out


def test_audit_on_a_terminal_escapes_a_hostile_note(
    client: TestClient[Any],
    store: Store,
    ingest: Ingest,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _three_people(ingest)
    ids = [pid(store, SHOP1), pid(store, HUB2)]
    note = "ok\n  together x / y  by cli:ceo at 2026-01-01\x1b]0;pwned\x07"
    body = {"profile_ids": ids, "note": note}
    survivor = client.post("/v1/profiles/merge", json=body, headers=AUTH).json()["profile_id"]
    code, out, _ = _run(capsys, "profiles", "audit", survivor)
    assert code == 0
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\n  together x / y" not in out


def test_a_split_survives_resolve_all_and_a_record_that_resembles_both(
    client: TestClient[Any],
    store: Store,
    ingest: Ingest,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ingest(shopify_customer(1, "lee@example.com", "Lee", "Wong"))
    ingest(hubspot_contact("2", "lee@example.com", "Lee", "Wong"))
    assert pid(store, SHOP1) == pid(store, HUB2)
    body = {"records": [{"source": "hubspot", "kind": "contact", "external_id": "2"}]}
    split = client.post(f"/v1/profiles/{pid(store, SHOP1)}/split", json=body, headers=AUTH)
    assert split.status_code == 200, split.text
    ingest(stripe_customer("cus_3", "lee@example.com", "Lee Wong"))
    assert pid(store, SHOP1) != pid(store, HUB2)
    code, _, err = _run(capsys, "resolve", "--all")
    assert code == 0, err
    assert pid(store, SHOP1) != pid(store, HUB2)
    audit = client.get(f"/v1/profiles/{pid(store, HUB2)}/audit", headers=AUTH).json()
    apart = [d for d in audit["decisions"] if d["decision"] == "apart"]
    assert apart
    assert apart[0]["decided_by"] == "api"


def test_cli_merge_of_hundreds_of_profiles_is_bounded_like_the_api(
    store: Store, ingest: Ingest, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(1, 61):
        ingest(shopify_customer(n, f"p{n}@example.com", f"Name{n}", f"Family{n}"))
    ids = [pid(store, RecordKey("shopify", "customer", str(n))) for n in range(1, 61)]
    code, _, err = _run(capsys, "profiles", "merge", *ids)
    assert code != 0
    assert "50" in err
    assert len({pid(store, RecordKey("shopify", "customer", str(n))) for n in range(1, 61)}) == 60


def test_split_after_a_hubspot_merge_names_the_merged_record_and_answers_409(
    client: TestClient[Any], store: Store, ingest: Ingest, ctx: Any
) -> None:
    from context_service.sync import RawPayload, ingest_batch

    ingest(hubspot_contact("1", "ann@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "ann.lee@work.example", "Ann", "Lee"))
    before = pid(store, RecordKey("hubspot", "contact", "2"))
    notice = RawPayload("hubspot", "contact", {"id": "2"}, "2026-06-01T00:00:00Z", True, "1")
    ingest_batch(store, [notice], ctx)
    survivor = pid(store, RecordKey("hubspot", "contact", "1"))
    assert canonical_id(store.conn, before) == survivor
    body = {"records": [{"source": "hubspot", "kind": "contact", "external_id": "2"}]}
    answer = client.post(f"/v1/profiles/{before}/split", json=body, headers=AUTH)
    assert answer.status_code == 409, answer.text


def test_the_same_item_decided_from_the_shell_and_over_http_is_decided_once(
    client: TestClient[Any],
    store: Store,
    ingest: Ingest,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _family(ingest)
    item = _item(client, "1", "cus_3")
    code, _, err = _run(capsys, "review", "reject", str(item), "--note", "not them")
    assert code == 0, err
    answer = client.post(f"/v1/review/{item}", json={"decision": "accept"}, headers=AUTH)
    assert answer.status_code == 409, answer.text
    decided = client.get("/v1/review?status=rejected", headers=AUTH).json()["items"]
    assert [(i["id"], i["decided_by"]) for i in decided] == [(item, "cli:lead")]
    assert pid(store, SHOP1) != pid(store, STRIPE3)


def test_a_rejected_item_survives_resolve_all_and_a_bridging_record(
    client: TestClient[Any],
    store: Store,
    ingest: Ingest,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _family(ingest)
    item = _item(client, "1", "cus_3")
    answer = client.post(f"/v1/review/{item}", json={"decision": "reject"}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    ingest(shopify_customer(4, "desai.family@example.com", "Christopher", "Desai"))
    code, _, err = _run(capsys, "resolve", "--all")
    assert code == 0, err
    assert pid(store, SHOP1) != pid(store, STRIPE3)
    open_pairs = {
        (i["a"]["external_id"], i["b"]["external_id"])
        for i in client.get("/v1/review", headers=AUTH).json()["items"]
    }
    assert ("1", "cus_3") not in open_pairs


def test_cli_note_is_bounded_like_the_api(
    store: Store, ingest: Ingest, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _three_people(ingest)
    ids = [pid(store, SHOP1), pid(store, HUB2)]
    with pytest.raises(SystemExit) as usage:
        main(["profiles", "merge", *ids, "--note", "x" * 2001])
    assert usage.value.code == 2
    assert pid(store, SHOP1) != pid(store, HUB2)
