"""Proposed complaint urgency from its text (rule CMP-2), English and Chinese, explainable.

A keyword heuristic: each matched term adds its weight; the score maps to a level
(``high`` ≥ 5, ``medium`` ≥ 2, else ``low``). The proposal lists every hit, so staff see why;
staff confirm or change it at triage. Chinese terms match as substrings, English terms as
whole words (case-insensitive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (term, weight, why) — high-weight terms alone make a complaint urgent.
TERMS: tuple[tuple[str, int, str], ...] = (
    # safety, fraud, legal
    ("injury", 5, "safety"),
    ("injured", 5, "safety"),
    ("hurt", 5, "safety"),
    ("fire", 5, "safety"),
    ("burn", 5, "safety"),
    ("burned", 5, "safety"),
    ("explode", 5, "safety"),
    ("exploded", 5, "safety"),
    ("poison", 5, "safety"),
    ("allergic", 5, "safety"),
    ("unsafe", 5, "safety"),
    ("dangerous", 5, "safety"),
    ("fraud", 5, "fraud"),
    ("scam", 5, "fraud"),
    ("scammed", 5, "fraud"),
    ("stolen", 5, "fraud"),
    ("hacked", 5, "fraud"),
    ("police", 5, "legal"),
    ("lawyer", 5, "legal"),
    ("sue", 5, "legal"),
    ("lawsuit", 5, "legal"),
    ("受伤", 5, "safety"),
    ("起火", 5, "safety"),
    ("着火", 5, "safety"),
    ("爆炸", 5, "safety"),
    ("中毒", 5, "safety"),
    ("过敏", 5, "safety"),
    ("危险", 5, "safety"),
    ("诈骗", 5, "fraud"),
    ("骗子", 5, "fraud"),
    ("被骗", 5, "fraud"),
    ("盗刷", 5, "fraud"),
    ("报警", 5, "legal"),
    ("律师", 5, "legal"),
    ("起诉", 5, "legal"),
    # money and goods at stake
    ("refund", 2, "money"),
    ("charged", 2, "money"),
    ("twice", 2, "money"),
    ("counterfeit", 3, "goods"),
    ("fake", 3, "goods"),
    ("broken", 2, "goods"),
    ("damaged", 2, "goods"),
    ("missing", 2, "goods"),
    ("never arrived", 2, "delivery"),
    ("not received", 2, "delivery"),
    ("wrong item", 2, "goods"),
    ("退款", 2, "money"),
    ("扣款", 2, "money"),
    ("假货", 3, "goods"),
    ("假冒", 3, "goods"),
    ("破损", 2, "goods"),
    ("坏了", 2, "goods"),
    ("少件", 2, "goods"),
    ("发错", 2, "goods"),
    ("没收到", 2, "delivery"),
    ("未收到", 2, "delivery"),
    # time pressure and escalation words
    ("urgent", 2, "time"),
    ("immediately", 2, "time"),
    ("asap", 2, "time"),
    ("emergency", 3, "time"),
    ("again", 1, "repeat"),
    ("still", 1, "repeat"),
    ("紧急", 2, "time"),
    ("马上", 2, "time"),
    ("立即", 2, "time"),
    ("尽快", 2, "time"),
    ("又", 1, "repeat"),
    ("还是", 1, "repeat"),
    ("投诉", 1, "escalation"),
    ("complaint", 1, "escalation"),
)
HIGH, MEDIUM = 5, 2


@dataclass(frozen=True)
class Hit:
    term: str
    weight: int
    why: str
    start: int
    end: int


@dataclass(frozen=True)
class UrgencyProposal:
    level: str  # high | medium | low
    score: int
    hits: tuple[Hit, ...]

    def explain(self) -> str:
        if not self.hits:
            return f"{self.level}: no urgency keyword found"
        parts = ", ".join(f"{h.term!r} (+{h.weight} {h.why})" for h in self.hits)
        return f"{self.level} (score {self.score}): {parts}"


def _is_cjk(term: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in term)


_PATTERNS = tuple(
    (
        re.compile(re.escape(term) if _is_cjk(term) else rf"\b{re.escape(term)}\b", re.I),
        term,
        weight,
        why,
    )
    for term, weight, why in TERMS
)


def propose_urgency(text: str) -> UrgencyProposal:
    """Score ``text``; each term counts once. Many "!" or SHOUTING add one point (tone)."""
    hits: list[Hit] = []
    for pattern, term, weight, why in _PATTERNS:
        m = pattern.search(text)
        if m:
            hits.append(Hit(term, weight, why, m.start(), m.end()))
    letters = [c for c in text if c.isascii() and c.isalpha()]
    if text.count("!") + text.count("！") >= 3 or (
        len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    ):
        hits.append(Hit("!!!/CAPS", 1, "tone", 0, 0))
    hits.sort(key=lambda h: (h.start, h.term))
    score = sum(h.weight for h in hits)
    level = "high" if score >= HIGH else "medium" if score >= MEDIUM else "low"
    return UrgencyProposal(level, score, tuple(hits))
