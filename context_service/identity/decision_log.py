"""The history of people's decisions (``identity_decision_log``): every decision as it was
taken, also those a later one replaced, and those carried to a vendor merge's survivor. The
audit lists it (``audit.ProfileAudit.history``); ``identity_decisions`` holds the ones in force.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

# (a, b, decision, decided_by, decided_at, note)
LoggedDecision = tuple[int, int, str, str, str, str | None]


def log_decisions(conn: sqlite3.Connection, rows: Iterable[LoggedDecision]) -> None:
    """Add these decisions to the history, in the caller's transaction."""
    conn.executemany(
        "INSERT INTO identity_decision_log (a, b, decision, decided_by, decided_at, note) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        list(rows),
    )
