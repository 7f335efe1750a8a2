"""Contact details split over consecutive messages of one sender (CONTRACTS §3, SCR-D2).

`ConversationScreener` holds, per conversation, the recent messages of the current sender.
Each new message is screened alone and, joined with the preceding fragments, for SCR-1
contact details; a contact that only exists in the joined text is reported on the message
that completes it, with its span clipped to that message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shopdesk.screening.detectors.contact import detect_contacts
from shopdesk.screening.engine import screen_message
from shopdesk.screening.model import Finding, ScreenResult
from shopdesk.screening.normalise import normalise
from shopdesk.screening.policy import ScreeningPolicy, load_policy
from shopdesk.screening.verdict import dedupe, verdict

MAX_FRAGMENTS = 3  # messages kept, including the new one
MAX_FRAGMENT_CHARS = 40  # only short fragments are joined


@dataclass
class ConversationScreener:
    """Pure per-conversation state: the server keeps one per conversation."""

    policy: ScreeningPolicy = field(default_factory=lambda: load_policy("us"))
    region: str = "US"
    _sender: str | None = None
    _fragments: list[str] = field(default_factory=list)

    def screen(
        self, text: str, *, sender: str, lang: str | None = None, attachments: tuple[str, ...] = ()
    ) -> ScreenResult:
        alone = screen_message(
            text,
            sender=sender,
            policy=self.policy,
            lang=lang,
            region=self.region,
            attachments=attachments,
        )
        if sender != self._sender:
            self._fragments = []
            self._sender = sender
        findings = list(alone.findings)
        if sender != "buyer" and self._fragments:
            findings += self._joined(text, lang, alone.findings)
        if len(text) <= MAX_FRAGMENT_CHARS and not alone.findings:
            self._fragments = [*self._fragments, text][-(MAX_FRAGMENTS - 1) :]
        else:
            self._fragments = []
        findings = dedupe(findings)
        return ScreenResult(verdict(findings, self.policy, sender), tuple(findings))

    def _joined(self, text: str, lang: str | None, own: tuple[Finding, ...]) -> list[Finding]:
        out: list[Finding] = []
        for k in range(len(self._fragments)):
            prefix = " ".join(self._fragments[k:]) + " "
            joined = prefix + text
            base = len(prefix)
            for f in detect_contacts(
                normalise(joined),
                region=self.region,
                lang=lang,
                allow_domains=self.policy.allow_domains,
            ):
                if f.start is None or f.end is None or f.end <= base or f.start >= base:
                    continue  # wholly in earlier messages or wholly in this one
                start, end = 0, f.end - base
                out.append(
                    Finding(
                        f.rule,
                        f.kind,
                        start,
                        end,
                        text[start:end],
                        f.reason + " (split across messages)",
                    )
                )
            if out:
                break
        return out
