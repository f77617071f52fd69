"""A refused decision (409) names no one to an admin key that may not read names.

A key that hides ``identity.names`` or ``identity.emails`` (a record's display name is the
person's name, else their first email), or is limited to audiences, reads ``"name": null`` in
``/v1/review``, a decision's ``item`` and the audit. The detail of a 409 from a review, merge
or split decision spelled the same records out as ``source:kind:id (Name)``: it names them by
key alone for such a key, and keeps the names for one that may read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.identity.binding import PairDecision, Watch
from context_service.identity.cluster import Pair, pair_of
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from tests.conftest import TEST_KEY, Ingest, make_settings
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer
from tests.trust.helpers import copy_demo, make_key

BOOT = {"Authorization": f"Bearer {TEST_KEY}"}
FAMILY = "desai.family@example.com"  # the nameless record's display name: its email
FAMILY_NAMES = ("Christopher", "Desai", "Robert", "Petrov", FAMILY)
CHRIS = RecordKey("shopify", "customer", "1")
ROBERT = RecordKey("hubspot", "contact", "2")
NAMELESS = RecordKey("stripe", "customer", "cus_3")
# The limits under which an admin key reads no names, each as ``make_key`` takes them.
HIDING: dict[str, dict[str, list[str]]] = {
    "names": {"hide": ["identity.names"]},
    "emails": {"hide": ["identity.emails"]},
    "audiences": {"audiences": ["agent"]},
}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@contextmanager
def _serving(db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(db, rate_limit_per_minute=1_000_000))) as client:
        yield client


def _conflict(response: Any) -> str:
    assert response.status_code == 409, (response.status_code, response.text[:300])
    detail: str = response.json()["detail"]
    return detail


@pytest.mark.parametrize("limits", sorted(HIDING))
def test_a_stale_revision_409_names_no_one_to_a_key_that_hides_names(
    demo_db: Path, tmp_path: Path, limits: str
) -> None:
    db = copy_demo(demo_db, tmp_path)
    limited = _bearer(make_key(db, "helpdesk-admin", ["admin"], **HIDING[limits]))
    with _serving(db) as client:
        full = client.get("/v1/review", headers=BOOT).json()["items"][0]
        names = [full["a"]["name"], full["b"]["name"]]
        assert all(names)  # the bootstrap key reads them
        seen = client.get("/v1/review", headers=limited).json()["items"][0]
        assert seen["a"]["name"] is None
        assert seen["b"]["name"] is None
        stale = {"decision": "accept", "revision": "stale"}
        hidden = client.post(f"/v1/review/{full['id']}", json=stale, headers=limited)
        shown = client.post(f"/v1/review/{full['id']}", json=stale, headers=BOOT)

    detail = _conflict(hidden)
    assert not [name for name in names if name in hidden.text], detail
    # The records are still named, by key, and the new revision is given to read it again.
    for ref in (full["a"], full["b"]):
        assert f"{ref['source']}:{ref['kind']}:{ref['external_id']}" in detail
    assert hidden.json()["revision"] == full["revision"]
    # A key that may read names keeps them (as the command line does).
    assert all(f"({name})" in _conflict(shown) for name in names)


def _family(ingest: Ingest) -> None:
    ingest(shopify_customer(1, FAMILY, "Christopher", "Desai"))
    ingest(hubspot_contact("2", FAMILY, "Robert", "Petrov"))
    ingest(stripe_customer("cus_3", FAMILY, None))


def _item(client: TestClient[Any], first: str, second: str) -> int:
    page = client.get("/v1/review", headers=BOOT).json()
    return next(
        int(item["id"])
        for item in page["items"]
        if (item["a"]["external_id"], item["b"]["external_id"]) == (first, second)
    )


def _accept(client: TestClient[Any], item_id: int, headers: dict[str, str]) -> Any:
    return client.post(f"/v1/review/{item_id}", json={"decision": "accept"}, headers=headers)


def _hides_every_name(detail: str) -> None:
    assert not [name for name in FAMILY_NAMES if name in detail], detail


@pytest.mark.parametrize("limits", sorted(HIDING))
def test_accepts_that_contradict_name_no_one_to_a_key_that_hides_names(
    store: Store, ingest: Ingest, limits: str
) -> None:
    _family(ingest)
    limited = _bearer(make_key(Path(store.path), "helpdesk-admin", ["admin"], **HIDING[limits]))
    with _serving(Path(store.path)) as client:
        as_chris, as_robert = _item(client, "1", "cus_3"), _item(client, "2", "cus_3")
        assert _accept(client, as_chris, BOOT).status_code == 200
        cannot = _conflict(_accept(client, as_robert, limited))
        names_kept = _conflict(_accept(client, as_robert, BOOT))

    # Which earlier decision stands in the way is said by key; whose records they are is not.
    assert "cannot put hubspot:contact:2 with stripe:customer:cus_3" in cannot
    assert "was put together with" in cannot
    assert "by api" in cannot
    _hides_every_name(cannot)
    assert "hubspot:contact:2 (Robert Petrov)" in names_kept
    assert f"stripe:customer:cus_3 ({FAMILY})" in names_kept


def test_an_accept_that_would_undo_an_earlier_one_names_no_one(
    store: Store, ingest: Ingest
) -> None:
    _family(ingest)
    limited = _bearer(make_key(Path(store.path), "no-names", ["admin"], hide=["identity.names"]))
    with _serving(Path(store.path)) as client:
        as_chris, as_robert = _item(client, "1", "cus_3"), _item(client, "2", "cus_3")
        assert _accept(client, as_robert, BOOT).status_code == 200
        undo = _conflict(_accept(client, as_chris, limited))

    assert "would undo an earlier decision: hubspot:contact:2 and stripe:customer:cus_3" in undo
    _hides_every_name(undo)


def _record_id(store: Store, key: RecordKey) -> int:
    row = store.conn.execute(
        "SELECT id FROM records WHERE source = ? AND kind = ? AND external_id = ?",
        (key.source, key.kind, key.external_id),
    ).fetchone()
    return int(row[0])


def _contradict(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    """Make every decision find that it would undo an earlier decision about Christopher's
    record and the nameless one. A merge or split that contradicts people's decisions is hard
    to set up (a merge records ``together`` for every pair it joins, a split ``apart`` for every
    pair it parts); this stands in for one, so the refusal text of both routes can be read."""
    pair = pair_of(_record_id(store, CHRIS), _record_id(store, NAMELESS))

    def broken(self: Watch, own: object) -> list[tuple[Pair, PairDecision]]:
        return [(pair, PairDecision("together", "cli:alice", "2026-01-01T00:00:00Z"))]

    monkeypatch.setattr(Watch, "broken", broken)


def _profiles(store: Store) -> tuple[str, str]:
    chris, robert = profile_of_key(store.conn, CHRIS), profile_of_key(store.conn, ROBERT)
    assert chris is not None
    assert robert is not None
    assert chris != robert
    return chris, robert


def test_a_refused_merge_names_no_one_to_a_key_that_hides_names(
    store: Store, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    _family(ingest)
    limited = _bearer(make_key(Path(store.path), "no-emails", ["admin"], hide=["identity.emails"]))
    merge = {"profile_ids": list(_profiles(store))}
    _contradict(monkeypatch, store)
    with _serving(Path(store.path)) as client:
        hidden = _conflict(client.post("/v1/profiles/merge", json=merge, headers=limited))
        shown = _conflict(client.post("/v1/profiles/merge", json=merge, headers=BOOT))

    assert hidden.startswith("this merge ")
    assert "shopify:customer:1 " in hidden
    assert hidden.endswith("Split the profiles first.")
    _hides_every_name(hidden)
    assert "shopify:customer:1 (Christopher Desai)" in shown


def test_a_refused_split_names_no_one_to_a_key_that_hides_names(
    store: Store, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    _family(ingest)
    limited = _bearer(make_key(Path(store.path), "no-names", ["admin"], audiences=["agent"]))
    split = {"records": [{"source": "hubspot", "kind": "contact", "external_id": "2"}]}
    with _serving(Path(store.path)) as client:
        merged = client.post(
            "/v1/profiles/merge", json={"profile_ids": list(_profiles(store))}, headers=BOOT
        )
        assert merged.status_code == 200, merged.text[:300]
        url = f"/v1/profiles/{merged.json()['profile_id']}/split"
        _contradict(monkeypatch, store)
        hidden = _conflict(client.post(url, json=split, headers=limited))
        shown = _conflict(client.post(url, json=split, headers=BOOT))

    undone = "would undo an earlier decision: shopify:customer:1 and stripe:customer:cus_3"
    assert hidden.startswith(f"this split {undone} were put together by cli:alice")
    _hides_every_name(hidden)
    assert "shopify:customer:1 (Christopher Desai)" in shown
