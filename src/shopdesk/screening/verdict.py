"""Verdict from findings (rule SCR-D1): block beats flag beats allow."""

from __future__ import annotations

from collections.abc import Iterable

from shopdesk.screening.model import Finding
from shopdesk.screening.policy import ScreeningPolicy

_RANK = {"allow": 0, "flag": 1, "block": 2}


def verdict(findings: Iterable[Finding], policy: ScreeningPolicy, sender: str) -> str:
    best = "allow"
    for f in findings:
        act = policy.action(f.rule, sender)
        if _RANK[act] > _RANK[best]:
            best = act
    return best


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """Merge overlapping findings of the same rule and kind; order by position."""
    items = sorted(findings, key=lambda f: (f.start if f.start is not None else -1, f.rule, f.kind))
    out: list[Finding] = []
    for f in items:
        for k, g in enumerate(out):
            if (
                g.rule == f.rule
                and g.kind == f.kind
                and f.start is not None
                and g.start is not None
                and g.end is not None
                and f.end is not None
                and f.start < g.end
                and g.start < f.end
            ):
                if f.end > g.end:
                    out[k] = Finding(g.rule, g.kind, g.start, f.end, g.text, g.reason, g.attachment)
                break
        else:
            out.append(f)
    # a phone inside a messaging-app handle is that handle (rule SCR-1)
    handles = [(f.start, f.end) for f in out if f.kind == "messaging_handle"]
    return [
        f
        for f in out
        if not (
            f.kind == "phone"
            and any(
                a is not None
                and b is not None
                and f.start is not None
                and f.end is not None
                and a <= f.start
                and f.end <= b
                for a, b in handles
            )
        )
    ]
