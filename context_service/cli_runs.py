"""What the long-running and read-only commands share: SIGTERM stopping a sync or an import
like Ctrl-C, ``serve`` and ``demo`` refusing an address they cannot listen on, and opening the
store so that no queued snapshot is shown; and ``webhooks retry``, which applies failed webhook
deliveries again."""

from __future__ import annotations

import argparse
import contextlib
import errno
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from context_service.cli_identity import SQLITE_MAX_INT, bounded
from context_service.errors import ConfigurationError
from context_service.models import BUILTIN_SOURCES, Connector
from context_service.settings import Settings, load_settings
from context_service.store import Store, snapshots
from context_service.store import inbox as inbox_store
from context_service.sync import IngestContext, apply_pending, drain_snapshots, remap
from context_service.sync.snapshot_queue import build_queued_on_read
from context_service.sync.webhooks import readmit_rejected
from context_service.trust.erasure import BLANKED_BY_ERASURE
from context_service.wiring import build_webhook_connectors, ingest_context, vendor_client

__all__ = [
    "Terminated",
    "add_commands",
    "existing_store",
    "open_for_reading",
    "refuse_unlistenable",
    "remap_after_upgrade",
    "sigterm_stops_the_run",
]


class Terminated(SystemExit):
    """SIGTERM (``timeout``, systemd, ``kill``) stopped a sync or an import. Raised like
    Ctrl-C's ``KeyboardInterrupt``, so the run is recorded as failed and its snapshot worker
    is stopped; ``main`` exits with status 143."""


@contextlib.contextmanager
def sigterm_stops_the_run() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``Terminated`` in the main thread; a second one
    kills the process at once. Elsewhere than in the main thread, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated("stopped by SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def refuse_unlistenable(host: str, port: int) -> None:
    """Raise ``ConfigurationError`` naming what to change when nothing can listen on ``host``
    and ``port``: granian's own bind error is a Python and Rust stack trace. The address is
    bound once and let go at once (with ``SO_REUSEADDR``, so a port in ``TIME_WAIT`` passes)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(_unlistenable(host, port, exc)) from None


def _unlistenable(host: str, port: int, exc: OSError) -> str:
    """Why nothing can listen on ``host``:``port``, and which setting changes it."""
    other_port = "set --port or CONTEXT_SERVICE_PORT (make demo: PORT=9000 make demo)"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use; stop what listens there or {other_port}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen on {host}: it is no address of this machine; set --host or "
            "CONTEXT_SERVICE_HOST (127.0.0.1 for this machine only, 0.0.0.0 for every address)"
        )
    if exc.errno == errno.EACCES:
        return f"cannot listen on port {port} on {host}: permission denied; {other_port}"
    return f"cannot listen on port {port} on {host}: {exc.strerror or exc}; {other_port}"


def hint_if_empty(store: Store, settings: Settings) -> None:
    """Say so when the database holds no records: usually CONTEXT_SERVICE_DB names another file."""
    if store.conn.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None:
        print(
            f"note: {settings.db} holds no customers; set CONTEXT_SERVICE_DB to the database "
            "you loaded (make demo writes demo.db)",
            file=sys.stderr,
        )


def open_for_reading(settings: Settings, *, build_all: bool = True) -> Store:
    """The store, whose reads never show a snapshot queued for a rebuild (after an upgrade
    whose migration queued them, a ``resolve --all`` or a run that stopped before building its
    own): a read through ``snapshot.lookup`` builds a queued profile first, alone. With
    ``build_all`` (a command that hands out every snapshot: ``export``) the whole queue is
    built before the store is returned; ``lookup`` passes ``False`` and builds only the
    profile it prints."""
    store = existing_store(settings)
    try:
        ctx = ingest_context(settings)
        remap_after_upgrade(store, ctx)  # its changed profiles are queued, so built below
        build_queued_on_read(store, ctx)
        if build_all and snapshots.is_queued_any(store.conn):
            drain_snapshots(store, ctx)
    except BaseException:
        store.close()
        raise
    return store


def remap_after_upgrade(store: Store, ctx: IngestContext) -> None:
    """Map the stored records a migration queued for it again with this release's mappers
    (``sync.remap``: after an upgrade that fixed a mapper, such as Zendesk staff that merged
    into customers), saying so first on stderr."""
    remap.remap_after_upgrade(store, ctx, lambda line: print(f"note: {line}", file=sys.stderr))


def existing_store(settings: Settings) -> Store:
    """The store, which must exist already: a command that only reads would otherwise create
    an empty database wherever a mistyped ``CONTEXT_SERVICE_DB`` points, and answer that there
    is no such customer."""
    if settings.db != ":memory:" and not Path(settings.db).exists():
        raise ConfigurationError(
            f"no store at {settings.db}: CONTEXT_SERVICE_DB names no database yet (check the "
            "path, or run `context-service sync`, `import` or `demo` first)"
        )
    return Store(settings.db)


def add_commands(sub: Any) -> None:
    """Register ``webhooks retry`` on the top-level subparsers."""
    hooks = sub.add_parser("webhooks", help="webhook deliveries: apply failed ones again")
    verbs = hooks.add_subparsers(dest="webhooks_command", required=True)
    p = verbs.add_parser(
        "retry",
        help="apply failed deliveries again (after an upgrade that fixed why they failed)",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--id",
        type=bounded(1, SQLITE_MAX_INT),
        action="append",
        dest="ids",
        metavar="N",
        help="delivery N; repeatable",
    )
    which.add_argument("--all-failed", action="store_true", help="every failed delivery")
    which.add_argument(
        "--all-rejected",
        action="store_true",
        help="every rejected (unreadable) delivery that still has its body: read it again "
        "(after an upgrade that reads its shape) and apply it",
    )
    p.add_argument("--source", default=None, help="only deliveries from this source")
    p.set_defaults(func=cmd_webhooks_retry)


def cmd_webhooks_retry(args: argparse.Namespace) -> int:
    """Make the chosen failed deliveries pending again and apply them (with whatever else is
    due), printing what happened to each; exit 1 unless every one was applied. A rejected
    (unreadable) delivery is read again first (``sync.webhooks.readmit_rejected``): one this
    version reads is applied, one still unreadable stays rejected with today's reason. One an
    erasure blanked is never retried: nothing of it is left to apply."""
    settings = load_settings()
    store = existing_store(settings)
    try:
        with vendor_client() as client:
            # A vendor that is busy leaves the delivery pending, said so, rather than holding
            # the operator's terminal for the minutes a sync run would wait.
            connectors = build_webhook_connectors(settings, client)
            return _retry(store, connectors, ingest_context(settings), args)
    finally:
        store.close()


def _retry(
    store: Store,
    connectors: Mapping[str, Connector],
    ctx: IngestContext,
    args: argparse.Namespace,
) -> int:
    """Retry the chosen deliveries; return the command's exit status."""
    if args.source is not None and args.source not in BUILTIN_SOURCES:
        known = ", ".join(sorted(BUILTIN_SOURCES))
        print(f"error: no webhook source {args.source!r}; one of {known}", file=sys.stderr)
        return 2
    if getattr(args, "all_rejected", False):  # a caller may build the namespace itself
        asked = inbox_store.rejected_ids(store.conn, args.source)
        if not asked:
            where = f" from {args.source}" if args.source else ""
            print(f"no rejected webhook deliveries{where} with a body to read again")
            return 0
    else:
        asked = list(dict.fromkeys(args.ids or inbox_store.failed_ids(store.conn, args.source)))
    found = inbox_store.outcomes(store.conn, asked)
    readmitted = _readmit(store, connectors, found, asked, args.source)
    if args.all_failed:  # one purged since it was listed (a serve worker's pruner) is left out
        blanked = [i for i in asked if i in found and _blanked(found[i])]
        asked = [i for i in asked if i in found and i not in blanked]
        if not asked:
            print(_nothing_failed(args.source, len(blanked)))
            return 0
    refused = {
        i: why
        for i in asked
        if i not in readmitted and (why := _why_not(found.get(i), args.source, connectors))
    }
    for inbox_id, why in refused.items():
        print(f"{_label(inbox_id, found.get(inbox_id))}: not retried: {why}")
    before = {i: found[i].error for i in asked if i not in refused and i not in readmitted}
    read_now = [i for i, what in readmitted.items() if what == "pending"]
    pending = _pending_counts(store, connectors) if before or read_now else 0
    with store.transaction() as conn:
        requeued = inbox_store.requeue(conn, list(before))
    if requeued or read_now:
        apply_pending(store, connectors, ctx, limit=pending + len(requeued))
    after = inbox_store.outcomes(store.conn, [*requeued, *readmitted])
    for inbox_id, what in readmitted.items():
        print(_readmitted_line(inbox_id, what, after.get(inbox_id)))
    for inbox_id, error in before.items():
        if inbox_id in requeued:
            print(_result_line(inbox_id, after.get(inbox_id), error))
        else:
            print(f"{_label(inbox_id, found[inbox_id])}: not retried: settled meanwhile")
    settled = [*requeued, *readmitted]
    applied = [i for i in settled if i in after and after[i].status == "applied"]
    return 0 if len(applied) == len(asked) else 1


def _readmit(
    store: Store,
    connectors: Mapping[str, Connector],
    found: Mapping[int, inbox_store.Outcome],
    asked: list[int],
    source: str | None,
) -> dict[int, str]:
    """Read the asked rejected deliveries again; what became of each (``readmit_rejected``).
    Those of another source than asked, blanked or of a source not configured here are left
    to ``_why_not`` to refuse."""
    done: dict[int, str] = {}
    for inbox_id in asked:
        row = found.get(inbox_id)
        if row is None or row.status != "rejected" or _blanked(row):
            continue
        if (source and row.source != source) or row.source not in connectors:
            continue
        done.update(readmit_rejected(store, connectors[row.source], [inbox_id]))
    return done


def _readmitted_line(inbox_id: int, what: str, row: inbox_store.Outcome | None) -> str:
    """What happened to one rejected delivery read again."""
    label = _label(inbox_id, row)
    if what == "duplicate":
        return f"{label}: applied already: the vendor sent the same event again since"
    if what == "rejected":
        why = row.error if row is not None else "unreadable"
        return f"{label}: still unreadable, stays rejected: {why}"
    if what == "pending" and row is not None:
        return f"{_result_line(inbox_id, row, None)} (read again: it had been rejected)"
    return f"{label}: not retried: it is {what}"


def _pending_counts(store: Store, connectors: Mapping[str, Connector]) -> int:
    """How many deliveries are pending already (a retry applies them too); raise
    ``ConfigurationError`` if a source of theirs is not configured here, as applying them
    would then mark them failed (a shell without the server's settings)."""
    pending = {
        source: n
        for (source, status), n in inbox_store.counts(store.conn).items()
        if status == "pending"
    }
    unconfigured = sorted(set(pending) - set(connectors))
    if unconfigured:
        raise ConfigurationError(
            f"deliveries from {', '.join(unconfigured)} are pending and applied with a retry, "
            "but not configured here (they would fail): run this with the server's settings"
        )
    return sum(pending.values())


def _blanked(row: inbox_store.Outcome) -> bool:
    """Whether an erasure blanked the delivery (nothing of it is left to apply)."""
    return row.error == BLANKED_BY_ERASURE or not row.has_body


def _why_not(
    row: inbox_store.Outcome | None, source: str | None, connectors: Mapping[str, Connector]
) -> str | None:
    """Why a delivery cannot be retried, or ``None`` when it can."""
    if row is None:
        return "no such delivery"
    if source and row.source != source:
        return f"it came from {row.source}, not {source}"
    if _blanked(row):
        return "blanked by an erasure, nothing of it is left to apply"
    if row.status not in {"failed", "rejected"}:
        return f"it is {row.status}, not failed or rejected"
    if row.source not in connectors:
        return f"{row.source} is not configured here (see 'Connecting sources' in the README)"
    return None


def _result_line(inbox_id: int, row: inbox_store.Outcome | None, was: str | None) -> str:
    """What happened to one retried delivery, and why it had failed."""
    label = _label(inbox_id, row)
    had = f" (it had failed: {was})" if was else ""
    if row is None:
        return f"{label}: gone (deleted meanwhile)"
    if row.status == "applied":
        note = f"; note: {row.error}" if row.error else ""
        return f"{label}: applied{had}{note}"
    if row.status == "pending":
        due = f" once due ({row.next_attempt_at})" if row.next_attempt_at else ""
        return (
            f"{label}: still pending, the vendor could not be asked: {row.error}; the server "
            f"applies it on a pass{due} (after each delivery, and at start-up)"
        )
    return f"{label}: {row.status} again: {row.error}"


def _label(inbox_id: int, row: inbox_store.Outcome | None) -> str:
    return f"#{inbox_id}" if row is None else f"#{inbox_id} {row.source} {row.topic}"


def _nothing_failed(source: str | None, blanked: int) -> str:
    where = f" from {source}" if source else ""
    left = f" ({blanked} blanked by an erasure: nothing left to apply)" if blanked else ""
    return f"no failed webhook deliveries{where} to retry{left}"
