"""`screen_message`: the pure screening entry point (rules SCR-1…SCR-12, SCR-D1, SCR-D2)."""

from __future__ import annotations

from collections.abc import Sequence

from shopdesk.screening.detectors.contact import detect_contacts
from shopdesk.screening.detectors.phrases import detect_phrases
from shopdesk.screening.images import screen_attachments
from shopdesk.screening.model import Finding, ScreenResult
from shopdesk.screening.normalise import normalise
from shopdesk.screening.policy import ScreeningPolicy, load_policy
from shopdesk.screening.verdict import dedupe, verdict

_ALLOW = ScreenResult("allow", ())


def find_contacts(
    text: str, *, policy: ScreeningPolicy, lang: str | None = None, region: str = "US"
) -> list[Finding]:
    """SCR-1 contact findings only (used for conversation joining)."""
    return detect_contacts(
        normalise(text), region=region, lang=lang, allow_domains=policy.allow_domains
    )


def screen_message(
    text: str,
    *,
    sender: str = "seller",
    policy: ScreeningPolicy | None = None,
    lang: str | None = None,
    region: str = "US",
    attachments: Sequence[str] = (),
) -> ScreenResult:
    """Screen one message. ``sender`` is ``seller`` (or agent/bot) or ``buyer`` (SCR-12)."""
    pol = policy or load_policy("us")
    who = "buyer" if sender == "buyer" else "seller"
    norm = normalise(text)
    findings: list[Finding] = []
    if who == "seller":
        findings += detect_contacts(norm, region=region, lang=lang, allow_domains=pol.allow_domains)
    findings += detect_phrases(norm, sender=who)
    if attachments and who == "seller":
        findings += screen_attachments(attachments, policy=pol)
    if not findings:
        return _ALLOW  # most messages
    findings = [f for f in dedupe(findings) if pol.action(f.rule, who) != "allow"]
    return ScreenResult(verdict(findings, pol, who), tuple(findings))
