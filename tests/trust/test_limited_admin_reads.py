"""An admin key that hides names, emails or phones (or is limited to audiences)
does not read them through the admin routes: the review queue, a profile's audit, a review
decision's answer and ``/v1/sync``'s open access requests."""

from __future__ import annotations

from pathlib import Path

from context_service.audience.policy import fingerprint
from context_service.models import AccessRequest
from context_service.store import Store, access_requests
from tests.api.test_serve_review import BOOT, serving
from tests.trust.helpers import copy_demo, make_key

NAMES = ("Lori Faure", "Patricia Faure")


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _profile_of_first_review_item(client: object, headers: dict[str, str]) -> str:
    page = client.get("/v1/review", headers=headers).json()  # type: ignore[attr-defined]
    profile_id: str = page["items"][0]["a"]["profile_id"]
    return profile_id


def test_a_key_hiding_names_reads_the_review_queue_and_audits_without_them(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    limited = make_key(db, "helpdesk-admin", ["admin"], hide=["identity.names"])
    full = make_key(db, "ops", ["admin"])
    with serving(db) as client:
        shown = client.get("/v1/review", headers=_bearer(full))
        hidden = client.get("/v1/review", headers=_bearer(limited))
        profile_id = _profile_of_first_review_item(client, _bearer(full))
        audit_shown = client.get(f"/v1/profiles/{profile_id}/audit", headers=_bearer(full))
        audit_hidden = client.get(f"/v1/profiles/{profile_id}/audit", headers=_bearer(limited))
    assert shown.status_code == hidden.status_code == 200
    assert any(name in shown.text for name in NAMES)
    assert not any(name in hidden.text for name in NAMES)
    [item] = hidden.json()["items"]
    assert item["a"]["name"] is None
    assert item["b"]["name"] is None
    assert item["revision"] == shown.json()["items"][0]["revision"]
    assert audit_shown.status_code == audit_hidden.status_code == 200
    assert any(name in audit_shown.text for name in NAMES)
    assert not any(name in audit_hidden.text for name in NAMES)
    assert all(m["record"]["name"] is None for m in audit_hidden.json()["members"])


def test_a_key_hiding_emails_decides_a_review_item_without_reading_names(
    demo_db: Path, tmp_path: Path
) -> None:
    """A record without a name is shown by its email, so hiding emails hides names too."""
    db = copy_demo(demo_db, tmp_path)
    limited = make_key(db, "helpdesk-admin", ["admin"], hide=["identity.emails"])
    with serving(db) as client:
        page = client.get("/v1/review", headers=_bearer(limited)).json()
        item = page["items"][0]
        decided = client.post(
            f"/v1/review/{item['id']}",
            json={"decision": "reject", "revision": item["revision"]},
            headers=_bearer(limited),
        )
    assert decided.status_code == 200, decided.text
    assert not any(name in decided.text for name in NAMES)
    assert decided.json()["item"]["status"] == "rejected"


def test_a_key_limited_to_audiences_reads_no_names_either(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    limited = make_key(db, "helpdesk-admin", ["admin"], audiences=["agent"])
    with serving(db) as client:
        hidden = client.get("/v1/review", headers=_bearer(limited))
        boot = client.get("/v1/review", headers=BOOT)
    assert not any(name in hidden.text for name in NAMES)
    assert any(name in boot.text for name in NAMES)


def test_open_access_requests_in_sync_status_hide_what_the_key_hides(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    store = Store(db)
    try:
        with store.transaction() as conn:
            request = AccessRequest(
                "customer",
                "6270000000017",
                "dr-1",
                "acme.myshopify.com",
                "maya.patel@example.com",
                "+14155550134",
            )
            access_requests.add(conn, "shopify", request, "2027-01-15T08:00:00Z", None)
    finally:
        store.close()
    emails = make_key(db, "no-emails", ["admin"], hide=["identity.emails"])
    phones = make_key(db, "no-phones", ["admin"], hide=["identity.phones"])
    with serving(db) as client:
        by_boot = client.get("/v1/sync", headers=BOOT).json()
        no_emails = client.get("/v1/sync", headers=_bearer(emails)).json()
        no_phones = client.get("/v1/sync", headers=_bearer(phones)).json()
    [shown] = by_boot["sources"]["shopify"]["access_requests"]
    assert (shown["email"], shown["phone"]) == ("maya.patel@example.com", "+14155550134")
    [first] = no_emails["sources"]["shopify"]["access_requests"]
    assert (first["email"], first["phone"]) == (None, "+14155550134")
    [second] = no_phones["sources"]["shopify"]["access_requests"]
    assert (second["email"], second["phone"]) == ("maya.patel@example.com", None)


def _policy_limiting(tmp_path: Path, key: str) -> Path:
    """A field-policy file that limits ``key`` (by fingerprint) to the agent audience without
    names: limits of the operator's file, not of the stored key."""
    path = tmp_path / "policy.toml"
    path.write_text(
        f'[keys.{fingerprint(key)}]\naudiences = ["agent"]\nhide = ["identity.names"]\n',
        encoding="utf-8",
    )
    return path


def test_an_admin_key_limited_by_the_policy_file_is_limited_in_admin_routes_too(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    make_key(db, "root", ["admin"])
    limited = make_key(db, "helpdesk-admin", ["admin", "context:read"])
    policy = _policy_limiting(tmp_path, limited)
    with serving(db, field_policy=str(policy)) as client:
        found = client.post(
            "/v1/context/lookup", json={"email": "maya.patel@example.com"}, headers=BOOT
        )
        profile_id = found.json()["profile_id"]
        export = client.get(f"/v1/profiles/{profile_id}/export", headers=_bearer(limited))
        review = client.get("/v1/review", headers=_bearer(limited))
        wider = client.post(
            "/v1/keys", json={"name": "wide", "scopes": ["admin"]}, headers=_bearer(limited)
        )
        revoke = client.delete("/v1/keys/root", headers=_bearer(limited))
    assert export.status_code == 403, export.status_code
    assert "maya.patel@example.com" not in export.text
    assert not any(name in review.text for name in NAMES)
    assert wider.status_code == 403, wider.text
    assert revoke.status_code == 403, revoke.text
