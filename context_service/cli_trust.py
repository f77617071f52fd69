"""The trust commands of ``context-service``: ``keys``, ``erase``, ``audit``, ``data-requests``
and ``doctor``.

``keys create`` prints the new key once; only its hash is stored. ``erase`` forgets a person
for good (see ``trust.erasure``); ``audit`` lists recorded reads; ``data-requests`` lists the
people's requests for their data that a vendor passed on (Shopify ``customers/data_request``),
with the profile to export, writes one's answer to a file and marks one answered; ``doctor``
checks the configuration and prints what is wrong in plain words, never a secret.
``record_reads`` and ``AuditedToolBox`` put the reads of local callers (exports, widget links,
``context-service mcp``) in the read audit, as the HTTP app does for API keys.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from context_service.audience import FieldPolicy
from context_service.audience.policy import AUDIENCES, FIELDS, FULL
from context_service.cli_identity import SQLITE_MAX_INT, bounded
from context_service.cli_output import private_output, refused_output
from context_service.errors import AmbiguousIdentifier, ConfigurationError, visible
from context_service.export import subject_document
from context_service.handoff import NotePoster
from context_service.identity.pairs import Thresholds
from context_service.settings import load_settings, parsed_settings, setting_problems
from context_service.store import Store, access_requests
from context_service.sync import utc_now
from context_service.sync.status import open_access_requests
from context_service.tools import ToolBox, tool_named
from context_service.tools.service import (
    decode_arguments,
    find_matches,
    find_stored_for_a_model,
    for_a_model,
    matches_text,
)
from context_service.tools.typed import typed_details
from context_service.trust import (
    SCOPES,
    KeySpec,
    Known,
    Read,
    ReadAudit,
    create_key,
    list_keys,
    reads_of,
    revoke_key,
)

if TYPE_CHECKING:
    from context_service.doctor import Finding
from context_service.trust.audit import cutoff, purge

KNOWN = Known(audiences=frozenset({*AUDIENCES, FULL}), fields=FIELDS)


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def cmd_keys_create(args: argparse.Namespace) -> int:
    """Create a scoped key and print it once. An empty ``--audiences`` (a script's unset
    variable) is refused: left out, it would mean every audience."""
    if args.audiences is not None and not _split(args.audiences):
        print(
            "error: --audiences names no audience; leave it out for every audience",
            file=sys.stderr,
        )
        return 2
    spec = KeySpec(
        name=args.name,
        scopes=_split(args.scopes),
        audiences=None if args.audiences is None else _split(args.audiences),
        hide=_split(args.hide),
        trusted_backend=args.trusted_backend,
        rate_per_minute=args.rate_per_minute,
    )
    store = Store(load_settings().db)
    try:
        new = create_key(store, spec, utc_now(), KNOWN)
    finally:
        store.close()
    print(new.key)
    print(
        f"created key {new.info.name!r} (scopes {', '.join(new.info.scopes)}); it is shown "
        "once and only its hash is stored",
        file=sys.stderr,
    )
    return 0


def cmd_keys_list(_args: argparse.Namespace) -> int:
    """Print every stored key: name, scopes, limits, created, last used, revoked."""
    from context_service.cli_runs import existing_store

    store = existing_store(load_settings())  # a mistyped path is no empty key table
    try:
        keys = list_keys(store.conn)
    finally:
        store.close()
    if not keys:
        print("no scoped keys; create one with 'context-service keys create'")
    for k in keys:
        limits = f" audiences={','.join(k.audiences)}" if k.audiences is not None else ""
        limits += f" hide={','.join(k.hide)}" if k.hide else ""
        limits += " trusted-backend" if k.trusted_backend else ""
        # Its own limit (``keys create --rate-per-minute``); without one, the server's applies.
        limits += f" rate-per-minute={k.rate_per_minute}" if k.rate_per_minute else ""
        state = f"revoked {k.revoked_at}" if k.revoked_at else "live"
        print(
            f"{k.name}  scopes={','.join(k.scopes)}{limits}  created {k.created_at}  "
            f"last used {k.last_used_at or 'never'}  {state}"
        )
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    """Revoke a key by name, at once."""
    from context_service.cli_runs import existing_store

    store = existing_store(load_settings())  # a mistyped path is no empty key table
    try:
        revoked = revoke_key(store, args.name, utc_now())
    finally:
        store.close()
    if not revoked:
        print(f"error: no live key named {args.name!r}", file=sys.stderr)
        return 1
    print(f"revoked {args.name}")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase one person and print what was removed (counts only)."""
    from context_service.trust.erasure import erase_profile
    from context_service.wiring import ingest_context

    settings = load_settings()
    ctx = ingest_context(settings)
    from context_service.cli_runs import existing_store

    store = existing_store(settings)  # a mistyped path erases nobody and creates nothing
    try:
        report = erase_profile(
            store,
            args.profile_id,
            requested_by="cli",
            reason=args.reason,
            now=utc_now(),
            region=ctx.region,
            links=ctx.links,
            thresholds=ctx.thresholds,
            vacuum=not args.no_vacuum,
        )
    finally:
        store.close()
    print(
        f"erased {', '.join(report.profile_ids)} ({report.erasure_id}): {report.records} records, "
        f"{report.inbox_scrubbed} webhook bodies, {report.rejected_records} rejected payloads, "
        f"{report.audit_rows} audit rows anonymized; {report.suppressed} identifiers suppressed"
    )
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Print recorded reads, newest first; ``--purge`` applies the retention now. A
    ``--profile-id`` that is no profile id is refused (exit 2), as ``profiles audit`` does;
    when nothing was read, it says so."""
    from context_service.cli_runs import existing_store
    from context_service.identity.audit import check_profile_id

    if args.profile_id is not None:
        check_profile_id(args.profile_id)
    settings = load_settings()
    store = existing_store(settings)
    try:
        if args.purge:
            from datetime import UTC, datetime

            if settings.audit_retention_days <= 0:
                print("audit retention is 0 days (keep forever): nothing purged")
            else:
                before = cutoff(datetime.now(UTC), settings.audit_retention_days)
                with store.transaction() as conn:
                    print(f"purged {purge(conn, before)} reads older than {before}")
        reads = reads_of(store.conn, args.profile_id, args.limit)
        for e in reads:
            mode = "verified" if e.verified else "unverified"
            print(f"{e.at}  {e.key_name}  {e.profile_id}  {e.audience}  {mode}  {e.channel}")
        if not reads:
            of = f" of {args.profile_id}" if args.profile_id else ""
            print(f"no reads{of} recorded")
    finally:
        store.close()
    return 0


def record_reads(store: Store, retention_days: int, reads: Iterable[Read]) -> None:
    """Write these reads of a local caller to the read audit now (no buffer: a command ends)."""
    ReadAudit(store, retention_days, time.time).record(reads)


def record_export(store: Store, retention_days: int) -> None:
    """Record a CLI export as a read of every profile it wrote."""
    ids = [str(r[0]) for r in store.conn.execute("SELECT id FROM profiles")]
    record_reads(
        store,
        retention_days,
        (Read("cli", profile_id, "full", True, "export") for profile_id in ids),
    )


_TOOL_AUDIENCE = {"create_escalation": "escalation"}  # the others answer for the chatbot


class AuditedToolBox(ToolBox):
    """The tools for a trusted local caller (``context-service mcp`` over stdio): each answered
    call is recorded in the read audit as ``who``, with the channel ``tool:<name>``, as
    ``api.guarded_tools.GuardedToolBox`` records the calls of an API key."""

    def __init__(
        self,
        store: Store,
        region: str,
        policy: FieldPolicy | None = None,
        notes: NotePoster | None = None,
        *,
        who: str,
        retention_days: int,
        thresholds: Thresholds | None = None,
    ) -> None:
        super().__init__(store.conn, region, policy, notes, thresholds=thresholds)
        self.store, self.who, self.retention_days = store, who, retention_days

    def call(self, name: str, arguments: Mapping[str, Any] | None, key: str | None = None) -> str:
        """Run tool ``name``, then record the read of each profile it answered about: every
        match ``find_customer`` names (a ``low`` one too, shown without its id), else the one
        customer its arguments name. A detail pasted with a zero-width or bidi mark is read
        without it (``tools.typed``), as over HTTP."""
        if isinstance(arguments, Mapping):
            arguments = typed_details(arguments)
        spec = tool_named(name)
        if name == "find_customer" and spec is not None:
            try:
                found = find_matches(self, arguments, key)
            except AmbiguousIdentifier as exc:
                raise for_a_model(exc, self.views(name, key)) from None
            self._record(name, [match.profile_id for match in found if match.profile_id])
            return matches_text(found)
        result = super().call(name, arguments, key)
        if spec is not None:  # else the call above has raised already
            args = decode_arguments(spec, arguments)
            stored = find_stored_for_a_model(self.conn, args, self.region)
            self._record(name, [stored.profile_id])
        return result

    def _record(self, name: str, profile_ids: list[str]) -> None:
        audience = _TOOL_AUDIENCE.get(name, "chatbot")
        reads = [Read(self.who, p, audience, True, f"tool:{name}") for p in profile_ids]
        record_reads(self.store, self.retention_days, reads)


def cmd_doctor(_args: argparse.Namespace) -> int:
    """Check the configuration; exit 1 when something is wrong."""
    from context_service.doctor import Finding, diagnose
    from context_service.wiring import configured_sources

    # Unknown variables and values of the wrong type are problems (such a value is checked as
    # its default), values that cannot work too, and every other check still runs, so one
    # problem does not hide the next; only the vendors are not asked (they would say so again).
    try:
        settings, unreadable = parsed_settings()
    except ConfigurationError as exc:  # a settings file that cannot be read at all
        problems = exc.extra.get("problems") or [exc.detail]
        return _report([Finding("problem", str(problem)) for problem in problems])
    bad = [Finding("problem", p) for p in [*unreadable, *setting_problems(settings)]]
    found = diagnose(settings, configured_sources(settings), network=not bad)
    return _report([*bad, *found])


def _report(findings: list[Finding]) -> int:
    """Print ``doctor``'s findings and its verdict; 1 when any is a problem."""
    for finding in findings:
        print(finding.line())
    problems = sum(f.level == "problem" for f in findings)
    print(f"{problems} problem(s)" if problems else "no problems found")
    return 1 if problems else 0


def access_request_line(r: dict[str, Any]) -> str:
    """One open request for a person's data, and what to export to answer it."""
    held = r["profile_id"]
    answer = f"export GET /v1/profiles/{held}/export" if held else "nothing stored about them"
    records = ", ".join(f"{kind} {ext}" for kind, ext in r["records"]) or "none"
    return visible(  # every part but the profile id is what the vendor's webhook said
        f"data request {r['request_id'] or '(no id)'} from {r['account'] or '?'} received "
        f"{r['received_at']}: {r['kind']} {r['external_id']} ({r['email'] or 'no email'}), "
        f"records requested: {records}; {answer}"
    )


def export_request(store: Store, number: int, path: Path, retention_days: int) -> int:
    """Write what is held about the person of open request ``number`` to ``path``, a JSON file
    readable by its owner only; record it as a read of the profile. Exit status 1 when there
    is no such open request, 2 when the file cannot be written (nothing is recorded then)."""
    request = next((r for r in open_access_requests(store.conn) if r["id"] == number), None)
    if request is None:
        print(f"no open data request #{number}", file=sys.stderr)
        return 1
    held = request["profile_id"]
    if held is None:
        print(f"data request #{number}: nothing stored about them, so there is nothing to send")
        return 0
    document = {"data_request": request, "held": subject_document(store, held)}
    try:
        # Everything held about the person, raw payloads included: a new file of mode 600
        # renamed over ``path``, so a file that was there (readable by others) keeps nothing.
        with private_output(str(path)) as f:
            f.write(msgspec.json.format(msgspec.json.encode(document)).decode())
    except OSError as exc:
        print(f"error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    ReadAudit(store, retention_days, time.time).record(
        [Read("cli", held, "full", True, "subject-export")]
    )
    records = len(document["held"]["records"])
    print(
        f"data request #{number}: wrote {path} ({records} records of profile {held}); "
        f"send it to the shop owner, then: context-service data-requests --answered {number}"
    )
    return 0


def cmd_data_requests(args: argparse.Namespace) -> int:
    """List the open requests for a person's data, write one's answer (``--export N``), or mark
    one answered (``--answered N``). An export builds the queued snapshots first
    (``cli_runs.open_for_reading``), so the snapshot it writes is the current one."""
    from context_service.cli_runs import existing_store, open_for_reading

    if args.out is not None and args.export is None:
        print("error: --out names where --export N writes; give --export N", file=sys.stderr)
        return 2
    settings = load_settings()
    if args.export is not None:
        out = args.out or Path(f"data-request-{args.export}.json")
        if refused := refused_output(str(out), settings.db):  # before the store is opened
            print(f"error: --out {refused}", file=sys.stderr)
            return 2
    store = open_for_reading(settings) if args.export is not None else existing_store(settings)
    try:
        if args.export is not None:
            return export_request(store, args.export, out, settings.audit_retention_days)
        if args.answered is not None:
            with store.transaction() as conn:
                done = access_requests.answer(conn, args.answered, utc_now())
            if not done:
                print(f"no open data request #{args.answered}", file=sys.stderr)
                return 1
            print(f"data request #{args.answered} marked answered")
            return 0
        found = open_access_requests(store.conn)
        for request in found:
            print(f"#{request['id']} {request['source']} {access_request_line(request)}")
        if not found:
            print("no open data requests")
    finally:
        store.close()
    return 0


def add_commands(sub: Any) -> None:
    """Register ``keys``, ``erase``, ``audit``, ``data-requests`` and ``doctor``."""
    p = sub.add_parser(
        "data-requests",
        help="list people's requests for their data passed on by a vendor, or mark one answered",
    )
    action = p.add_mutually_exclusive_group()
    request_number = bounded(1, SQLITE_MAX_INT)
    action.add_argument(
        "--answered",
        type=request_number,
        default=None,
        metavar="N",
        help="mark request #N answered",
    )
    action.add_argument(
        "--export",
        type=request_number,
        default=None,
        metavar="N",
        help="write everything held about the person of request #N to a JSON file (mode 600)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="where --export writes (data-request-N.json)"
    )
    p.set_defaults(func=cmd_data_requests)
    keys = sub.add_parser("keys", help="create, list and revoke scoped API keys")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    p = ksub.add_parser("create", help="create a key and print it once")
    p.add_argument("--name", required=True, help="a unique name (shown in the read audit)")
    p.add_argument("--scopes", required=True, help=f"comma-separated: {', '.join(SCOPES)}")
    p.add_argument(
        "--audiences",
        default=None,
        help=f"comma-separated audiences it may ask for: {', '.join((*AUDIENCES, FULL))}",
    )
    p.add_argument(
        "--hide",
        default=None,
        help=f"comma-separated fields hidden from it: {', '.join(sorted(FIELDS))}",
    )
    p.add_argument(
        "--trusted-backend",
        action="store_true",
        help="full chatbot context without end-user verification (server-side callers only)",
    )
    p.add_argument(
        "--rate-per-minute",
        type=bounded(1, SQLITE_MAX_INT),
        default=None,
        help="its own rate limit",
    )
    p.set_defaults(func=cmd_keys_create)
    p = ksub.add_parser("list", help="name, scopes, limits, created, last used, revoked")
    p.set_defaults(func=cmd_keys_list)
    p = ksub.add_parser("revoke", help="revoke a key at once")
    p.add_argument("name")
    p.set_defaults(func=cmd_keys_revoke)
    p = sub.add_parser("erase", help="erase a person from every table and suppress them")
    p.add_argument("profile_id", help="the profile id (or an alias)")
    p.add_argument("--reason", default="erasure request", help="recorded with the erasure")
    p.add_argument("--no-vacuum", action="store_true", help="skip VACUUM (faster, see README)")
    p.set_defaults(func=cmd_erase)
    p = sub.add_parser("audit", help="list recorded reads (who read which customer, when)")
    p.add_argument("--profile-id", default=None, help="only reads of this profile")
    p.add_argument(
        "--limit",
        type=bounded(1, SQLITE_MAX_INT),
        default=100,
        help="at most this many (default 100)",
    )
    p.add_argument("--purge", action="store_true", help="delete reads past the retention first")
    p.set_defaults(func=cmd_audit)
    p = sub.add_parser("doctor", help="check the configuration and say what is wrong")
    p.set_defaults(func=cmd_doctor)
