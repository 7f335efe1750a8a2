"""Knowledge base (SPEC §3 KB-1…KB-7): entries, presets, matcher, chatbot decisions.

Pure: no database, no web, no clock. See docs/knowledge.md.
"""

from __future__ import annotations

from shopdesk.knowledge.assist import Suggestion, record_choice, suggest
from shopdesk.knowledge.chatbot import (
    Decision,
    asks_for_person,
    cards_shown,
    decide,
    greeting_text,
    record_outcome,
    select_cards,
    tap_card,
)
from shopdesk.knowledge.jsonl import KBFormatError, dump_kb, parse_kb, parse_queries
from shopdesk.knowledge.matcher import Matcher, Result
from shopdesk.knowledge.model import CATEGORIES, Entry, EntryStats, Match
from shopdesk.knowledge.presets import load_presets, reset_to_preset, seed_shop_kb
from shopdesk.knowledge.semantic import load_encoder

__all__ = [
    "CATEGORIES",
    "Decision",
    "Entry",
    "EntryStats",
    "KBFormatError",
    "Match",
    "Matcher",
    "Result",
    "Suggestion",
    "asks_for_person",
    "cards_shown",
    "decide",
    "dump_kb",
    "greeting_text",
    "load_encoder",
    "load_presets",
    "parse_kb",
    "parse_queries",
    "record_choice",
    "record_outcome",
    "reset_to_preset",
    "seed_shop_kb",
    "select_cards",
    "suggest",
    "tap_card",
]
