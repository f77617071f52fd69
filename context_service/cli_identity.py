"""``context-service profiles`` and ``context-service review``: audit and control from the shell.

The same decisions as the HTTP API (``api/profiles.py``), recorded as ``cli:$USER``::

    context-service profiles audit PROFILE_ID [--json]
    context-service profiles merge PROFILE_ID PROFILE_ID [...] [--note TEXT]
    context-service profiles split PROFILE_ID --record SOURCE:KIND:EXTERNAL_ID [...] [--note TEXT]
    context-service review list [--status open|accepted|rejected] [--limit N]
        [--offset N | --after ID] [--json]
    context-service review accept|reject ITEM_ID [--note TEXT] [--revision R]
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sqlite3
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any

import msgspec

from context_service.errors import InvalidIdentifier, visible
from context_service.identity import decisions
from context_service.identity.audit import (
    AuditLink,
    DecisionView,
    Evidence,
    ProfileAudit,
    RecordRef,
    ReviewView,
    check_profile_id,
    list_review,
    profile_audit,
)
from context_service.models import RecordKey
from context_service.settings import load_settings
from context_service.sync.decide import apply_decision
from context_service.wiring import ingest_context

SQLITE_MAX_INT = 2**63 - 1  # a larger id or offset cannot even be bound to a query
MAX_PAGE = 500  # as ``GET /v1/review``
MAX_NOTE = 2000  # as the API's ``note``


def add_commands(sub: Any) -> None:
    """Add ``profiles`` and ``review`` to the ``context-service`` subcommands."""
    p = sub.add_parser("profiles", help="audit, merge or split profiles (identity resolution)")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("audit", help="why a profile holds its records")
    a.add_argument("profile_id", type=profile_id_arg)
    a.add_argument("--json", action="store_true", help="print JSON instead of text")
    a.set_defaults(func=cmd_audit)
    a = actions.add_parser("merge", help="make profiles one (the oldest id survives)")
    a.add_argument("profile_ids", nargs="+", metavar="PROFILE_ID", type=profile_id_arg)
    a.add_argument("--note", default=None, type=note_text, help="why, for the audit trail")
    a.set_defaults(func=cmd_merge)
    a = actions.add_parser("split", help="move records out of a profile, for good")
    a.add_argument("profile_id", type=profile_id_arg)
    a.add_argument(
        "--record",
        dest="records",
        action="append",
        required=True,
        type=record_key,
        metavar="SOURCE:KIND:EXTERNAL_ID",
        help="a member record to split off (repeatable; they leave together)",
    )
    a.add_argument("--note", default=None, type=note_text, help="why, for the audit trail")
    a.set_defaults(func=cmd_split)
    p = sub.add_parser("review", help="list or decide the identity review queue")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("list", help="review items, oldest first")
    a.add_argument("--status", choices=["open", "accepted", "rejected"], default="open")
    a.add_argument("--limit", type=bounded(1, MAX_PAGE), default=50, help="1-500 items")
    # Either: an offset counts from the first item, ``after`` from an id (both cannot apply).
    start = a.add_mutually_exclusive_group()
    start.add_argument("--offset", type=bounded(0, SQLITE_MAX_INT), default=0)
    start.add_argument(
        "--after",
        type=bounded(0, SQLITE_MAX_INT),
        default=0,
        help="items after this id (the last page's next_after)",
    )
    a.add_argument("--json", action="store_true", help="print JSON instead of text")
    a.set_defaults(func=cmd_review_list)
    for verb, meaning in (("accept", "the two records are one person"), ("reject", "they are not")):
        a = actions.add_parser(verb, help=f"{verb} a review item: {meaning}")
        a.add_argument("item_id", type=bounded(1, SQLITE_MAX_INT))
        a.add_argument("--note", default=None, type=note_text, help="why, for the audit trail")
        a.add_argument(
            "--revision",
            default=None,
            help="the item's revision as listed: refused if the item changed since",
        )
        a.set_defaults(func=cmd_review_decide, accept=verb == "accept")


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in ASCII digits from ``low`` to ``high``, else a usage
    error (exit 2) instead of a traceback from SQLite for a number it cannot bind. A ``high``
    of ``SQLITE_MAX_INT`` is no limit a person chose: ``expected 1 or more`` says the rule."""

    def parse(text: str) -> int:
        # One optional sign, then ASCII digits: int() takes "1_000" and full-width digits, and
        # "-+5" passed a check that removed both signs, then failed in int() (ValueError).
        if _WHOLE_NUMBER.fullmatch(text.strip()) is None:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
        value = int(text)
        if high == SQLITE_MAX_INT and value < low:
            raise argparse.ArgumentTypeError(f"expected {low} or more, got {text}")
        if high == SQLITE_MAX_INT and value > high:
            raise argparse.ArgumentTypeError(f"{text} is too large: at most {high} (2**63 - 1)")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, got {text}")
        return value

    return parse


def name_subcommands(parser: argparse.ArgumentParser) -> None:
    """Name every group of sub-commands, at every level, by its choices (as its usage line
    shows it), so that a missing one reads ``required: {create,list,revoke}``, never the
    internal destination (``keys_command``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action.metavar = "{" + ",".join(action.choices) + "}"
            for subparser in action.choices.values():
                name_subcommands(subparser)


def note_text(text: str) -> str:
    """An argparse type: a note of at most ``MAX_NOTE`` characters, as the API takes."""
    if len(text) > MAX_NOTE:
        raise argparse.ArgumentTypeError(f"at most {MAX_NOTE} characters, got {len(text)}")
    return text


def profile_id_arg(text: str) -> str:
    """An argparse type: a profile id (``prof_`` and 26 letters or digits), as the API takes."""
    try:
        return check_profile_id(text)
    except InvalidIdentifier as bad:
        raise argparse.ArgumentTypeError(bad.detail) from None


def record_key(text: str) -> RecordKey:
    """``SOURCE:KIND:EXTERNAL_ID`` (the external id may itself hold colons)."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError(f"expected SOURCE:KIND:EXTERNAL_ID, got {text!r}")
    return RecordKey(*parts)


def decided_by() -> str:
    """``cli:`` and the login name of whoever runs the command."""
    try:
        user = os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"


def cmd_audit(args: argparse.Namespace) -> int:
    audit = _read(lambda conn: profile_audit(conn, args.profile_id))
    print(_json(audit) if args.json else render_audit(audit), end="")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    result = _decide(
        lambda conn, now, region, thresholds: decisions.merge_profiles(
            conn, args.profile_ids, decided_by(), now, region, thresholds, args.note
        )
    )
    aliases = ", ".join(result.merged)
    print(f"merged {aliases} into {result.profile_id} (the old ids keep resolving)")
    _print_merged_away(result.merged_away, shown=set(result.merged))
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    result = _decide(
        lambda conn, now, region, thresholds: decisions.split_profile(
            conn, args.profile_id, args.records, decided_by(), now, region, thresholds, args.note
        )
    )
    moved, rest = ", ".join(result.split_off), ", ".join(result.remaining)
    print(f"split off into {moved}; the rest is in {rest}")
    _print_merged_away(result.merged_away)
    return 0


def cmd_review_list(args: argparse.Namespace) -> int:
    page = _read(lambda conn: list_review(conn, args.status, args.limit, args.offset, args.after))
    if args.json:
        print(_json(page), end="")
        return 0
    for item in page.items:
        print(render_review(item))
    shown = f"{page.offset + 1}-{page.offset + len(page.items)}" if page.items else "none"
    where = f" after #{page.after}" if page.after else ""
    more = f"; next page: --after {page.next_after}" if page.next_after is not None else ""
    print(f"{page.status} review items {shown}{where} of {page.total}{more}")
    return 0


def cmd_review_decide(args: argparse.Namespace) -> int:
    result = _decide(
        lambda conn, now, region, thresholds: decisions.decide_review(
            conn,
            args.item_id,
            args.accept,
            decided_by(),
            now,
            region,
            thresholds,
            args.note,
            args.revision,
        )
    )
    now_in = ", ".join(result.profile_ids)
    print(f"review item {args.item_id} {result.item.status}; profiles now: {now_in}")
    _print_merged_away(result.merged_away)
    return 0


def _print_merged_away(
    gone: list[decisions.MergedAway], shown: AbstractSet[str] = frozenset()
) -> None:
    """One line per id the decision merged away (beyond those already named): the profile
    it resolves to now, or that it names no one, so a script does not refresh a dead id."""
    for item in gone:
        if item.id in shown:
            continue
        if item.resolves_to is None:
            print(f"{item.id} is no longer a profile and names no one")
        else:
            print(f"{item.id} was merged into {item.resolves_to} (it keeps resolving)")


def render_audit(audit: ProfileAudit) -> str:
    """The audit as text for a terminal."""
    lines = [f"Profile {audit.profile_id} (version {audit.version}, created {audit.created_at})"]
    if audit.requested_id != audit.profile_id:
        lines.append(f"  {visible(audit.requested_id)} was merged into it")
    if audit.aliases:
        lines.append(f"  aliases: {', '.join(audit.aliases)}")
    lines.append(f"Members ({len(audit.members)}):")
    for m in audit.members:
        linked = f", linked {m.linked_at}" if m.linked_at else ""
        lines.append(f"  {_ref(m.record)}  (fetched {m.fetched_at}{linked})")
    lines.append(f"Links ({len(audit.links)}):")
    lines.extend(_link(link) for link in audit.links)
    lines.append(f"People's decisions ({len(audit.decisions)}):")
    lines.extend(_decision_line(d) for d in audit.decisions)
    lines.append(f"Open review items ({len(audit.open_reviews)}):")
    lines.extend(render_review(r) for r in audit.open_reviews)
    in_force = {_decided(d) for d in audit.decisions}
    replaced = [d for d in audit.history if _decided(d) not in in_force]
    if replaced:
        lines.append(f"Earlier decisions, since replaced or carried over ({len(replaced)}):")
        lines.extend(_decision_line(d) for d in replaced)
    return "\n".join(lines) + "\n"


def _decided(d: DecisionView) -> tuple[int, int, str, str, str]:
    """What a decision is, whatever its note says (a carried one's note says so)."""
    pair = sorted((d.a.record_id, d.b.record_id))
    return (pair[0], pair[1], d.decision, d.decided_by, d.decided_at)


def _decision_line(d: DecisionView) -> str:
    note = f"  note: {visible(d.note)}" if d.note else ""
    pair = f"{_ref(d.a)} / {_ref(d.b)}"
    return f"  {d.decision:<8} {pair}  by {visible(d.decided_by)} at {d.decided_at}{note}"


def render_review(item: ReviewView) -> str:
    """One review item as four lines of text (every stored value escaped: a vendor record's
    name is whatever a customer typed, and must not forge lines on a reviewer's terminal)."""
    decided = f" by {visible(item.decided_by)} at {item.decided_at}" if item.decided_by else ""
    return (
        f"  #{item.id} {item.status}{decided}: p={item.probability:.3f}, {visible(item.reason)}"
        f"  (revision {item.revision})\n"
        f"      {_ref(item.a)}  [{item.a.profile_id}]\n"
        f"      {_ref(item.b)}  [{item.b.profile_id}]\n"
        f"      evidence: {_evidence(item.evidence)}"
    )


def _link(link: AuditLink) -> str:
    other = _ref(link.other) if link.other else "-"
    note = f"  note: {visible(link.note)}" if link.note else ""
    by = visible(link.decided_by)
    return (
        f"  {_ref(link.record)} <- {other}\n"
        f"      {link.rule}, p={link.probability:.3f}, by {by} at {link.decided_at}"
        f"{note}\n      evidence: {_evidence(link.evidence)}"
    )


def _ref(ref: RecordRef) -> str:
    name = f" {ref.name}" if ref.name else ""
    return visible(f"{ref.source}:{ref.kind}:{ref.external_id}{name}")


def _evidence(evidence: Evidence) -> str:
    parts = [
        f"{field}={fields.get('level')}({fields.get('weight')})"
        for field, fields in sorted(evidence.items())
    ]
    return " ".join(parts) or "none"


def _json(value: object) -> str:
    return msgspec.json.format(msgspec.json.encode(value)).decode() + "\n"


def _read(query: Callable[[sqlite3.Connection], Any]) -> Any:
    from context_service.cli_runs import existing_store

    store = existing_store(load_settings())
    try:
        return query(store.conn)
    finally:
        store.close()


def _decide(action: Callable[[sqlite3.Connection, str, str, Any], Any]) -> Any:
    settings = load_settings()
    ctx = ingest_context(settings)
    from context_service.cli_runs import existing_store

    store = existing_store(settings)  # a mistyped path decides nothing and creates no store
    try:
        return apply_decision(
            store, ctx, lambda conn, now: action(conn, now, ctx.region, ctx.thresholds)
        )
    finally:
        store.close()
