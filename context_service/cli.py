"""The ``context-service`` command: every sub-command, its arguments and its exit codes.

Settings come from ``CONTEXT_SERVICE_*`` variables (see the README); integrations are wired in
through ``wiring.py`` (``api/app.py`` and ``doctor.py`` are the only other importers of them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence
from typing import Any

from context_service.cli_identity import SQLITE_MAX_INT, bounded, name_subcommands
from context_service.cli_identity import add_commands as add_identity_commands
from context_service.cli_import import add_import_parser
from context_service.cli_records import add_commands as add_record_commands
from context_service.cli_runs import (
    Terminated,
    existing_store,
    hint_if_empty,
    open_for_reading,
    refuse_unlistenable,
    remap_after_upgrade,
    sigterm_stops_the_run,
)
from context_service.cli_runs import add_commands as add_run_commands
from context_service.cli_trust import access_request_line, record_export
from context_service.cli_trust import add_commands as add_trust_commands
from context_service.cli_widget import cmd_widget_url, demo_widget_url, local_base_url
from context_service.errors import ContextServiceError, visible
from context_service.settings import (
    WIDGET_TTL_RANGE,
    Settings,
    load_settings,
    to_environ,
)
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.store.db import BUSY_TIMEOUT_MS, is_busy
from context_service.sync import IngestReport, RawPayload, ingest_all
from context_service.wiring import ingest_context, vendor_client

DESCRIPTION = (
    "Customer context service: serve the API, load the demo, sync and import sources, "
    "resolve identities, manage keys. Settings come from CONTEXT_SERVICE_* variables "
    "(the database is CONTEXT_SERVICE_DB, default ./context.db; make demo uses demo.db)."
)

DEMO_LINKS = {
    "shopify_shop": "context-demo",
    "hubspot_portal_id": "4242424",
    "zendesk_subdomain": "context-demo",
}


def load_demo(store: Store, settings: Settings, customers: int = 1000) -> IngestReport:
    """Generate the demo payloads and ingest them through the real mapping and resolution path."""
    from rich.progress import Progress

    from context_service.demo import generate_demo

    payloads = (RawPayload(p.source, p.kind, p.payload) for p in generate_demo(customers))
    with Progress(transient=True) as progress:
        task = progress.add_task("Loading demo data", total=None)
        return ingest_all(
            store, payloads, ingest_context(settings), progress=lambda n: progress.advance(task, n)
        )


WORKER_STOP_SECONDS = 15  # how long a stopping worker may take before it is killed


def serve(settings: Settings) -> None:
    """Serve the HTTP API with granian on the configured host, port and worker count.

    The server process builds the app from ``CONTEXT_SERVICE_*`` variables, so the settings
    (including any made up here, such as the demo key) are exported to the environment first.
    On SIGTERM each worker finishes its requests; one still busy after 15 seconds (a client
    stalling its request body) is killed, so a stop never hangs.
    """
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    refuse_unlistenable(settings.host, settings.port)
    os.environ.update(to_environ(settings))
    Granian(
        "context_service.api.app:app_from_env",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=settings.workers,
        log_level=LogLevels(settings.log_level.lower()),
        log_access=False,
        workers_kill_timeout=WORKER_STOP_SECONDS,
    ).serve()


def cmd_serve(args: argparse.Namespace) -> int:
    from context_service.doctor import check_start

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = load_settings(given_as={"host": "--host"} if args.host else None, **overrides)
    check_start(settings)  # what each worker's app would refuse: refused here, once
    refuse_unlistenable(settings.host, settings.port)  # before a remap that may take a while
    store = Store(settings.db)
    try:  # here, once, not in each worker the server starts
        remap_after_upgrade(store, ingest_context(settings))
    finally:
        store.close()
    serve(settings)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from context_service.doctor import check_start

    # --port wins; without it CONTEXT_SERVICE_PORT (default 8000) applies, as for serve.
    port = {"port": args.port} if args.port is not None else {}
    settings = load_settings(**port, **_demo_overrides())
    if not settings.api_keys:
        settings = load_settings(
            **port, api_keys=["demo-" + secrets.token_urlsafe(18)], **_demo_overrides()
        )
    check_start(settings)  # as ``serve`` does, before minutes of loading
    refuse_unlistenable(settings.host, settings.port)  # before minutes of loading, not after
    store = Store(settings.db)
    if store.conn.execute("SELECT count(*) FROM records").fetchone()[0] == 0:
        print(f"Loading demo data into {settings.db} ...", flush=True)
        report = load_demo(store, settings, args.customers)
        print(
            f"Loaded {report.seen} payloads, {report.rejected} rejected; "
            f"{store.conn.execute('SELECT count(*) FROM profiles').fetchone()[0]} profiles."
        )
    else:
        print(f"{settings.db} already holds data; serving it as it is.")
        remap_after_upgrade(store, ingest_context(settings))
    _print_examples(settings, store)
    store.close()
    serve(settings)
    return 0


def _demo_overrides() -> dict[str, Any]:
    current = load_settings()
    return {k: v for k, v in DEMO_LINKS.items() if getattr(current, k) is None}


def _print_examples(settings: Settings, store: Store) -> None:
    base = local_base_url(settings.host, settings.port)
    key = settings.api_keys[0]
    print(f"\nAPI key: {key}\n\nTry:")
    auth = f"curl -H 'Authorization: Bearer {key}'"
    print(f"  {auth} '{base}/v1/context?email=maya.patel@example.com'")
    print(f"  {auth} '{base}/v1/context?phone=%2B14155550134&format=text'")
    print(f"  {auth} '{base}/v1/context?email=info@silvacosta.example'")
    print(f"\nOpenAPI: {base}/schema/openapi.json   Health: {base}/health")
    print(f"Tools: {base}/v1/tools/openai   MCP (streamable HTTP): {base}/mcp")
    widget = demo_widget_url(settings, store)
    if widget is not None:
        print(f"Sidebar widget for Maya Patel (link valid 1 h):\n  {widget}\n", flush=True)


def cmd_lookup(args: argparse.Namespace) -> int:
    settings = load_settings()
    store = open_for_reading(settings, build_all=False)  # builds the profile shown, if queued
    try:
        stored = lookup.by_email(store.conn, args.email)
    except ContextServiceError as exc:
        print(f"{exc.title}: {visible(exc.detail)}", file=sys.stderr)
        for cand in exc.extra.get("candidates", []):
            line = f"  {cand['profile_id']}  {cand['name']}  ({cand['why']})"
            print(visible(line), file=sys.stderr)  # a name is whatever a customer typed
        hint_if_empty(store, settings)
        return 1
    print(stored.text, end="")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from context_service.sync import run_sync
    from context_service.wiring import build_connectors, missing_sync_settings

    settings = load_settings()
    with vendor_client() as client:
        connector = build_connectors(settings, client).get(args.source)
        # A webhook secret alone builds a connector, but no run could read the API: refused
        # before the store is opened, so nothing starts and no failed run is recorded.
        if connector is None or missing_sync_settings(settings, args.source):
            print(f"error: {_not_configured(settings, args.source)}", file=sys.stderr)
            return 2
        store = Store(settings.db)
        try:
            remap_after_upgrade(store, ingest_context(settings))
            with _progress() as progress:
                tasks: dict[str, Any] = {}

                def advance(stream: str, n: int) -> None:
                    if stream not in tasks:
                        tasks[stream] = progress.add_task(f"{args.source} {stream}", total=None)
                    progress.advance(tasks[stream], n)

                with sigterm_stops_the_run():
                    outcome = run_sync(
                        store,
                        connector,
                        ingest_context(settings),
                        full=args.full,
                        progress=advance,
                        force=args.force,
                    )
        except KeyboardInterrupt:  # the runner has recorded the run as failed
            print(f"error: stopped by Ctrl-C{RESUMES}", file=sys.stderr)
            return 128 + signal.SIGINT
        finally:  # the checkpointer stops and the WAL is copied into the file, as at any exit
            store.close()
    if outcome.refused:  # another run of the source is live: nothing started or recorded
        print(f"error: {visible(outcome.error or 'not started')}", file=sys.stderr)
        return 1
    report = outcome.report
    print(
        f"{args.source} {outcome.mode} sync {outcome.status}: {outcome.pages} pages, "
        f"{report.seen} records ({report.inserted} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.stale} stale, {report.rejected} rejected, "
        f"{report.suppressed} suppressed as erased), "
        f"{report.profiles_changed} profiles rebuilt"
    )
    # Notes, rejected ids and reasons, and errors hold what a vendor sent: escaped, so that
    # none of it can move the cursor or forge a line on the operator's terminal.
    for note in outcome.notes:
        print(f"note: {visible(note)}")
    for rejection in report.rejections[:20]:
        print(visible(f"rejected {rejection.kind} {rejection.external_id}: {rejection.reason}"))
    if outcome.error:
        print(f"error: {visible(outcome.error)}{RESUMES}", file=sys.stderr)
    return 0 if outcome.status == "ok" else 1


RESUMES = " (the run is recorded as failed; the next run resumes from the last committed page)"


def _not_configured(settings: Settings, source: str) -> str:
    """Why ``source`` cannot sync: the settings it still needs, by name."""
    from context_service.wiring import missing_sync_settings

    missing = missing_sync_settings(settings, source)
    unset = f": set {', '.join(missing)}" if missing else ""
    return (
        f"{source} is not configured{unset}; see 'Connecting sources' in the README for "
        "the settings it needs"
    )


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
    )


def cmd_resolve(args: argparse.Namespace) -> int:
    from context_service.sync.rebuild import resolve_all

    settings = load_settings()
    store = existing_store(settings)  # a mistyped path has nothing to resolve
    ctx = ingest_context(settings)
    remap_after_upgrade(store, ctx)  # resolve what this release maps
    started = time.perf_counter()
    report = resolve_all(store, ctx, retrain=args.train)
    elapsed = time.perf_counter() - started
    if report.training is not None:
        t = report.training
        print(
            f"trained on {t.records} records: {t.blocked_pairs} blocked pairs, "
            f"{t.match_share:.1%} of them matches, prior 1 in {1 / t.prior:,.0f}"
        )
    print(
        f"resolved {report.records} person records in {elapsed:.1f} s: "
        f"{report.profiles_before} profiles before, {report.profiles_after} after, "
        f"{report.profiles_changed} changed, {report.open_reviews} open review items"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from context_service.cli_output import private_output, refused_output
    from context_service.export import read_transaction, write_export

    settings = load_settings()
    to_file = args.output not in (None, "-")
    if to_file and (refused := refused_output(args.output, str(settings.db))) is not None:
        print(f"error: --output {refused}", file=sys.stderr)
        return 2
    try:
        with contextlib.ExitStack() as stack:
            # The file is opened before the store: an output that cannot be written reads
            # nobody's data and leaves no audit row. Only its owner may read it (it holds every
            # customer's contact details), and it appears whole or not at all.
            out = stack.enter_context(private_output(args.output)) if to_file else sys.stdout
            store = open_for_reading(settings)
            with read_transaction(store.conn):  # the profiles as at one moment, audit included
                try:
                    count = write_export(store.conn, out, args.format)
                finally:
                    # An export is a read of everyone, also when its reader stopped early
                    # (``| head``).
                    record_export(store, settings.audit_retention_days)
    except OSError as exc:
        if not to_file:
            raise  # stdout: a reader that went away is handled by ``main``
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"exported {count} profiles as {args.format}", file=sys.stderr)
    return 0


def _counts(by_status: dict[str, int]) -> str:
    """``applied 3, failed 1`` (or ``none``): a source's webhook inbox by status."""
    return ", ".join(f"{status} {n}" for status, n in sorted(by_status.items())) or "none"


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from context_service.sync.status import sync_status

    settings = load_settings()
    store = existing_store(settings)  # a mistyped path is no empty store
    from context_service.wiring import configured_sources

    configured = configured_sources(settings)
    status = sync_status(store, configured)
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    if not status:
        print("no source configured or synced yet")
    for source, info in status.items():
        run = info["last_run"] or {}
        last = (
            f"last run {run['started_at']} {run['mode']} {run['status']}"
            if run
            else "no run recorded"
        )
        print(
            f"{source}: {last}; records {info['records']}, rejected "
            f"{info['records_rejected']}; webhooks {_counts(info['webhooks'])}"
        )
        if info["webhooks_failed"]:
            print(
                f"  {info['webhooks_failed']} failed webhook deliveries: "
                f"`context-service webhooks retry --source {source} --all-failed` applies them"
            )
        if run.get("note"):
            print(f"  {visible(run['note'])}")
        if run.get("error"):
            print(f"  last error: {visible(run['error'])}")
        for stream, cursor in sorted(info["cursors"].items()):
            print(f"  cursor {visible(stream)}: {visible(str(cursor))}")
        for request in info["access_requests"]:
            print(f"  {access_request_line(request)}")
    return 0


def cmd_mcp(_args: argparse.Namespace) -> int:
    """Serve the tools over MCP on stdio until the client closes it.

    Whoever starts this process can read the database file, so it runs as a trusted local
    caller (like ``lookup``): the audience rules of ``CONTEXT_SERVICE_FIELD_POLICY`` apply,
    escalation notes go to Zendesk when it is configured, and every answered call is recorded
    in the read audit as ``mcp-stdio``.
    """
    from context_service.api.app import build_note_poster
    from context_service.audience import load_policy
    from context_service.cli_trust import AuditedToolBox
    from context_service.identity.pairs import Thresholds
    from context_service.mcp_server import build_mcp_server

    settings = load_settings()
    store = open_for_reading(settings, build_all=False)  # tools build what they read, if queued
    client = vendor_client()
    try:
        policy = load_policy(settings.field_policy)
        notes = build_note_poster(settings, client)
        toolbox = AuditedToolBox(
            store,
            settings.default_region,
            policy,
            notes,
            who="mcp-stdio",
            retention_days=settings.audit_retention_days,
            thresholds=Thresholds(
                link=settings.identity_link_threshold, review=settings.identity_review_threshold
            ),
        )
        build_mcp_server(toolbox).run("stdio")
    finally:
        client.close()
        store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every command is documented in the README (a test checks)."""
    parser = argparse.ArgumentParser(prog="context-service", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve the HTTP API")
    p.add_argument("--host", default=None, help="bind address (default CONTEXT_SERVICE_HOST)")
    p.add_argument(
        "--port", type=bounded(1, 65535), default=None, help="port (default CONTEXT_SERVICE_PORT)"
    )
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("demo", help="load the demo data if the database is empty, then serve")
    p.add_argument(
        "--port",
        type=bounded(1, 65535),
        default=None,
        help="port to serve on (default CONTEXT_SERVICE_PORT)",
    )
    p.add_argument(
        "--customers",
        type=bounded(0, SQLITE_MAX_INT),
        default=1000,
        help="synthetic customers to generate (default 1000)",
    )
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("sync", help="sync a source from its API (resumes from its cursor)")
    p.add_argument("source", choices=["shopify", "stripe", "hubspot", "zendesk"])
    p.add_argument("--full", action="store_true", help="ignore cursors: full backfill")
    p.add_argument(
        "--force",
        action="store_true",
        help="start even though a run of this source still looks alive (one killed in another "
        "container keeps looking alive for up to an hour)",
    )
    p.set_defaults(func=cmd_sync)
    add_import_parser(sub)
    p = sub.add_parser("resolve", help="re-resolve every person record from the stored data")
    p.add_argument("--all", action="store_true", required=True, help="every record (required)")
    p.add_argument("--train", action="store_true", help="estimate the match model first")
    p.set_defaults(func=cmd_resolve)
    p = sub.add_parser("export", help="write every profile (members and identity) as JSONL or CSV")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="default jsonl")
    p.add_argument("--output", default=None, help="file to write (default: standard output)")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("status", help="per-source sync status: last run, cursors, counts")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("lookup", help="print the text snapshot of the customer with this email")
    p.add_argument("email")
    p.set_defaults(func=cmd_lookup)
    p = sub.add_parser("widget-url", help="print a signed, short-lived sidebar widget link")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="the customer's email")
    who.add_argument("--phone", help="the customer's phone number")
    p.add_argument("--base-url", default=None, help="where the service is reachable")
    p.add_argument(
        "--ttl",
        type=bounded(*WIDGET_TTL_RANGE),
        default=None,
        help=f"seconds the link stays valid, {WIDGET_TTL_RANGE[0]} to {WIDGET_TTL_RANGE[1]} "
        "(default CONTEXT_SERVICE_WIDGET_TTL_SECONDS)",
    )
    p.set_defaults(func=cmd_widget_url)
    p = sub.add_parser("mcp", help="serve the tools over MCP on stdio (for desktop agents)")
    p.set_defaults(func=cmd_mcp)
    for add_commands in (
        add_identity_commands,  # profiles audit|merge|split, review list|accept|reject
        add_record_commands,  # rejected [--clear]
        add_trust_commands,  # keys create|list|revoke, erase, audit, doctor
        add_run_commands,  # webhooks retry
    ):
        add_commands(sub)
    name_subcommands(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``context-service`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ContextServiceError as exc:
        for line in _error_lines(exc):
            print(f"error: {visible(line)}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:
        return _database_error(exc)
    except KeyboardInterrupt:
        print("error: stopped by Ctrl-C", file=sys.stderr)
        return 128 + signal.SIGINT
    except Terminated:
        print("error: stopped by SIGTERM (the run is recorded as failed)", file=sys.stderr)
        return 128 + signal.SIGTERM
    except BrokenPipeError:
        # The reader went away (``context-service export | head``): stop quietly, like cat.
        _detach_stdout()
        return 1


def _database_error(exc: sqlite3.DatabaseError) -> int:
    """Print what stopped the command in the database and return the exit status: 1 when
    another process held the write lock too long (nothing is wrong with the file; run it
    again), 2 for the file itself. A constraint or an SQL error is a bug: raised again."""
    if is_busy(exc):
        print(f"error: {_busy_database()}", file=sys.stderr)
        return 1
    # A file that is no database, one the user cannot write, a full disk: a clear line
    # naming the file, not a traceback.
    if not _file_problem(exc):
        raise exc
    print(f"error: {_database_problem(exc)}", file=sys.stderr)
    return 2


def _file_problem(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite failed because of the file (not a database, read-only, disk full:
    ``OperationalError`` or the bare ``DatabaseError``), not because of a query."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


def _database_problem(exc: sqlite3.DatabaseError) -> str:
    """What went wrong with the database, naming the file ``CONTEXT_SERVICE_DB`` names."""
    return (
        f"the database {_db_named()} cannot be used: {visible(str(exc))} (check "
        "CONTEXT_SERVICE_DB, the file's permissions and the free disk space)"
    )


def _busy_database() -> str:
    """What to say when another process held the database's write lock past the timeout."""
    return (
        f"the database {_db_named()} is busy: another process (a resolve --all, an erase, an "
        f"import or a sync) held its write lock for over {BUSY_TIMEOUT_MS // 1000} s; run "
        "this again once it is done"
    )


def _db_named() -> str:
    """The database file ``CONTEXT_SERVICE_DB`` names, for an error line."""
    try:
        return load_settings(check=False).db
    except ContextServiceError:
        return "named by CONTEXT_SERVICE_DB"


def _error_lines(exc: ContextServiceError) -> list[str]:
    """What to print for an error, one problem a line: the ``problems`` it carries (every bad
    setting ``settings.check_settings`` found), else its detail."""
    problems = exc.extra.get("problems")
    if isinstance(problems, list) and problems and all(isinstance(p, str) for p in problems):
        return problems
    return [exc.detail]


def _detach_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush raises nothing more."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's capture): nothing left to flush
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
