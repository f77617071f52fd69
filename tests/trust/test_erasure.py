"""DELETE /v1/profiles/{id} leaves no trace of Maya in the database file, its WAL or its free
pages, and the demo sync run again does not bring her back while she is suppressed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from context_service.api import create_app
from context_service.demo import generate_demo
from context_service.store import Store
from context_service.sync import RawPayload, ingest_all
from tests.conftest import DEMO_CUSTOMERS, TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
# Her email in any case, her phone in the formats the sources use, her full name.
TRACES = [rb"maya\.patel@example\.com", rb"415\D{0,2}555\D?0134", rb"maya patel"]


def _traces(db: Path) -> dict[str, list[str]]:
    """Which traces each file of the database (main, -wal, -shm) still holds."""
    found: dict[str, list[str]] = {}
    for path in [db, Path(f"{db}-wal"), Path(f"{db}-shm")]:
        if not path.exists():
            continue
        data = path.read_bytes()
        hits = [t.decode() for t in TRACES if re.search(t, data, re.IGNORECASE)]
        if hits:
            found[path.name] = hits
    return found


def _seed_extras(db: Path, profile_id: str) -> None:
    """An LLM summary and a webhook delivery about Maya, as a running service would hold."""
    store = Store(db)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO llm_summaries (profile_id, version, audience, prompt_version, model, "
            "text, created_at, view) VALUES (?, 1, 'chatbot', 'v1', 'm', ?, '2026-01-01', 'v')",
            (profile_id, "Maya Patel was charged twice"),
        )
        body = b'{"customer": {"email": "Maya.Patel@Example.com", "phone": "(415) 555-0134"}}'
        conn.execute(
            "INSERT INTO webhook_inbox (source, topic, received_at, body, headers, status) "
            "VALUES ('shopify', 'customers/update', '2026-01-01', ?, '{}', 'applied')",
            (body,),
        )
        # Another customer's latest payload, unmappable, kept beside their good record.
        conn.execute(
            "UPDATE records SET rejected_payload = ?, error = 'unmappable' WHERE id = ("
            "SELECT min(id) FROM records WHERE lower(payload) NOT LIKE '%maya%')",
            ('{"note": "forwarded by maya.patel@example.com"}',),
        )
    store.close()


def test_erasure_leaves_nothing_and_a_resync_does_not_recreate_her(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    assert _traces(db)  # she is there to begin with
    with TestClient(app=create_app(make_settings(db))) as client:
        snap = client.get("/v1/context", params={"email": MAYA}, headers=AUTH).json()
        profile_id = snap["profile_id"]
        _seed_extras(db, profile_id)
        erased = client.delete(f"/v1/profiles/{profile_id}", headers=AUTH)
        assert erased.status_code == 200, erased.text
        report = erased.json()
        assert report["records"] >= 8
        assert report["suppressed"] >= 3
        assert report["inbox_scrubbed"] == 1
        assert report["rejected_records"] >= 1
        gone = client.get("/v1/context", params={"email": MAYA}, headers=AUTH)
        assert gone.status_code == 404
        reads = client.get("/v1/audit/reads", headers=AUTH).json()["reads"]
        assert all(r["profile_id"] != profile_id for r in reads)
        assert any(r["profile_id"] == "erased" for r in reads)
    assert _traces(db) == {}

    store = Store(db)
    payloads = (RawPayload(p.source, p.kind, p.payload) for p in generate_demo(DEMO_CUSTOMERS))
    report = ingest_all(store, payloads, _ctx())
    store.close()
    assert report.suppressed >= 8
    with TestClient(app=create_app(make_settings(db))) as client:
        again = client.get("/v1/context", params={"email": MAYA}, headers=AUTH)
        assert again.status_code == 404
        phone = client.get("/v1/context", params={"phone": "+14155550134"}, headers=AUTH)
        assert phone.status_code == 404
    assert _traces(db) == {}


def test_export_answers_everything_held_and_is_audited(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    with TestClient(app=create_app(make_settings(db))) as client:
        profile_id = client.get("/v1/context", params={"email": MAYA}, headers=AUTH).json()[
            "profile_id"
        ]
        document = client.get(f"/v1/profiles/{profile_id}/export", headers=AUTH).json()
        assert document["profile_id"] == profile_id
        kinds = {(r["source"], r["kind"]) for r in document["records"]}
        assert {("shopify", "customer"), ("shopify", "order"), ("zendesk", "ticket")} <= kinds
        assert any(i["value"] == MAYA for i in document["identifiers"])
        assert document["snapshot"]["identity"]["name"] == "Maya Patel"
        reads = client.get(
            "/v1/audit/reads", params={"profile_id": profile_id}, headers=AUTH
        ).json()["reads"]
        assert reads[0]["channel"] == "subject-export"
        unknown = "prof_" + "0" * 26
        assert client.get(f"/v1/profiles/{unknown}/export", headers=AUTH).status_code == 404
        assert client.delete(f"/v1/profiles/{unknown}", headers=AUTH).status_code == 404
        assert client.get("/v1/profiles/prof_nobody/export", headers=AUTH).status_code == 400


def _ctx() -> Any:
    from context_service.snapshot.links import DashboardLinks
    from context_service.sync import IngestContext
    from context_service.wiring import default_mappers

    return IngestContext(mappers=default_mappers(), links=DashboardLinks())
