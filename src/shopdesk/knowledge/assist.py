"""Assisted reply (rule KB-5, TEAM-3): top suggestions for the buyer's latest message.

Ranking = matcher confidence plus a small bonus from how often agents picked the entry when it
was suggested (smoothed pick rate, prior 1/2), so entries agents keep choosing rise and
entries they keep ignoring sink — without overriding a clearly better text match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shopdesk.knowledge.matcher import Matcher
from shopdesk.knowledge.model import EntryStats

PICK_WEIGHT = 0.2  # at most ±0.1 on a 0–1 confidence
CANDIDATES = 10


@dataclass(frozen=True, slots=True)
class Suggestion:
    entry: str
    answer: str
    score: float  # matcher confidence, 0–1
    rank_score: float  # score adjusted by the agents' picks


def pick_rate(stats: EntryStats | None) -> float:
    """Smoothed share of suggestions of this entry that an agent picked (prior 1/2)."""
    if stats is None:
        return 0.5
    return (stats.tapped + 1) / (stats.shown + 2)


def suggest(
    matcher: Matcher,
    message: str,
    stats: Mapping[str, EntryStats] | None = None,
    top: int = 3,
) -> list[Suggestion]:
    """Up to ``top`` suggestions, best first, whatever their confidence (rule KB-5)."""
    stats = stats or {}
    answers = {e.id: e.answer for e in matcher.entries}
    found = matcher.match(message, top=max(top, CANDIDATES)).matches
    out = [
        Suggestion(
            m.entry,
            answers[m.entry],
            m.score,
            m.score + PICK_WEIGHT * (pick_rate(stats.get(m.entry)) - 0.5),
        )
        for m in found
    ]
    out.sort(key=lambda s: -s.rank_score)
    return out[:top]


def record_choice(
    stats: Mapping[str, EntryStats], shown: Sequence[str], chosen: str | None
) -> dict[str, EntryStats]:
    """Feedback: every shown suggestion gets ``shown`` + 1, the agent's choice ``tapped`` + 1.

    ``chosen`` None means the agent wrote their own reply. Pure: a new mapping is returned.
    """
    out = dict(stats)
    for entry_id in dict.fromkeys(shown):
        out[entry_id] = out.get(entry_id, EntryStats()).bump(shown=1)
    if chosen is not None:
        out[chosen] = out.get(chosen, EntryStats()).bump(tapped=1)
    return out
