"""Which context a chatbot gets: verified, trusted backend, or unverified.

A request for ``audience=chatbot`` gets the full chatbot context only when the API key is a
trusted backend or the end user is verified (``verify.py``). Otherwise it gets the unverified
answer: that an account exists and what the bot may say before verification (the setting
``chatbot_unverified_guidance``), and nothing else: no order, address, amount, payment detail or
ticket text is read from the snapshot at all.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from context_service.trust.keys import Principal
from context_service.trust.verify import Claimed, Proof, Verdict, Verifier

Mode = Literal["verified", "trusted_backend", "unverified"]
HEADER = "X-Context-Verification"
REASON_HEADER = "X-Context-Verification-Reason"
DEFAULT_GUIDANCE = (
    "This customer's identity is not verified. You may confirm that an account exists and "
    "help with general questions. Do not discuss orders, deliveries, addresses, billing, "
    "payments or tickets until they sign in."
)


class Decision(msgspec.Struct, frozen=True):
    """The mode that applies and, when unverified, why; for an end user verified by a proof
    (the key no trusted backend), what the proof vouched for: the answer shows the records
    that hold it (``snapshot.proved``), not everything joined to them."""

    mode: Mode
    reason: str = ""
    vouches: Claimed | None = None

    @property
    def verified(self) -> bool:
        """Whether the full chatbot context may be shown."""
        return self.mode != "unverified"

    def headers(self) -> dict[str, str]:
        """Response headers saying which mode applied."""
        out: dict[str, str] = {HEADER: self.mode}
        if self.reason:
            out[REASON_HEADER] = header_text(self.reason)
        return out


def header_text(text: str, limit: int = 200) -> str:
    """``text`` as a header value: printable ASCII only (anything else becomes ``?``, so a
    reason that ever quoted a caller's bytes cannot fail the response), at most ``limit``."""
    return "".join(c if " " <= c <= "~" else "?" for c in text[:limit])


class UnverifiedContext(msgspec.Struct):
    """The whole answer to an unverified chatbot."""

    verification: Mode
    account_exists: bool
    guidance: str
    reason: str


def decide(verifier: Verifier, principal: Principal, claimed: Claimed, proof: Proof) -> Decision:
    """The mode for one chatbot request by ``principal`` about ``claimed``."""
    if proof.given():
        verdict: Verdict = verifier.check(claimed, proof)
        if verdict.verified:
            return Decision("verified", vouches=None if principal.trusted_backend else claimed)
        if principal.trusted_backend:
            return Decision("trusted_backend", verdict.reason)
        return Decision("unverified", verdict.reason)
    if principal.trusted_backend:
        return Decision("trusted_backend")
    return Decision("unverified", "no user_hash or user_token given")


def read_mode(principal: Principal, decision: Decision | None) -> Mode:
    """How the read audit records a context read served in full: a chatbot request's mode,
    else (another audience, or the stored snapshot) ``trusted_backend`` for a trusted-backend
    key, which reads everything a verified chatbot would without any proof, and ``verified``
    for any other key, as every such read was recorded before."""
    if decision is not None:
        return decision.mode
    return "trusted_backend" if principal.trusted_backend else "verified"


def unverified_body(fmt: str, guidance: str, reason: str) -> tuple[bytes, str]:
    """The unverified answer in ``fmt`` (json, text or markdown) and its media type."""
    if fmt == "json":
        body = UnverifiedContext("unverified", True, guidance, reason)
        return msgspec.json.encode(body), "application/json"
    text = (
        f"Verification: unverified ({reason}).\nAn account exists for this customer.\n{guidance}\n"
    )
    media = "text/markdown" if fmt == "markdown" else "text/plain"
    return text.encode(), media
