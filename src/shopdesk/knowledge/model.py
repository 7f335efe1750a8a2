"""Knowledge-base entries and their usage statistics as plain dataclasses (rule KB-1, KB-2)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, get_args

# rule KB-2: five categories.
Category = Literal["greeting", "pre_sale", "logistics", "after_sale", "other"]
CATEGORIES: tuple[str, ...] = get_args(Category)
LANGUAGES: tuple[str, ...] = ("en", "zh")


@dataclass(frozen=True, slots=True)
class EntryStats:
    """Usage counters of one entry (KB-4 cards, KB-5 assisted reply, KB-7 chatbot)."""

    shown: int = 0  # shown as a card or as an assisted-reply suggestion
    tapped: int = 0  # card tapped by a buyer, or suggestion picked by an agent
    auto_answered: int = 0  # sent automatically by the chatbot
    handed_over: int = 0  # a person had to take over after the automatic answer
    rated: int = 0  # number of ratings received after this entry was used
    rating_sum: int = 0  # sum of the 1–5 stars of those ratings

    @property
    def tap_rate(self) -> float:
        return self.tapped / self.shown if self.shown else 0.0

    def bump(self, **deltas: int) -> EntryStats:
        """A copy with the named counters increased (pure)."""
        values = {name: getattr(self, name) + delta for name, delta in deltas.items()}
        return replace(self, **values)


@dataclass(frozen=True, slots=True)
class Entry:
    """One FAQ entry: a question, similar phrasings and an answer (rule KB-1)."""

    id: str
    category: Category
    question: str
    answer: str
    similar: tuple[str, ...] = ()
    lang: str | None = None
    enabled: bool = True
    preset_id: str | None = None  # the platform preset it was copied from (rule KB-3)
    stats: EntryStats = field(default_factory=EntryStats)

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its similar phrasings."""
        return (self.question, *self.similar)


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked entry with its confidence in 0–1."""

    entry: str
    score: float
