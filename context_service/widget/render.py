"""The sidebar card as one self-contained HTML page: no scripts, no external assets.

Every value that came from a source system goes through ``_e`` (HTML-escaped, quotes
included, and cut to ``MAX_TEXT`` characters) or, in an attribute, ``_attr``; links are emitted
only for ``http(s)`` URLs. Each one shown in a line of text is isolated in a ``<bdi>``
(``_v``): right-to-left letters in one value (an Arabic domain, a Hebrew deal title) would
otherwise reorder its neighbours on the line, with no control character at all (Unicode bidi
rules W7 and N1), and draw a phone number inside an email address. The one inline style block
is allowed by its hash in the Content-Security-Policy (``STYLE_HASH``), so nothing else can run
or load. The ``sidebar`` audience's field policy, narrowed by the minting API key's own limits
(a ``View``), decides which sections, contact details, names and dashboard links (``records``)
appear. Each list shows its first few items and says how many more there are, so the card
stays small whatever the customer has.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import NamedTuple

from context_service.audience import View
from context_service.audience.contacts import snapshot_as_viewed
from context_service.audience.facts import visible_contacts
from context_service.audience.signal_views import visible_signals
from context_service.models import Deal, Invoice, Order, Signal, Snapshot, Subscription, Ticket
from context_service.snapshot.render import paused_payments
from context_service.snapshot.summary import fulfilment_words
from context_service.widget.confidence import MatchConfidence

STYLE = """
*{box-sizing:border-box}
body{margin:0;padding:8px;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1f2328;background:#fff;overflow-wrap:anywhere}
h1{font-size:16px;margin:0}h2{font-size:11px;text-transform:uppercase;letter-spacing:.05em;
color:#59636e;margin:12px 0 4px}
p,ul{margin:0}ul{padding:0;list-style:none}li{padding:3px 0;border-top:1px solid #eef0f2}
li:first-child{border-top:0}a{color:#0969da}.muted{color:#59636e}.small{font-size:12px}
.badge{display:inline-block;padding:0 6px;border-radius:9px;font-size:11px;background:#eef0f2}
.ok{background:#dafbe1;color:#1a7f37}.warn{background:#fff8c5;color:#7d4e00}
.sig{padding:4px 6px;margin:2px 0;border-radius:4px;border-left:3px solid}
.critical{background:#ffebe9;border-color:#cf222e}.warning{background:#fff8c5;border-color:#bf8700}
.info{background:#ddf4ff;border-color:#0969da}
.quote{font-style:italic}.sev{font-weight:600}
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
RECENT_ORDERS = 3
RECENT_TICKETS = 4
LISTED = 5  # subscriptions, invoices, disputes, open deals and an order's parcels shown, at most
LISTED_SIGNALS = 8
MAX_TEXT = 200  # characters of one source-provided string (a pasted e-mail as a subject)
MAX_URL = 2048  # a longer URL is shown as its text, not linked
# Explicit bidi embeddings, overrides and isolates: one left open in a customer's value would
# reorder what follows it on the line (another email, a phone number, a ticket's status).
_NO_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
FULL_VIEW = View(contact="full", hidden=frozenset())
MAX_CARD_BYTES = 30_000  # the sidebar's budget: a bigger card renders compact, then minimal


class _Limits(NamedTuple):
    """How much of one source-provided string and one URL a rendering shows."""

    text: int
    url: int


_ROOMY = _Limits(text=MAX_TEXT, url=MAX_URL)
_COMPACT = _Limits(text=60, url=300)
_LIMITS: ContextVar[_Limits] = ContextVar("widget_card_limits", default=_ROOMY)


def render_card(
    snapshot: Snapshot,
    confidence: MatchConfidence,
    audit_url: str,
    now: datetime,
    view: View = FULL_VIEW,
    *,
    failing: Mapping[str, str] | None = None,
) -> str:
    """The customer card for a helpdesk sidebar, showing what ``view`` allows, in at most
    ``MAX_CARD_BYTES``: a card that would be bigger (long vendor URLs, customer-written text
    that escapes to several bytes a character) shows shorter texts and fewer links, and if
    even that is too big, only who the customer is and what needs attention. Contacts in free
    text (a ticket subject quoting the customer's email) are shown as ``view`` shows the
    contact fields. ``failing`` names each source of the customer's records whose last sync
    failed, with when: the card says so at the top, since what it shows from that source may be
    out of date (a quiet customer and a dead sync look alike in the freshness footer)."""
    snapshot = snapshot_as_viewed(snapshot, view)
    warning = _failing_syncs(failing or {}, now)
    for limits in (_ROOMY, _COMPACT):
        page = _within(limits, _full_card, snapshot, confidence, audit_url, now, view, warning)
        if len(page.encode()) <= MAX_CARD_BYTES:
            return page
    return _within(_COMPACT, _minimal_card, snapshot, confidence, audit_url, view, warning)


def _failing_syncs(failing: Mapping[str, str], now: datetime) -> str:
    """A line for each source whose last sync failed (``render_card``'s ``failing``)."""
    return "".join(
        f"<p class='small'><span class='badge warn'>sync failing</span> {_v(source)}: the "
        f"last sync failed {_ago(at, now)}; what the card shows from it may be out of date</p>"
        for source, at in sorted(failing.items())
    )


def _within(limits: _Limits, render: Callable[..., str], *args: object) -> str:
    """``render(*args)`` with ``limits`` on every text and URL it shows."""
    token = _LIMITS.set(limits)
    try:
        return render(*args)
    finally:
        _LIMITS.reset(token)


def _full_card(
    snapshot: Snapshot,
    confidence: MatchConfidence,
    audit_url: str,
    now: datetime,
    view: View,
    warning: str = "",
) -> str:
    body = "".join(
        (
            _identity(snapshot, confidence, audit_url, view),
            warning,
            _signals(snapshot, view),
            _orders(snapshot, view) if view.shows("orders") else "",
            _billing(snapshot, view),
            _crm(snapshot, view),
            _tickets(snapshot, view) if view.shows("support.tickets") else "",
            _freshness(snapshot, now) if view.shows("freshness") else "",
        )
    )
    title = _e(_name(snapshot, view) or "Customer")
    return _page(title, body)


def _minimal_card(
    snapshot: Snapshot, confidence: MatchConfidence, audit_url: str, view: View, warning: str = ""
) -> str:
    """Who the customer is and what needs attention, for a card too big for the sidebar."""
    note = "<p class='small muted'>More history than the sidebar can show: open the helpdesk.</p>"
    identity = _identity(snapshot, confidence, audit_url, view)
    body = identity + warning + _signals(snapshot, view) + note
    return _page(_e(_name(snapshot, view) or "Customer"), body)


def render_error(status: int, title: str, detail: str) -> str:
    """A small error page in the widget's own style (shown inside the helpdesk iframe)."""
    body = f"<h1>{_e(title)}</h1><p class='muted'>{_e(detail)}</p><p class='small'>{status}</p>"
    return _page(_e(title), body)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<meta name='referrer' content='no-referrer'><title>{title}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def _e(value: object) -> str:
    """Text for the page: escaped, without bidi controls, and cut to ``MAX_TEXT`` characters
    (fewer in a compact card)."""
    text = str(value).translate(_NO_BIDI_CONTROLS)
    limit = _LIMITS.get().text
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)


def _v(value: object) -> str:
    """A source-provided value in a line of text: ``_e`` inside a ``<bdi>``, so that its
    direction is its own and its neighbours keep their places whatever its script."""
    return f"<bdi>{_e(value)}</bdi>"


def _attr(value: str) -> str:
    """An attribute value (a URL): escaped, never cut."""
    return html.escape(value, quote=True)


def _joined(*parts: str | None) -> str:
    """The non-empty parts, escaped and each isolated (``_v``), with `` · `` between them."""
    return " · ".join(_v(part) for part in parts if part)


def _money(amount: str | None, currency: str | None) -> str:
    """``"49.00 USD"``, only the amount when the source gave no currency, "" without one."""
    return " ".join(part for part in (amount, currency) if part) if amount else ""


def _link(url: str | None, text: str) -> str:
    """An external link when ``url`` is http(s); the bare (escaped) text otherwise."""
    if url and len(url) <= _LIMITS.get().url and url.lower().startswith(("https://", "http://")):
        return f"<a href='{_attr(url)}' target='_blank' rel='noopener noreferrer'>{_v(text)}</a>"
    return _v(text)


def _record_link(url: str | None, text: str, view: View) -> str:
    """A link to the record in its vendor's dashboard, unless the view hides ``records``."""
    return _link(url if view.shows("records") else None, text)


def _record_label(number: str | None, external_id: str | None, view: View) -> str | None:
    """What a record is called: its number, else (with ``records`` shown) its vendor id."""
    return number or (external_id if view.shows("records") else None)


def _section(title: str, items: Iterable[str], lead: str = "", more: int = 0) -> str:
    rows = "".join(f"<li>{item}</li>" for item in items)
    if more > 0:
        rows += f"<li class='small muted'>and {more} more</li>"
    listing = f"<ul>{rows}</ul>" if rows else ""
    return f"<section><h2>{_e(title)}</h2>{lead}{listing}</section>"


def _identity(s: Snapshot, confidence: MatchConfidence, audit_url: str, view: View) -> str:
    emails, phones = visible_contacts(s, view)
    contacts = " · ".join(_v(v) for v in (*emails[:2], *phones[:1]))
    sources = sorted({m.source for m in s.members})
    badge = "ok" if confidence.score is None or confidence.score >= 0.9 else "warn"
    label = confidence.label() if badge == "ok" else f"weak {confidence.label()}"  # not colour only
    if confidence.under_review:  # the service is not sure this card is one person
        badge, label = "warn", f"{label} · possible duplicate, under review"
    name = _name(s, view) or ("Unknown name" if view.shows("identity.names") else "Customer")
    return (
        f"<header><h1>{_v(name)}</h1>"
        f"<p class='small'>{contacts}</p>"
        f"<p class='small'><span class='badge {badge}'>{_e(label)}</span> "
        f"{', '.join(map(_v, sources))} · <span class='muted'>merge audit (admin API): "
        f"<code>GET {_e(audit_url)}</code></span></p></header>"
    )


def _name(s: Snapshot, view: View) -> str | None:
    """The customer's name, unless the view hides names (then the card names nobody)."""
    return s.identity.name if view.shows("identity.names") else None


def _signals(s: Snapshot, view: View) -> str:
    """The Attention section: the signals as ``view`` may read them (one about a hidden field
    says only what kind of thing needs attention, as in the summary and the facts)."""
    signals = visible_signals(s, view)
    if not signals:
        return ""
    shown = signals[:LISTED_SIGNALS]
    rows = "".join(_signal(sig) for sig in shown)
    more = len(signals) - len(shown)
    if more > 0:
        rows += f"<p class='small muted'>and {more} more</p>"
    return f"<section><h2>Attention</h2>{rows}</section>"


def _signal(sig: Signal) -> str:
    """One signal, its severity said in words too (not by colour alone, WCAG 1.4.1)."""
    severity = _e(sig.severity)
    word = severity.capitalize()
    return f"<p class='sig {severity}'><span class='sev'>{word}:</span> {_v(sig.message)}</p>"


def _orders(s: Snapshot, view: View) -> str:
    c = s.commerce
    if not c.orders:
        return ""
    total = _money(c.total_spent, c.currency)
    if total and c.total_order_count is not None:  # orders in other currencies left out
        total += f" across {c.total_order_count} of them"
    count = f"{c.order_count} order{'' if c.order_count == 1 else 's'}"
    spent = f" · {_v(total)}" if total else ""  # the count is ours; the amount isolated
    lead = f"<p class='small muted'>{_e(count)}{spent}</p>"
    tracking = view.shows("orders.tracking")
    orders = (_order(o, tracking, view) for o in c.orders[:RECENT_ORDERS])
    return _section("Orders", orders, lead)


def _order(o: Order, tracking: bool, view: View) -> str:
    label = _record_label(o.number, o.external_id, view)
    parts = [_record_link(o.url, f"#{label}" if label else "Order", view), _date(o.created_at)]
    fulfilment = fulfilment_words(o) if o.fulfillment_status else None  # unknown: unsaid
    parts += [_joined(_money(o.amount, o.currency), o.financial_status, fulfilment)]
    if o.cancelled_at:
        parts.append("cancelled")
    line = " · ".join(p for p in parts if p)
    return line + "".join(_tracking(o)) if tracking else line


def _tracking(o: Order) -> Iterator[str]:
    parcels = [
        (f, number, url)
        for f in o.fulfillments
        for number, url in zip(
            f.tracking_numbers,
            [*f.tracking_urls, *([None] * len(f.tracking_numbers))],
            strict=False,
        )
    ]
    for f, number, url in parcels[:LISTED]:
        status = f" ({_v(f.shipment_status)})" if f.shipment_status else ""
        yield f"<br><span class='small'>{_v(f.tracking_company or 'tracking')} "
        yield f"{_link(url, number)}{status}</span>"
    if len(parcels) > LISTED:
        yield f"<br><span class='small muted'>and {len(parcels) - LISTED} more parcels</span>"


def _billing(s: Snapshot, view: View) -> str:
    b = s.billing
    subscriptions = b.subscriptions if view.shows("billing.subscriptions") else []
    invoices = [
        i for i in b.invoices if i.status == "open" and i.amount_remaining not in (None, "0.00")
    ]
    invoices = invoices if view.shows("billing.invoices") else []
    disputes = b.disputes if view.shows("billing.disputes") else []
    items = [_subscription(sub, view) for sub in subscriptions[:LISTED]]
    items += [_invoice(i, view) for i in invoices[:LISTED]]
    items += ["Dispute " + _joined(d.reason, d.status) for d in disputes[:LISTED]]
    more = sum(max(len(group) - LISTED, 0) for group in (subscriptions, invoices, disputes))
    return _section("Billing", items, more=more) if items else ""


def _subscription(sub: Subscription, view: View) -> str:
    state = _v(sub.status or "unknown")
    cls = "ok" if sub.status in ("active", "trialing") else "warn"
    per = f"/{sub.interval}" if sub.interval else ""
    price = f" · {_v(_money(sub.amount, sub.currency) + per)}" if sub.amount else ""
    renew = f" · period ends {_date(sub.current_period_end)}" if sub.current_period_end else ""
    if sub.collection_paused:
        renew += f" · {_v(paused_payments(sub))}"
    name = _record_link(sub.url, sub.plan or "Subscription", view)
    return f"{name} <span class='badge {cls}'>{state}</span>{price}{renew}"


def _invoice(i: Invoice, view: View) -> str:
    label = _record_label(i.number, i.external_id, view) or ""
    due = f"{_money(i.amount_remaining, i.currency)} due"
    return f"Invoice {_record_link(i.url, label, view)} · {_v(due)} · {i.attempt_count} attempt(s)"


def _crm(s: Snapshot, view: View) -> str:
    crm = s.crm
    stage = crm.lifecycle_stage if view.shows("crm.stage") else None
    owner = crm.owner if view.shows("crm.owner") else None
    shown_deals = crm.deals if view.shows("crm.deals") else []
    if not (stage or owner or shown_deals):
        return ""
    parts = [f"Stage <b>{_v(stage)}</b>" if stage else "", f"owner {_v(owner)}" if owner else ""]
    lead = f"<p>{' · '.join(p for p in parts if p)}</p>" if stage or owner else ""
    open_deals = [d for d in shown_deals if d.status == "open"]
    deals = [_deal(d, view) for d in open_deals[:LISTED]]
    return _section("CRM", deals, lead, more=len(open_deals) - LISTED)


def _deal(d: Deal, view: View) -> str:
    name = _record_link(d.url, d.title or "Deal", view)
    details = _joined(d.stage, _money(d.amount, d.currency))
    return f"{name} · {details}" if details else name


def _tickets(s: Snapshot, view: View) -> str:
    sup = s.support
    if not sup.tickets:
        return ""
    lead = f"<p class='small muted'>{sup.open_count} open</p>"
    tickets = (_ticket(t, view) for t in sup.tickets[:RECENT_TICKETS])
    return _section("Tickets", tickets, lead)


def _ticket(t: Ticket, view: View) -> str:
    subject = f"<span class='quote' title='customer-written'>“{_v(t.title or '')}”</span>"
    meta = " · ".join(
        _v(v) for v in (t.status, t.priority, t.updated_at and t.updated_at[:10]) if v
    )
    # the ticket number stays (customers see it in the helpdesk's own mail), not its link
    number = _record_link(t.url, "#" + (t.external_id or ""), view)
    return f"{number} {subject}<br><span class='small muted'>{meta}</span>"


def _freshness(s: Snapshot, now: datetime) -> str:
    fresh = " · ".join(f"{_v(f.source)} {_ago(f.as_of, now)}" for f in s.freshness)
    return (
        f"<footer><h2>Freshness</h2><p class='small muted'>{fresh}</p>"
        f"<p class='small muted'>{_e(s.profile_id)} v{s.version}</p></footer>"
    )


def _date(iso: str | None) -> str:
    return _v(iso[:10]) if iso else ""


def _ago(iso: str | None, now: datetime) -> str:
    """How long ago ``iso`` was, coarsely: "just now", "5 min ago", "3 h ago", "12 d ago"."""
    if not iso:
        return "never"
    try:
        seconds = (now - datetime.fromisoformat(iso)).total_seconds()
    except (ValueError, TypeError):
        return _v(iso)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"
