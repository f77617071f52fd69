"""The LLM version of an escalation handoff, with the deterministic one as its fallback.

Card and bank account numbers and secrets (API keys, passwords, bearer tokens, one-time codes)
a customer typed into the chat, or the bot put into its reason, are removed before anything is
sent to the LLM endpoint (``snapshot.secrets``), and so are bidirectional controls and Unicode
tag characters, which a model reads though no person sees them (``handoff.safe_turns``); the
customer context is cleaned of secrets too.
For a view that hides ``identity.names``, the customer's names are hidden in what is sent and
in the note (``audience.names``). The model's note is used only when it passes
``handoff.checks`` (no identifier this profile does not show, customer-written text kept as
quoted data); otherwise the deterministic note is, with the reason in ``fallback``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from context_service.audience import ContextRequest, SummaryBlock, View, build_context
from context_service.audience.contacts import typed_text_for_a_model
from context_service.audience.names import names_as_viewed
from context_service.handoff import CUSTOMER_ROLES, NO_REGION, Turn, safe_reason, safe_turns
from context_service.handoff.checks import customer_written, note_problem
from context_service.llm.client import LlmClient, LlmFailed
from context_service.llm.prompts import fence, latest
from context_service.models import Snapshot
from context_service.snapshot.redaction import redact_free_text
from context_service.snapshot.secrets import redact_secrets

log = logging.getLogger("context_service.llm")
HANDOFF_PROMPT = "escalation_handoff"
_CONTEXT_TOKENS = 1200


def transcript_block(
    transcript: list[Turn], as_viewed: Callable[[str], str] = lambda text: text
) -> str:
    """The transcript as one JSON line per turn (customer text stays a JSON string), with
    payment numbers and secrets removed from each turn's text and its contacts shown as
    ``as_viewed`` shows them (``handoff.safe_turns``)."""
    return "\n".join(
        json.dumps({"role": t.role, "at": t.at, "text": t.text}, ensure_ascii=False)
        for t in safe_turns(transcript, as_viewed)
    )


def llm_handoff(
    client: LlmClient | None,
    snap: Snapshot,
    view: View,
    transcript: list[Turn],
    reason: str,
    fallback_text: str,
    *,
    region: str = NO_REGION,
) -> SummaryBlock:
    """The LLM's handoff text, or the deterministic text with the reason it was used; a phone
    number typed without its country code is read in ``region``."""
    if client is None:
        return SummaryBlock(fallback_text, "deterministic", fallback="no LLM configured")
    prompt = latest(HANDOFF_PROMPT)
    context = build_context(snap, ContextRequest("escalation", "text", _CONTEXT_TOKENS), view).body
    context = redact_secrets(context)
    # Contacts typed into the chat or the reason as the view shows them (masked, removed): the
    # model writes the note this key gets, so it reads no more than the key may; and no one
    # else's contact at all, which its note may not name anyway.
    as_viewed = typed_text_for_a_model(snap, view, region)
    system, user = prompt.render(
        reason=fence("reason given by the bot", safe_reason(reason, as_viewed)),
        context=fence("customer context", context),
        transcript=fence(
            "conversation transcript, customer-written", transcript_block(transcript, as_viewed)
        ),
    )
    try:
        text = redact_free_text(client.complete(system, user, max_tokens=400))
    except LlmFailed as exc:
        log.warning("LLM handoff for %s failed: %s", snap.profile_id, exc.reason)
        return SummaryBlock(
            fallback_text, "deterministic", fallback=exc.reason, prompt_version=prompt.version
        )
    said = [t.text for t in safe_turns(transcript, as_viewed) if t.role in CUSTOMER_ROLES]
    problem = note_problem(text, snap, view, context, [*said, *customer_written(snap)])
    if problem is not None:
        log.warning("LLM handoff for %s not used: %s", snap.profile_id, problem)
        return SummaryBlock(
            fallback_text, "deterministic", fallback=problem, prompt_version=prompt.version
        )
    # Its inputs name nobody for a view hiding names, but a model may still guess the name (from
    # an email address the view shows): the note says it no more than the data does.
    hide_names = names_as_viewed(snap, view)
    return SummaryBlock(
        hide_names(text) if hide_names else text, "llm", prompt_version=prompt.version
    )
