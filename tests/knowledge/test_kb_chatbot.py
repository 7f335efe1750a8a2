"""Chatbot decision (rule KB-7), greeting and FAQ cards (rule KB-4), outcome statistics."""

from __future__ import annotations

import pytest

from shopdesk.knowledge.chatbot import (
    DEFAULT_OUT_OF_HOURS,
    asks_for_person,
    cards_shown,
    decide,
    greeting_text,
    record_outcome,
    select_cards,
    tap_card,
)
from shopdesk.knowledge.matcher import Matcher
from shopdesk.knowledge.presets import seed_shop_kb

KB = seed_shop_kb(("en", "zh"))
MATCHER = Matcher(KB)


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a human",
        "can I speak to an agent please",
        "get me a REAL PERSON",
        "connect me with customer service",
        "转人工",
        "我要人工",
        "客服在吗",
        "找真人",
    ],
)
def test_request_for_a_person_hands_over(text: str) -> None:
    # rule KB-7: a buyer who asks for a person is handed over, whatever the KB matches.
    assert asks_for_person(text)
    d = decide(MATCHER, text, chatbot_enabled=True, within_hours=True)
    assert (d.action, d.reason, d.handover, d.text) == ("handover", "asked_for_person", True, None)


@pytest.mark.parametrize("text", ["where is my parcel", "我想退货", "humane treatment of animals"])
def test_ordinary_questions_do_not_ask_for_a_person(text: str) -> None:
    assert not asks_for_person(text)


def test_confident_match_is_answered_automatically() -> None:
    d = decide(MATCHER, "How can I return this item?", chatbot_enabled=True, within_hours=True)
    assert d.action == "answer" and not d.handover
    assert d.entry == "en.after_sale.return"
    assert d.text == next(e.answer for e in KB if e.id == d.entry)


def test_low_confidence_hands_over() -> None:
    d = decide(
        MATCHER, "the cat knocked over my coffee again", chatbot_enabled=True, within_hours=True
    )
    assert (d.action, d.reason, d.handover) == ("handover", "low_confidence", True)


def test_out_of_hours_sends_notice_and_hands_over() -> None:
    d = decide(
        MATCHER,
        "the cat knocked over my coffee again",
        chatbot_enabled=True,
        within_hours=False,
        out_of_hours_notice="Back at 9.",
    )
    assert (d.action, d.text, d.handover) == ("out_of_hours", "Back at 9.", True)
    d = decide(MATCHER, "转人工", chatbot_enabled=True, within_hours=False, lang="zh")
    assert d.text == DEFAULT_OUT_OF_HOURS["zh"] and d.reason == "asked_for_person"


def test_out_of_hours_still_answers_a_confident_question() -> None:
    d = decide(MATCHER, "How can I return this item?", chatbot_enabled=True, within_hours=False)
    assert d.action == "answer"


def test_chatbot_off_does_nothing() -> None:
    d = decide(MATCHER, "How can I return this item?", chatbot_enabled=False, within_hours=True)
    assert (d.action, d.handover) == ("none", False)


def test_greeting_prefers_the_shop_text() -> None:
    # rule KB-4: the shop sets a greeting; without one, its greeting entry is used.
    assert greeting_text("Welcome to Acme!", KB) == "Welcome to Acme!"
    assert greeting_text(None, KB, "zh") == next(
        e.answer for e in KB if e.category == "greeting" and e.lang == "zh"
    )
    assert greeting_text("", [], "en")


def test_cards_follow_the_shop_picks_in_order() -> None:
    picked = ["en.logistics.tracking", "missing", "en.after_sale.return", "en.logistics.tracking"]
    cards = select_cards(KB, picked)
    assert [c.id for c in cards] == ["en.logistics.tracking", "en.after_sale.return"]


def test_default_cards_are_the_most_tapped_in_the_buyer_language() -> None:
    _, kb = tap_card(KB, "en.after_sale.refund")
    kb = cards_shown(kb, ["en.after_sale.refund"])
    cards = select_cards(kb, lang="en", limit=3)
    assert cards[0].id == "en.after_sale.refund"
    assert all(c.lang == "en" and c.category != "greeting" for c in cards)


def test_tapping_a_card_returns_its_answer_and_counts() -> None:
    # rule KB-4: a tapped card is answered automatically.
    answer, kb = tap_card(KB, "en.logistics.tracking")
    entry = next(e for e in kb if e.id == "en.logistics.tracking")
    assert answer == entry.answer and entry.stats.tapped == 1 and entry.stats.auto_answered == 1
    assert KB[0].stats.tapped == 0  # pure: the input is unchanged
    with pytest.raises(KeyError):
        tap_card(KB, "nope")


def test_outcome_counts_handover_and_rating() -> None:
    stats = record_outcome({}, "e1", handed_over=True, stars=4)
    assert (stats["e1"].handed_over, stats["e1"].rated, stats["e1"].rating_sum) == (1, 1, 4)
    with pytest.raises(ValueError):
        record_outcome({}, "e1", handed_over=False, stars=6)
