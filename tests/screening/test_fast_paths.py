"""Fast paths of the engine give exactly what the plain formulation gives (speed only).

Each fast path below replaced a slower, obviously correct formulation; these tests pit the
two against each other on texts built around the edge cases (separators, word boundaries,
the ASCII control characters that ``str.strip`` removes but ``bytes.strip`` keeps).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from shopdesk.screening import load_policy, screen_message
from shopdesk.screening.detectors.phrases import _SEGMENT, _repeated
from shopdesk.screening.gate import Hits, WordCondition
from shopdesk.screening.normalise import (
    _AT_WORD_HINT,
    _DOT_WORD,
    _DOT_WORD_HINT,
    View,
    _fold,
    _fold_char,
)

POLICY = load_policy("us")

_ASCII_BITS = ["pay", "paypal", "zelle", "it's", "b2b", "x", "7", "'", "_", "-", " ", ".", "\x1f"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from([*_ASCII_BITS, "é", "PAY"]), max_size=10).map("".join),
    st.sampled_from(["[a-z]", "[a-z0-9']"]),
)
def test_word_conditions_see_the_regex_tokens(text: str, token: str) -> None:
    words = ["pay", "it's", "b2b", "zelle"]
    expected = not text.isascii() or not set(words).isdisjoint(re.findall(token + "+", text))
    assert WordCondition(words, token).holds(Hits(text, frozenset())) is expected


_TLD_TAIL = _DOT_WORD.pattern[_DOT_WORD.pattern.index("(?=") + 3 : -1]
_JOINT_DOT = re.compile(r"(?:dot|点|點|\.)\s*" + _TLD_TAIL)
_JOINT_AT = re.compile(r"(?:at|艾特|圈a|@)[\s\]\)\}]*[a-z0-9\-]+\.[a-z]{2,}")
_HINT_BITS = ["dot", ".", "点", "點", "at", "@", "艾特", "圈a", " ", "]"]
_HINT_BITS += ["com", "co", "gmail", "x1"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_HINT_BITS), max_size=10).map("".join))
def test_lead_hints_agree_with_the_joint_regex(text: str) -> None:
    assert _DOT_WORD_HINT.search(text) is (_JOINT_DOT.search(text) is not None)
    assert _AT_WORD_HINT.search(text) is (_JOINT_AT.search(text) is not None)


def _repeated_reference(t: str) -> bool:
    segs = [s for s in _SEGMENT.split(t) if len(s) >= 6 and "{{" not in s]
    return len(segs) >= 3 and max(segs.count(s) for s in set(segs)) >= 3


_AD_BITS = ["buy now", "buy now ", "cheap", "\x1f", " ", ". ", "!", ",", "~", "。", "买买买便宜货"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_AD_BITS), max_size=14).map("".join))
def test_repeated_advertising_precheck_is_exact(text: str) -> None:
    assert _repeated(text) is _repeated_reference(text)


def test_repeated_advertising_padded_with_control_characters() -> None:
    # str.strip (and \s) remove \x1f; the ASCII fast path must too
    res = screen_message("buy cheap now\x1f. buy cheap now. \x1fbuy cheap now.", policy=POLICY)
    assert [f.rule for f in res.findings] == ["SCR-11"]
    assert res.verdict != "allow"
    assert screen_message("buy cheap now. buy cheap now. buy later.", policy=POLICY).verdict == (
        "allow"
    )


def _fold_reference(text: str) -> View:
    """Character by character, each output character mapped to its source character."""
    chars, starts, ends = [], [], []
    for i, ch in enumerate(text):
        for c in _fold_char(ch):
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
    return View("".join(chars), tuple(starts), tuple(ends))


_FOLD_BITS = ["Call", " ", "é", "’", "—", "Ｃａｌｌ", "①", "\u200b", "ﬁ", "а", "İ", "微信", "。"]
_FOLD_BITS += ["\u0301"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_FOLD_BITS), max_size=10).map("".join))
def test_fold_fast_path_keeps_text_and_offsets(text: str) -> None:
    # the fast path (one character out for each in: offsets are the identity) and the
    # character-by-character path give the same text and the same original spans
    got, ref = _fold(text), _fold_reference(text)
    assert got.text == ref.text
    n = len(ref.text)
    assert [got.span(i, j) for i in range(n) for j in range(i + 1, n + 1)] == [
        ref.span(i, j) for i in range(n) for j in range(i + 1, n + 1)
    ]
