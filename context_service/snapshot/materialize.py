"""Materialize snapshots on write so that a context request reads one pre-encoded row."""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping

import msgspec

from context_service.snapshot.assemble import ProfileData, build_snapshot_encoded, load_profiles
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.redaction import without_payment_numbers
from context_service.snapshot.render import render_text
from context_service.store.snapshots import StoredSnapshot, save_snapshots

_encode = msgspec.json.Encoder().encode
_CHUNK = 200  # profiles loaded together: a few queries per chunk instead of per profile


def materialize(
    conn: sqlite3.Connection,
    profile_ids: Iterable[str],
    links: DashboardLinks,
    now: str,
    region: str = "US",
) -> int:
    """Rebuild and store the snapshot of every listed profile that still exists; return how many."""
    built = 0
    wanted = sorted(set(profile_ids))
    for start in range(0, len(wanted), _CHUNK):
        with collector_paused():
            built += _materialize_chunk(conn, wanted[start : start + _CHUNK], links, now, region)
    return built


class _CollectorPauses:
    """The threads inside ``collector_paused`` now, and whether the first of them found the
    collector running."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.was_enabled = False


_pauses = _CollectorPauses()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a chunk of snapshots is built.

    A chunk decodes thousands of small containers that all live until its rows are made, and
    the collector would walk them again and again as they pile up (a fifth of a rebuild's
    time). They hold no reference cycles and are freed by reference counting when the
    function building the chunk returns, which must be inside this block: were they still
    alive when the collector runs again, its next pass would walk them all once more. Anything
    cyclic made meanwhile is collected by that pass. Threads may overlap: the collector runs
    again once the last of them leaves, if it ran when the first came in.
    """
    with _pauses.lock:
        if _pauses.count == 0:
            _pauses.was_enabled = gc.isenabled()
            gc.disable()
        _pauses.count += 1
    try:
        yield
    finally:
        with _pauses.lock:
            _pauses.count -= 1
            if _pauses.count == 0 and _pauses.was_enabled:
                gc.enable()


def _materialize_chunk(
    conn: sqlite3.Connection, profile_ids: list[str], links: DashboardLinks, now: str, region: str
) -> int:
    rows = snapshot_rows(load_profiles(conn, profile_ids, links), links, now, region)
    save_snapshots(conn, rows)
    return len(rows)


def snapshot_rows(
    loaded: Mapping[str, ProfileData], links: DashboardLinks, now: str, region: str
) -> list[StoredSnapshot]:
    """The stored form (encoded JSON and text) of each loaded profile's snapshot, with when its
    time-dependent signals change (``refresh_at``; the worker's rows too, ``background``)."""
    rows = []
    for profile_id, data in loaded.items():
        built, encoded, refresh_at = build_snapshot_encoded(data, links, now, region)
        snapshot = without_payment_numbers(built)
        rows.append(
            StoredSnapshot(
                profile_id=profile_id,
                version=snapshot.version,
                generated_at=now,
                # the same object (nothing was removed) encodes to the same bytes
                json=encoded if snapshot is built else _encode(snapshot),
                text=render_text(snapshot),
                refresh_at=refresh_at,
            )
        )
    return rows
