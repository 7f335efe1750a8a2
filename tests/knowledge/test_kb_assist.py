"""Assisted reply: top-3 suggestions and agent feedback (rules KB-5, TEAM-3)."""

from __future__ import annotations

from shopdesk.knowledge.assist import record_choice, suggest
from shopdesk.knowledge.matcher import Matcher
from shopdesk.knowledge.model import EntryStats
from shopdesk.knowledge.presets import seed_shop_kb

MATCHER = Matcher(seed_shop_kb(("en",)))


def test_three_suggestions_with_answers_even_when_unsure() -> None:
    out = suggest(MATCHER, "my package is late, where is it?")
    assert len(out) == 3
    assert out[0].entry.startswith("en.logistics.")
    assert all(s.answer and 0.0 <= s.score <= 1.0 for s in out)
    assert len(suggest(MATCHER, "lovely weather today")) == 3  # KB-5: whatever the confidence


def test_record_choice_is_pure_and_counts() -> None:
    before: dict[str, EntryStats] = {}
    after = record_choice(before, ["a", "b", "a"], "b")
    assert before == {}
    assert after["a"] == EntryStats(shown=1) and after["b"] == EntryStats(shown=1, tapped=1)
    assert record_choice(after, ["a"], None)["a"].shown == 2


def test_agent_choices_move_close_candidates() -> None:
    text = "my package is late, where is it?"
    first, second = suggest(MATCHER, text)[:2]
    stats: dict[str, EntryStats] = {}
    for _ in range(30):  # agents keep preferring the runner-up
        stats = record_choice(stats, [first.entry, second.entry], second.entry)
    reranked = suggest(MATCHER, text, stats)
    if first.score - second.score < 0.2:
        assert reranked[0].entry == second.entry
    assert reranked[0].rank_score >= reranked[1].rank_score
