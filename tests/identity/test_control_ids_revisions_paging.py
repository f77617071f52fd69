"""Identity control probed as a support lead correcting the engine would: profile ids in URLs
and bodies, review items whose question changed after a reviewer read them, and paging through
a queue that shrinks as it is decided. Real SQLite stores throughout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.cli import main
from context_service.models import RecordKey
from context_service.store import Store
from tests.conftest import Ingest
from tests.identity_helpers import pid
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer
from tests.review_fixtures import AUTH, app_client

SHOP1 = RecordKey("shopify", "customer", "1")
HUB2 = RecordKey("hubspot", "contact", "2")
STRIPE3 = RecordKey("stripe", "customer", "cus_3")
SPLIT_BODY = {"records": [{"source": "hubspot", "kind": "contact", "external_id": "2"}]}
# Not profile ids: a control character, a bidi override, a space, a path-like word, one short.
MALFORMED = ["prof_%00", "%E2%80%AE", "prof%20x", "nope", "prof_" + "A" * 25]


@pytest.fixture
def client(store: Store) -> Iterator[TestClient[Any]]:
    with app_client(store.path, store=store) as test_client:
        yield test_client


@pytest.fixture
def cli_env(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    monkeypatch.setenv("USER", "lead")


def _two_people(ingest: Ingest) -> None:
    ingest(shopify_customer(1, "ann@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "bo@example.com", "Bo", "Park"))


def _family(ingest: Ingest) -> None:
    """Three records on a household mailbox: two conflicting names and one without a name."""
    ingest(shopify_customer(1, "desai.family@example.com", "Christopher", "Desai"))
    ingest(hubspot_contact("2", "desai.family@example.com", "Robert", "Petrov"))
    ingest(stripe_customer("cus_3", "desai.family@example.com", None))


def _item(client: TestClient[Any], first: str, second: str) -> dict[str, Any]:
    page = client.get("/v1/review", params={"limit": 500}, headers=AUTH).json()
    return next(
        item
        for item in page["items"]
        if (item["a"]["external_id"], item["b"]["external_id"]) == (first, second)
    )


# --- profile ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", MALFORMED)
def test_a_malformed_profile_id_in_the_audit_url_is_a_400_as_in_get_context(
    client: TestClient[Any], store: Store, ingest: Ingest, bad: str
) -> None:
    _two_people(ingest)
    context = client.get(f"/v1/context?profile_id={bad}", headers=AUTH)
    audit = client.get(f"/v1/profiles/{bad}/audit", headers=AUTH)
    assert context.status_code == 400, context.text
    assert audit.status_code == 400, audit.text
    assert "prof_" in audit.json()["detail"]


@pytest.mark.parametrize("bad", MALFORMED)
def test_a_malformed_profile_id_in_a_split_url_is_a_400(
    client: TestClient[Any], store: Store, ingest: Ingest, bad: str
) -> None:
    _two_people(ingest)
    answer = client.post(f"/v1/profiles/{bad}/split", json=SPLIT_BODY, headers=AUTH)
    assert answer.status_code == 400, answer.text


def test_a_malformed_profile_id_in_a_merge_is_a_400_and_merges_nothing(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _two_people(ingest)
    ids = [pid(store, SHOP1), pid(store, HUB2), "prof_\u202e" + "A" * 25]
    answer = client.post("/v1/profiles/merge", json={"profile_ids": ids}, headers=AUTH)
    assert answer.status_code == 400, answer.text
    assert pid(store, SHOP1) != pid(store, HUB2)


def test_a_well_formed_unknown_id_is_404_and_an_alias_answers_its_survivor(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _two_people(ingest)
    ids = [pid(store, SHOP1), pid(store, HUB2)]
    merged = client.post("/v1/profiles/merge", json={"profile_ids": ids}, headers=AUTH).json()
    unknown = client.get(f"/v1/profiles/prof_{'0' * 26}/audit", headers=AUTH)
    assert unknown.status_code == 404, unknown.text
    alias = merged["merged"][0]
    audit = client.get(f"/v1/profiles/{alias}/audit", headers=AUTH)
    assert audit.status_code == 200, audit.text
    assert (audit.json()["profile_id"], audit.json()["requested_id"]) == (
        merged["profile_id"],
        alias,
    )


def test_the_cli_says_a_malformed_id_is_not_a_profile_id(
    store: Store, ingest: Ingest, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _two_people(ingest)
    for argv in (["profiles", "audit", "nope"], ["profiles", "merge", pid(store, SHOP1), "x"]):
        with pytest.raises(SystemExit) as usage:
            main(argv)
        assert usage.value.code == 2
        assert "not a profile id" in capsys.readouterr().err
    assert pid(store, SHOP1) != pid(store, HUB2)


# --- review items whose question changed ---------------------------------------------------------


def test_accepting_an_item_whose_record_changed_since_it_was_read_is_refused(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    # The reviewer reads "a record without a name on a household's mailbox" and decides it is
    # Christopher's; meanwhile the record gained Robert's name, and the same item (same id)
    # now asks about Christopher and Robert. The decision was not about that question.
    _family(ingest)
    seen = _item(client, "1", "cus_3")
    ingest(stripe_customer("cus_3", "desai.family@example.com", "Robert Petrov"))
    now = _item(client, "1", "cus_3")
    assert now["id"] == seen["id"]
    assert now["revision"] != seen["revision"]
    body = {"decision": "accept", "revision": seen["revision"]}
    stale = client.post(f"/v1/review/{seen['id']}", json=body, headers=AUTH)
    assert stale.status_code == 409, stale.text
    assert "changed" in stale.json()["detail"]
    assert pid(store, SHOP1) != pid(store, STRIPE3)
    assert _item(client, "1", "cus_3")["status"] == "open"

    fresh = {"decision": "accept", "revision": now["revision"]}
    decided = client.post(f"/v1/review/{seen['id']}", json=fresh, headers=AUTH)
    assert decided.status_code == 200, decided.text
    assert pid(store, SHOP1) == pid(store, STRIPE3)


def test_a_revision_the_item_still_has_decides_it_and_none_is_still_accepted(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _family(ingest)
    first, second = _item(client, "1", "2"), _item(client, "1", "cus_3")
    body = {"decision": "reject", "revision": first["revision"]}
    assert client.post(f"/v1/review/{first['id']}", json=body, headers=AUTH).status_code == 200
    plain = client.post(f"/v1/review/{second['id']}", json={"decision": "reject"}, headers=AUTH)
    assert plain.status_code == 200, plain.text
    assert len({pid(store, SHOP1), pid(store, HUB2), pid(store, STRIPE3)}) == 3


def test_the_cli_refuses_a_stale_revision_like_the_api(
    client: TestClient[Any],
    store: Store,
    ingest: Ingest,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _family(ingest)
    seen = _item(client, "1", "cus_3")
    assert main(["review", "list"]) == 0
    assert seen["revision"] in capsys.readouterr().out
    ingest(stripe_customer("cus_3", "desai.family@example.com", "Robert Petrov"))
    code = main(["review", "accept", str(seen["id"]), "--revision", seen["revision"]])
    assert code != 0
    assert "changed" in capsys.readouterr().err
    assert pid(store, SHOP1) != pid(store, STRIPE3)


# --- paging through the queue --------------------------------------------------------------------


def _households(ingest: Ingest, count: int) -> None:
    """``count`` households, each leaving one or more open review items."""
    for n in range(count):
        mailbox = f"family{n}@example.com"
        ingest(shopify_customer(100 + n, mailbox, "Christopher", f"Desai{n}"))
        ingest(hubspot_contact(str(200 + n), mailbox, "Robert", f"Petrov{n}"))


def test_paging_with_after_misses_no_item_while_reviewers_decide_the_first_page(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _households(ingest, 4)
    everything = client.get("/v1/review", params={"limit": 500}, headers=AUTH).json()
    all_ids = [item["id"] for item in everything["items"]]
    assert len(all_ids) >= 4
    first = client.get("/v1/review", params={"limit": 2}, headers=AUTH).json()
    assert first["next_after"] == first["items"][-1]["id"]
    for item in first["items"]:
        decided = client.post(f"/v1/review/{item['id']}", json={"decision": "reject"}, headers=AUTH)
        assert decided.status_code == 200, decided.text
    seen = [item["id"] for item in first["items"]]
    after: int | None = first["next_after"]
    while after is not None:
        page = client.get("/v1/review", params={"limit": 2, "after": after}, headers=AUTH).json()
        seen += [item["id"] for item in page["items"]]
        after = page["next_after"]
    assert seen == all_ids


@pytest.mark.parametrize("after", ["-1", "abc", "1.5", str(2**63)])
def test_a_bad_after_cursor_is_a_400(
    client: TestClient[Any], store: Store, ingest: Ingest, after: str
) -> None:
    _households(ingest, 1)
    answer = client.get(f"/v1/review?after={after}", headers=AUTH)
    assert answer.status_code == 400, answer.text


def test_the_cli_pages_with_after_and_prints_what_the_api_answers(
    client: TestClient[Any],
    store: Store,
    ingest: Ingest,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    _households(ingest, 3)
    first = client.get("/v1/review", params={"limit": 1}, headers=AUTH).json()
    params = {"limit": 2, "after": first["next_after"]}
    api = client.get("/v1/review", params=params, headers=AUTH).json()
    capsys.readouterr()
    assert (
        main(["review", "list", "--limit", "2", "--after", str(first["next_after"]), "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out) == api


# --- decisions that contradict -------------------------------------------------------------------


def test_accepting_an_item_that_contradicts_an_accepted_one_names_the_earlier_decision(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    # The nameless record is accepted as Christopher's; accepting it as Robert's too would put
    # two conflicting names in one profile. The refusal names the decision standing in the way.
    _family(ingest)
    christophers, roberts = _item(client, "1", "cus_3"), _item(client, "2", "cus_3")
    first = client.post(
        f"/v1/review/{christophers['id']}", json={"decision": "accept"}, headers=AUTH
    )
    assert first.status_code == 200, first.text
    second = client.post(f"/v1/review/{roberts['id']}", json={"decision": "accept"}, headers=AUTH)
    assert second.status_code == 409, second.text
    detail = second.json()["detail"]
    assert "shopify:customer:1 (Christopher Desai)" in detail
    assert first.json()["item"]["decided_at"] in detail
    assert pid(store, SHOP1) == pid(store, STRIPE3) != pid(store, HUB2)


# --- coherence under repeated and concurrent decisions (regression guards) -----------------------


def _alias_faults(store: Store) -> list[tuple[str, str]]:
    """Aliases that point at no profile, or that are themselves a live profile (a cycle)."""
    return [
        (str(alias), str(target))
        for alias, target in store.conn.execute(
            "SELECT a.alias, a.profile_id FROM profile_aliases a "
            "LEFT JOIN profiles p ON p.id = a.profile_id "
            "WHERE p.id IS NULL OR a.alias IN (SELECT id FROM profiles) OR a.alias = a.profile_id"
        )
    ]


def test_merge_split_merge_keeps_ids_aliases_and_decisions_coherent(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _two_people(ingest)
    ann, bo = pid(store, SHOP1), pid(store, HUB2)
    for _ in range(2):
        merged = client.post("/v1/profiles/merge", json={"profile_ids": [bo, ann]}, headers=AUTH)
        assert merged.status_code == 200, merged.text
        assert merged.json()["profile_id"] == ann == pid(store, HUB2)
        split = client.post(f"/v1/profiles/{bo}/split", json=SPLIT_BODY, headers=AUTH)
        assert split.status_code == 200, split.text
        assert pid(store, SHOP1) == ann
        assert client.get(f"/v1/profiles/{bo}/audit", headers=AUTH).json()["profile_id"] == pid(
            store, HUB2
        )
        assert _alias_faults(store) == []
    decisions = list(store.conn.execute("SELECT decision FROM identity_decisions"))
    assert decisions == [("apart",)]
    audit = client.get(f"/v1/profiles/{ann}/audit", headers=AUTH).json()
    assert [m["record"]["external_id"] for m in audit["members"]] == ["1"]
    assert all(link["record"]["external_id"] == "1" for link in audit["links"])
    assert all(link["other"] is None for link in audit["links"])


def test_a_merge_of_fifty_profiles_is_applied_and_fifty_one_refused(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    for n in range(1, 52):
        ingest(shopify_customer(n, f"p{n}@example.com", f"Name{n}", f"Family{n}"))
    ids = [pid(store, RecordKey("shopify", "customer", str(n))) for n in range(1, 52)]
    refused = client.post("/v1/profiles/merge", json={"profile_ids": ids}, headers=AUTH)
    assert refused.status_code == 400, refused.text
    assert len({pid(store, RecordKey("shopify", "customer", str(n))) for n in range(1, 52)}) == 51
    merged = client.post("/v1/profiles/merge", json={"profile_ids": ids[:50]}, headers=AUTH)
    assert merged.status_code == 200, merged.text
    audit = client.get(f"/v1/profiles/{ids[49]}/audit", headers=AUTH).json()
    assert len(audit["members"]) == 50
    assert sorted(audit["aliases"]) == sorted(merged.json()["merged"])


def test_concurrent_merges_and_splits_from_two_stores_lose_no_decision(
    store: Store, ingest: Ingest, ctx: Any
) -> None:
    import threading

    from context_service.identity import decisions
    from context_service.sync.decide import apply_decision

    for n in range(1, 7):
        ingest(shopify_customer(n, f"p{n}@example.com", f"Name{n}", f"Family{n}"))
    keys = [RecordKey("shopify", "customer", str(n)) for n in range(1, 7)]
    ids = [pid(store, key) for key in keys]
    apply_decision(store, ctx, lambda c, now: decisions.merge_profiles(c, ids[:3], "t", now, "US"))
    failures: list[BaseException] = []

    def run(action: Any) -> None:
        other = Store(store.path)
        try:
            apply_decision(other, ctx, action)
        except decisions.DecisionRejected:
            pass  # refused as a whole (its transaction rolled back): nothing half-done
        except BaseException as error:  # reported by the assertion below
            failures.append(error)
        finally:
            other.close()

    def merge(conn: Any, now: str) -> Any:
        return decisions.merge_profiles(conn, [ids[2], ids[3]], "m", now, "US")

    def split(conn: Any, now: str) -> Any:
        return decisions.split_profile(conn, ids[0], [keys[1]], "s", now, "US")

    threads = [threading.Thread(target=run, args=(action,)) for action in (merge, split)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert _alias_faults(store) == []
    by = dict(store.conn.execute("SELECT decided_by, count(*) FROM identity_decisions GROUP BY 1"))
    assert set(by) >= {"m", "s"}
    assert pid(store, keys[3]) == pid(store, keys[0]) != pid(store, keys[1])
