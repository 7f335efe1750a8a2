"""Chatbot decision (rule KB-7) and greeting/FAQ cards (rule KB-4), as pure functions.

No clock here: the caller says whether the shop is within business hours (CHAT-4) and passes
the notice text. A decision that hands over means the server records a ``handoff`` event
(CONTRACTS §1), so the session waits for a human reply (EV-2, EV-4).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from shopdesk.knowledge.matcher import Matcher
from shopdesk.knowledge.model import Entry, EntryStats
from shopdesk.knowledge.text import normalise

Action = Literal["answer", "handover", "out_of_hours", "none"]
Reason = Literal[
    "confident", "asked_for_person", "low_confidence", "out_of_hours", "chatbot_off", "empty"
]

# rule KB-7: a buyer asking for a person is handed over whatever the KB says.
_PERSON_EN = re.compile(
    r"\b(human|humans|agent|agents|real person|a person|someone real|representative|operator|"
    r"live (?:chat|support|person)|customer (?:service|support|care)|staff member|"
    r"talk to (?:someone|somebody)|speak to (?:someone|somebody)|speak with (?:someone|somebody))\b"
)
_PERSON_ZH = re.compile(r"人工|真人|客服|转接|活人|工作人员")

DEFAULT_OUT_OF_HOURS = {
    "en": "Thanks for your message! We're outside our business hours now; "
    "a member of our team will reply as soon as we're back.",
    "zh": "感谢您的留言！现在是非工作时间，客服上班后会第一时间回复您。",
}


def asks_for_person(text: str) -> bool:
    """True when the buyer asks for a human agent ("human", "real person", "转人工", "客服"…)."""
    norm = normalise(text)
    return bool(_PERSON_EN.search(norm) or _PERSON_ZH.search(norm))


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action  # answer: send entry's answer; out_of_hours: send text; handover/none: nothing
    reason: Reason
    handover: bool  # a person must take over (server records a handoff event)
    entry: str | None = None
    text: str | None = None  # the message to send automatically, if any
    confidence: float = 0.0


def decide(
    matcher: Matcher,
    message: str,
    *,
    chatbot_enabled: bool,
    within_hours: bool,
    out_of_hours_notice: str | None = None,
    lang: str = "en",
) -> Decision:
    """What the chatbot does with a buyer message (rule KB-7, pure).

    Order: chatbot off → nothing automatic; a request for a person → hand over (with the
    out-of-hours notice outside hours); a confident match → answer with that entry; otherwise
    hand over, sending the out-of-hours notice when the shop is closed.
    """
    notice = out_of_hours_notice or DEFAULT_OUT_OF_HOURS.get(lang, DEFAULT_OUT_OF_HOURS["en"])
    if not chatbot_enabled:
        return Decision("none", "chatbot_off", handover=False)
    if not message.strip():
        return Decision("none", "empty", handover=False)
    if asks_for_person(message):
        if within_hours:
            return Decision("handover", "asked_for_person", handover=True)
        return Decision("out_of_hours", "asked_for_person", handover=True, text=notice)
    result = matcher.match(message, top=1)
    if result.answer is not None:
        entry = next(e for e in matcher.entries if e.id == result.answer)
        return Decision("answer", "confident", False, entry.id, entry.answer, result.confidence)
    if within_hours:
        return Decision("handover", "low_confidence", True, confidence=result.confidence)
    return Decision("out_of_hours", "out_of_hours", True, text=notice, confidence=result.confidence)


# --- rule KB-4: greeting and FAQ cards ------------------------------------------------------

MAX_CARDS = 5


def greeting_text(shop_greeting: str | None, entries: Sequence[Entry], lang: str = "en") -> str:
    """The shop's greeting, else its first enabled greeting entry in that language."""
    if shop_greeting and shop_greeting.strip():
        return shop_greeting
    for e in entries:
        if e.enabled and e.category == "greeting" and (e.lang in (None, lang)):
            return e.answer
    return DEFAULT_GREETING.get(lang, DEFAULT_GREETING["en"])


DEFAULT_GREETING = {
    "en": "Hello and welcome! How can we help you today?",
    "zh": "您好，欢迎光临！请问有什么可以帮您？",
}


def select_cards(
    entries: Sequence[Entry],
    picked: Sequence[str] = (),
    *,
    lang: str | None = None,
    limit: int = MAX_CARDS,
) -> list[Entry]:
    """FAQ cards to show a buyer who opens the chat (rule KB-4).

    The shop's picks in their order (enabled ones only). With no picks, the most tapped
    non-greeting entries (tap count, then tap rate, then KB order) in the buyer's language.
    """
    by_id = {e.id: e for e in entries if e.enabled and (lang is None or e.lang in (None, lang))}
    if picked:
        seen: list[Entry] = []
        for pid in picked:
            e = by_id.get(pid)
            if e is not None and e not in seen:
                seen.append(e)
        return seen[:limit]
    pool = [e for e in by_id.values() if e.category != "greeting"]
    ranked = sorted(enumerate(pool), key=lambda p: (-p[1].stats.tapped, -p[1].stats.tap_rate, p[0]))
    return [e for _, e in ranked[:limit]]


def cards_shown(entries: Sequence[Entry], shown: Sequence[str]) -> list[Entry]:
    """Entries with ``shown`` + 1 for each card shown (pure)."""
    ids = set(shown)
    return [replace(e, stats=e.stats.bump(shown=1)) if e.id in ids else e for e in entries]


def tap_card(entries: Sequence[Entry], entry_id: str) -> tuple[str, list[Entry]]:
    """A buyer tapped a card: the answer to send automatically and the updated entries (KB-4).

    The automatic answer leaves the conversation unreplied for agents (rule KB-6).
    """
    target = next((e for e in entries if e.id == entry_id and e.enabled), None)
    if target is None:
        raise KeyError(entry_id)
    updated = [
        replace(e, stats=e.stats.bump(tapped=1, auto_answered=1)) if e.id == entry_id else e
        for e in entries
    ]
    return target.answer, updated


def record_outcome(
    stats: Mapping[str, EntryStats], entry_id: str, *, handed_over: bool, stars: int | None = None
) -> dict[str, EntryStats]:
    """After an automatic answer: count a later hand-over and/or the buyer's rating (pure)."""
    out = dict(stats)
    current = out.get(entry_id, EntryStats())
    deltas = {"handed_over": int(handed_over)}
    if stars is not None:
        if not 1 <= stars <= 5:
            raise ValueError("stars must be 1–5 (CHAT-9)")
        deltas |= {"rated": 1, "rating_sum": stars}
    out[entry_id] = current.bump(**deltas)
    return out
