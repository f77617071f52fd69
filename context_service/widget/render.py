"""The sidebar card as one self-contained HTML page: no scripts, no external assets.

Every value that came from a source system goes through ``_e`` (HTML-escaped, quotes
included); links are emitted only for ``http(s)`` URLs. The one inline style block is allowed
by its hash in the Content-Security-Policy (``STYLE_HASH``), so nothing else can run or load.
The ``sidebar`` audience's field policy, narrowed by the minting API key's own limits (a
``View``), decides which sections, contact details and names appear.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Iterator
from datetime import datetime

from context_service.audience import View
from context_service.audience.facts import visible_contacts
from context_service.models import Order, Snapshot, Subscription, Ticket
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
.quote{font-style:italic}
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
RECENT_ORDERS = 3
RECENT_TICKETS = 4
FULL_VIEW = View(contact="full", hidden=frozenset())


def render_card(
    snapshot: Snapshot,
    confidence: MatchConfidence,
    audit_url: str,
    now: datetime,
    view: View = FULL_VIEW,
) -> str:
    """The customer card for a helpdesk sidebar, showing what ``view`` allows."""
    body = "".join(
        (
            _identity(snapshot, confidence, audit_url, view),
            _signals(snapshot),
            _orders(snapshot, view) if view.shows("orders") else "",
            _billing(snapshot, view),
            _crm(snapshot, view),
            _tickets(snapshot) if view.shows("support.tickets") else "",
            _freshness(snapshot, now) if view.shows("freshness") else "",
        )
    )
    title = _e(_name(snapshot, view) or "Customer")
    return _page(title, body)


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
    return html.escape(str(value), quote=True)


def _link(url: str | None, text: str) -> str:
    """An external link when ``url`` is http(s); the bare (escaped) text otherwise."""
    if url and url.lower().startswith(("https://", "http://")):
        return f"<a href='{_e(url)}' target='_blank' rel='noopener noreferrer'>{_e(text)}</a>"
    return _e(text)


def _section(title: str, items: Iterable[str], lead: str = "") -> str:
    rows = "".join(f"<li>{item}</li>" for item in items)
    listing = f"<ul>{rows}</ul>" if rows else ""
    return f"<section><h2>{_e(title)}</h2>{lead}{listing}</section>"


def _identity(s: Snapshot, confidence: MatchConfidence, audit_url: str, view: View) -> str:
    emails, phones = visible_contacts(s, view)
    contacts = " · ".join(_e(v) for v in (*emails[:2], *phones[:1]))
    sources = sorted({m.source for m in s.members})
    badge = "ok" if confidence.score is None or confidence.score >= 0.9 else "warn"
    name = _name(s, view) or ("Unknown name" if view.shows("identity.names") else "Customer")
    return (
        f"<header><h1>{_e(name)}</h1>"
        f"<p class='small'>{contacts}</p>"
        f"<p class='small'><span class='badge {badge}'>{_e(confidence.label())}</span> "
        f"{_e(', '.join(sources))} · <a href='{_e(audit_url)}' target='_blank' "
        "rel='noopener noreferrer'>merge audit</a></p></header>"
    )


def _name(s: Snapshot, view: View) -> str | None:
    """The customer's name, unless the view hides names (then the card names nobody)."""
    return s.identity.name if view.shows("identity.names") else None


def _signals(s: Snapshot) -> str:
    if not s.signals:
        return ""
    rows = "".join(f"<p class='sig {_e(sig.severity)}'>{_e(sig.message)}</p>" for sig in s.signals)
    return f"<section><h2>Attention</h2>{rows}</section>"


def _orders(s: Snapshot, view: View) -> str:
    c = s.commerce
    if not c.orders:
        return ""
    total = f"{c.total_spent} {c.currency}" if c.total_spent else ""
    if total and c.total_order_count is not None:  # orders in other currencies left out
        total += f" across {c.total_order_count} of them"
    lead = f"<p class='small muted'>{c.order_count} orders · {_e(total)}</p>"
    tracking = view.shows("orders.tracking")
    return _section("Orders", (_order(o, tracking) for o in c.orders[:RECENT_ORDERS]), lead)


def _order(o: Order, tracking: bool) -> str:
    parts = [_link(o.url, f"#{o.number or o.external_id}"), _date(o.created_at)]
    parts += [_e(f"{o.amount} {o.currency}") if o.amount else ""]
    parts += [_e(v) for v in (o.financial_status, o.fulfillment_status) if v]
    if o.cancelled_at:
        parts.append("cancelled")
    line = " · ".join(p for p in parts if p)
    return line + "".join(_tracking(o)) if tracking else line


def _tracking(o: Order) -> Iterator[str]:
    for f in o.fulfillments:
        urls = [*f.tracking_urls, *([None] * len(f.tracking_numbers))]
        for number, url in zip(f.tracking_numbers, urls, strict=False):
            status = f" ({_e(f.shipment_status)})" if f.shipment_status else ""
            yield f"<br><span class='small'>{_e(f.tracking_company or 'tracking')} "
            yield f"{_link(url, number)}{status}</span>"


def _billing(s: Snapshot, view: View) -> str:
    b = s.billing
    items = [_subscription(sub) for sub in b.subscriptions if view.shows("billing.subscriptions")]
    items += [
        f"Invoice {_link(i.url, i.number or i.external_id or '')} · "
        f"{_e(i.amount_remaining)} {_e(i.currency)} due · {i.attempt_count} attempt(s)"
        for i in b.invoices
        if i.status == "open"
        and i.amount_remaining not in (None, "0.00")
        and view.shows("billing.invoices")
    ]
    disputes = b.disputes if view.shows("billing.disputes") else []
    items += [f"Dispute {_e(d.reason or '')} · {_e(d.status or '')}" for d in disputes]
    return _section("Billing", items) if items else ""


def _subscription(sub: Subscription) -> str:
    state = _e(sub.status or "unknown")
    cls = "ok" if sub.status in ("active", "trialing") else "warn"
    price = f" · {_e(sub.amount)} {_e(sub.currency)}/{_e(sub.interval)}" if sub.amount else ""
    renew = f" · period ends {_date(sub.current_period_end)}" if sub.current_period_end else ""
    name = _link(sub.url, sub.plan or "Subscription")
    return f"{name} <span class='badge {cls}'>{state}</span>{price}{renew}"


def _crm(s: Snapshot, view: View) -> str:
    crm = s.crm
    stage = crm.lifecycle_stage if view.shows("crm.stage") else None
    owner = crm.owner if view.shows("crm.owner") else None
    shown_deals = crm.deals if view.shows("crm.deals") else []
    if not (stage or owner or shown_deals):
        return ""
    parts = [f"Stage <b>{_e(stage)}</b>" if stage else "", f"owner {_e(owner)}" if owner else ""]
    lead = f"<p>{' · '.join(p for p in parts if p)}</p>"
    deals = [
        f"{_link(d.url, d.title or 'Deal')} · {_e(d.stage or '')}"
        + (f" · {_e(d.amount)} {_e(d.currency)}" if d.amount else "")
        for d in shown_deals
        if d.status == "open"
    ]
    return _section("CRM", deals, lead)


def _tickets(s: Snapshot) -> str:
    sup = s.support
    if not sup.tickets:
        return ""
    lead = f"<p class='small muted'>{sup.open_count} open</p>"
    return _section("Tickets", (_ticket(t) for t in sup.tickets[:RECENT_TICKETS]), lead)


def _ticket(t: Ticket) -> str:
    subject = f"<span class='quote' title='customer-written'>“{_e(t.title or '')}”</span>"
    meta = " · ".join(_e(v) for v in (t.status, t.priority, _date(t.updated_at)) if v)
    number = _link(t.url, "#" + (t.external_id or ""))
    return f"{number} {subject}<br><span class='small muted'>{meta}</span>"


def _freshness(s: Snapshot, now: datetime) -> str:
    fresh = " · ".join(f"{_e(f.source)} {_ago(f.as_of, now)}" for f in s.freshness)
    return (
        f"<footer><h2>Freshness</h2><p class='small muted'>{fresh}</p>"
        f"<p class='small muted'>{_e(s.profile_id)} v{s.version}</p></footer>"
    )


def _date(iso: str | None) -> str:
    return _e(iso[:10]) if iso else ""


def _ago(iso: str | None, now: datetime) -> str:
    """How long ago ``iso`` was, coarsely: "just now", "5 min ago", "3 h ago", "12 d ago"."""
    if not iso:
        return "never"
    try:
        seconds = (now - datetime.fromisoformat(iso)).total_seconds()
    except (ValueError, TypeError):
        return _e(iso)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"
