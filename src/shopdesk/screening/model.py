"""Result types of the screening engine (CONTRACTS §3)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing found: its rule, kind, original span (None for attachments) and a reason."""

    rule: str
    kind: str
    start: int | None
    end: int | None
    text: str
    reason: str
    attachment: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "rule": self.rule,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "reason": self.reason,
        }
        if self.attachment is not None:
            out["attachment"] = self.attachment
        return out


@dataclass(frozen=True, slots=True)
class ScreenResult:
    verdict: str  # block | flag | allow (SCR-D1)
    findings: tuple[Finding, ...] = field(default_factory=tuple)
