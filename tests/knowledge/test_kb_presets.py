"""Platform presets: both languages, every category, valid and resettable (rule KB-2, KB-3)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from shopdesk.knowledge.jsonl import dump_kb, parse_kb
from shopdesk.knowledge.model import CATEGORIES
from shopdesk.knowledge.presets import load_presets, reset_to_preset, seed_shop_kb
from shopdesk.knowledge.text import is_chinese


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_at_least_eight_presets_per_category(lang: str) -> None:
    # rule KB-2, KB-3: presets in every one of the five categories, in both languages.
    counts = Counter(e.category for e in load_presets(lang))
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 8


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_presets_are_valid_and_in_their_language(lang: str) -> None:
    presets = load_presets(lang)
    assert len({e.id for e in presets}) == len(presets)
    for e in presets:
        assert e.lang == lang
        assert e.question.strip() and e.answer.strip() and e.similar
        assert is_chinese(e.question + e.answer) == (lang == "zh")
    assert parse_kb(dump_kb(presets).splitlines()) == list(presets)  # CONTRACTS §4 round trip


def test_presets_include_the_generic_look_into_it_reply() -> None:
    # rule KB-3: generic replies such as "Let me look into this for you".
    assert any("Let me look into this for you" in e.answer for e in load_presets("en"))


def test_seed_copies_presets_with_origin_and_fresh_stats() -> None:
    kb = seed_shop_kb(("en", "zh"), id_prefix="shop1:")
    assert len(kb) == len(load_presets("en")) + len(load_presets("zh"))
    assert all(e.id == "shop1:" + (e.preset_id or "") for e in kb)
    assert all(e.stats.shown == 0 and e.enabled for e in kb)


def test_reset_to_preset_restores_text_and_keeps_id_stats_and_flag() -> None:
    entry = seed_shop_kb(("zh",))[0]
    edited = replace(entry, answer="改过的回答", similar=(), enabled=False)
    edited = replace(edited, stats=edited.stats.bump(shown=3))
    reset = reset_to_preset(edited)
    assert reset.answer == entry.answer and reset.similar == entry.similar
    assert reset.id == entry.id and not reset.enabled and reset.stats.shown == 3


def test_reset_of_shop_written_entry_is_an_error() -> None:
    entry = replace(seed_shop_kb()[0], preset_id=None)
    with pytest.raises(ValueError):
        reset_to_preset(entry)


def test_unknown_language_is_an_error() -> None:
    with pytest.raises(ValueError):
        load_presets("fr")
