"""The ``rejected`` command of ``context-service``: what could not be mapped, and forgetting it.

Every payload or spreadsheet row that could not be mapped is kept raw with its reason, never
dropped; ``status`` counts them per source. ``rejected`` lists them (source, kind, id, when,
why, and the start of the raw payload) and, with ``--clear``, forgets them once the data has
been fixed at the source and loaded again: a record that was only ever kept raw is deleted
(nothing indexes or resolves it), and a good record keeps its good version and loses the
rejected payload beside it.
"""

from __future__ import annotations

import argparse
from typing import Any

from context_service.cli_identity import SQLITE_MAX_INT, bounded
from context_service.cli_runs import existing_store
from context_service.errors import visible
from context_service.settings import load_settings
from context_service.store import Store
from context_service.store.records import StoredRecord, clear_rejected, rejected, rejected_payload

_EXCERPT = 120


def cmd_rejected(args: argparse.Namespace) -> int:
    """List the rejected records (of one source with ``--source``), or forget them."""
    store = existing_store(load_settings())
    try:
        if args.clear:
            with store.transaction() as conn:
                deleted, dropped = clear_rejected(conn, args.source)
            print(
                f"deleted {deleted} records kept raw, dropped {dropped} rejected payloads "
                "beside good records"
            )
            return 0
        shown = 0
        for record in rejected(store.conn, args.source):
            if args.limit and shown >= args.limit:
                print("... more not shown (--limit 0 lists all)")
                break
            print(_line(store, record))
            shown += 1
        if not shown:
            where = f" from {args.source}" if args.source else ""
            print(f"nothing rejected{where}")
    finally:
        store.close()
    return 0


def _line(store: Store, record: StoredRecord) -> str:
    key = record.key
    raw = record.payload if record.mapped is None else rejected_payload(store.conn, key)
    excerpt = " ".join((raw or "").split())
    if len(excerpt) > _EXCERPT:
        excerpt = excerpt[: _EXCERPT - 1] + "…"
    kept = "kept raw" if record.mapped is None else "good version kept"
    # The id, the reason and the payload are what a vendor or a spreadsheet sent: escaped, so
    # that none of it can move the cursor or forge a line on the operator's terminal.
    head = visible(f"{key.source} {key.kind} {key.external_id} ({record.fetched_at}, {kept}): ")
    return f"{head}{visible(record.error or '')}\n    {visible(excerpt)}"


def add_commands(sub: Any) -> None:
    """Register ``rejected`` on the top-level subparsers."""
    p = sub.add_parser("rejected", help="list what could not be mapped, or forget it (--clear)")
    p.add_argument("--source", default=None, help="only this source")
    p.add_argument(
        "--limit",
        type=bounded(0, SQLITE_MAX_INT),
        default=50,
        help="list at most N (0: all; default 50)",
    )
    p.add_argument(
        "--clear",
        action="store_true",
        help="forget them (after fixing the data and loading it again)",
    )
    p.set_defaults(func=cmd_rejected)
