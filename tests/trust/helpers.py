"""Helpers for the trust tests: a private copy of the demo store, scoped keys, a fake clock,
and an app whose chatbot proofs can be made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from context_service.api import create_app
from context_service.api.keys import KNOWN
from context_service.llm import LlmClient
from context_service.store import Store
from context_service.trust import KeySpec, Trust, create_key
from tests.conftest import copy_store, make_settings

MAYA = "maya.patel@example.com"
MAYA_PHONE = "+14155550134"


def copy_demo(demo_db: Path, tmp_path: Path) -> Path:
    """A copy of the session's demo store that a test may change (or erase from)."""
    return copy_store(demo_db, tmp_path / "demo.db")


def make_key(db: Path, name: str, scopes: list[str], **limits: object) -> str:
    """Create a scoped key in ``db``; return the key."""
    store = Store(db)
    try:
        spec = KeySpec(name=name, scopes=scopes, **limits)  # type: ignore[arg-type]
        return create_key(store, spec, "2026-01-01T00:00:00Z", KNOWN).key
    finally:
        store.close()


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


SITE_SECRET = "site-secret-0123456789abcdef"
JWT_SECRET = "jwt-secret-0123456789abcdef0123456789"
ISSUER, AUDIENCE = "https://shop.example", "context-service"


@contextmanager
def chatbot_app(
    demo_db: Path, tmp_path: Path, llm_client: LlmClient | None = None
) -> Iterator[tuple[TestClient[Any], str, FakeClock, Path]]:
    """A client of a copy of the demo store, authorized with a public chatbot key (no trusted
    backend), on an app that checks ``user_hash`` (``SITE_SECRET``) and ``user_token``
    (``JWT_SECRET``, ``ISSUER``, ``AUDIENCE``) proofs; with the key, the clock and the copy."""
    db = copy_demo(demo_db, tmp_path)
    bot = make_key(db, "public-bot", ["context:read", "context:lookup"], audiences=["chatbot"])
    settings = make_settings(
        db,
        chatbot_user_hash_secrets=[SITE_SECRET],
        chatbot_jwt_secret=JWT_SECRET,
        chatbot_jwt_issuer=ISSUER,
        chatbot_jwt_audience=AUDIENCE,
    )
    clock = FakeClock()
    store = Store(db)
    trust = Trust(settings, store, clock=clock, monotonic=clock)
    try:
        app = create_app(settings, store=store, trust=trust, llm_client=llm_client)
        with TestClient(app=app) as client:
            client.headers["Authorization"] = f"Bearer {bot}"
            yield client, bot, clock, db
    finally:
        store.close()


def erase_the_only_profile(store: Store) -> None:
    """Erase the store's one profile, as `context-service erase` would (no vacuum)."""
    (profile_id,) = store.conn.execute("SELECT DISTINCT profile_id FROM profile_members").fetchone()
    erase(store, profile_id)


def profile_of_email(store: Store, email: str) -> str | None:
    """The profile whose records carry this (normalized) email, or ``None``."""
    row = store.conn.execute(
        "SELECT m.profile_id FROM identifiers i JOIN profile_members m ON m.record_id = i.record_id "
        "WHERE i.kind = 'email' AND i.value = ?",
        (email,),
    ).fetchone()
    return None if row is None else str(row[0])


def profile_of_record(store: Store, source: str, external_id: str) -> str | None:
    """The profile holding the record of ``source`` with this vendor id, if any."""
    row = store.conn.execute(
        "SELECT m.profile_id FROM records r JOIN profile_members m ON m.record_id = r.id "
        "WHERE r.source = ? AND r.external_id = ?",
        (source, external_id),
    ).fetchone()
    return None if row is None else str(row[0])


def erase(store: Store, profile_id: str) -> None:
    """Erase one profile, as `context-service erase` would (no vacuum)."""
    from context_service.trust.erasure import erase_profile

    erase_profile(
        store,
        profile_id,
        requested_by="t",
        reason="t",
        now="2026-02-01T00:00:00Z",
        region="US",
        vacuum=False,
    )
