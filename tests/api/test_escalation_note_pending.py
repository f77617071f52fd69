"""A retry that arrives while the first request is still posting the note hears that the
note is being posted (and may try again), not that it was posted: the first post can fail and
release its claim, and the retrying caller would believe in a note that never came (a review
saw exactly that with Zendesk slow, then 503). A claim left pending by a killed process is
taken over once it is older than ``PENDING_SECONDS``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from context_service.store import Store
from context_service.store import notes as notes_store


def test_a_claim_is_pending_until_confirmed_then_posted(tmp_path: Path) -> None:
    store = Store(tmp_path / "notes.db")
    digest, now = notes_store.note_digest("1001", "escalation"), datetime.now(UTC)

    assert notes_store.claim(store.conn, digest, now) == "new"
    assert notes_store.claim(store.conn, digest, now) == "pending"
    notes_store.confirm(store.conn, digest)
    assert notes_store.claim(store.conn, digest, now) == "posted"
    store.close()


def test_a_released_claim_is_new_again(tmp_path: Path) -> None:
    store = Store(tmp_path / "notes.db")
    digest, now = notes_store.note_digest("1001", "escalation"), datetime.now(UTC)

    assert notes_store.claim(store.conn, digest, now) == "new"
    notes_store.release(store.conn, digest)
    assert notes_store.claim(store.conn, digest, now) == "new"
    store.close()


def test_a_claim_pending_too_long_is_taken_over(tmp_path: Path) -> None:
    store = Store(tmp_path / "notes.db")
    digest, now = notes_store.note_digest("1001", "escalation"), datetime.now(UTC)
    assert notes_store.claim(store.conn, digest, now) == "new"

    later = now + timedelta(seconds=notes_store.PENDING_SECONDS + 1)

    assert notes_store.claim(store.conn, digest, later) == "new"
    store.close()


def test_a_late_failure_does_not_forget_a_note_another_request_posted(tmp_path: Path) -> None:
    """A's post hangs past ``PENDING_SECONDS``; B takes over, posts and confirms; A then fails
    and releases: B's note stays posted, and a retry posts nothing again."""
    store = Store(tmp_path / "notes.db")
    digest, now = notes_store.note_digest("1001", "escalation"), datetime.now(UTC)
    assert notes_store.claim(store.conn, digest, now) == "new"  # A
    later = now + timedelta(seconds=notes_store.PENDING_SECONDS + 1)
    assert notes_store.claim(store.conn, digest, later) == "new"  # B takes over
    notes_store.confirm(store.conn, digest)

    notes_store.release(store.conn, digest)  # A's post failed

    assert notes_store.claim(store.conn, digest, later) == "posted"
    store.close()
