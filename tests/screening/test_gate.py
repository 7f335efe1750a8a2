"""The literal gate (gate.py) only skips work: gated and ungated screening agree exactly.

The gate lets a regex run only where the literal strings every match must contain occur;
these tests check that claim per pattern and end to end (findings, spans, verdicts) on the
dev set and on generated texts built from the very strings the gate looks for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from shopdesk.screening import ConversationScreener, load_policy, screen_message
from shopdesk.screening.engine import find_contacts
from shopdesk.screening.gate import GATE, PY_SPACE_CHARS, requirements, ungated
from shopdesk.screening.normalise import normalise

DEV = Path(__file__).resolve().parents[3] / "shared" / "eval" / "screening-dev.jsonl"
POLICY = load_policy("us")
SAMPLES = [
    "Hi, where is my order #48213? Tracking 1Z999AA10123456784 says delivered.",
    "call me 415 555 0132 or whats app me, anna (at) gmail [dot] com",
    "加我微信 abc_8866，私下转账给你便宜点",
    "Please cancel the order yourself so we avoid the penalty.",
    "leave 5 stars and I'll refund you $10 via paypal",
    "you stupid idiot, I know where you live",
    "Visit cozy-goods.shop for 20% off!!! BUY NOW!!! BUY NOW!!! BUY NOW!!!",
    "Send your full name and bank card number to confirm.",
    "w h a t s a p p  5 5 5 . 1 2 3 . 4 5 6 7",
    "my IBAN is DE89 3704 0044 0532 0130 00",
    "Ｃａｌｌ ①②③ ４５６ ７８９０ now",
    "売り切れ ٣٤٥٦٧٨٩٠١٢ (Arabic-Indic digits go the ungated way)",
]


def _texts() -> list[str]:
    if not DEV.exists():
        return SAMPLES
    rows = [json.loads(x) for x in DEV.read_text("utf-8").splitlines() if x.strip()]
    return SAMPLES + [r["text"] for r in rows]


def _outcome(text: str) -> tuple[object, ...]:
    seller = screen_message(text, policy=POLICY)
    buyer = screen_message(text, sender="buyer", policy=POLICY)
    return (
        seller.verdict,
        seller.findings,
        buyer.verdict,
        buyer.findings,
        tuple(find_contacts(text, policy=POLICY)),
    )


def test_py_space_chars_are_pythons_whitespace() -> None:
    assert set(PY_SPACE_CHARS) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def test_requirements_of_a_pattern() -> None:
    req = requirements(re.compile(r"\byour\s+(?:whats\s?app|wechat)\b"))
    assert req is not None and len(req) == 1
    factors = set(req[0])
    assert frozenset({("your", True)}) in factors  # a word start: not in "ayour"
    # and one string from each app name (re's parser shares their "w": "hats" or "echat")
    (apps,) = factors - {frozenset({("your", True)})}
    assert {s for s, _b in apps} == {"hats", "echat"}
    # an alternative that can match without any literal: nothing to gate on
    assert requirements(re.compile(r"refund|\w+\s+\w+")) is None


def test_skipped_patterns_cannot_match() -> None:
    """Per pattern: wherever it matches the text, the gate said it might."""
    for text in _texts():
        for view in (normalise(text).plain.text, normalise(text).contact.text):
            ok = GATE.scan(view).ok
            for gid, pattern in enumerate(GATE.patterns):
                if pattern.search(view):
                    assert gid in ok, (pattern.pattern[:80], view)


def test_gated_and_ungated_agree_on_dev_set() -> None:
    texts = _texts()
    gated = [_outcome(t) for t in texts]
    with ungated():
        full = [_outcome(t) for t in texts]
    assert gated == full
    # the gate does skip work: most of these texts rule most patterns out
    assert sum(len(GATE.scan(normalise(t).plain.text).ok) for t in texts) < 0.3 * len(texts) * len(
        GATE.patterns
    )


def test_conversation_joining_agrees() -> None:
    msgs = ["my number", "is 415", "555", "0132"]

    def run() -> list[tuple[str, tuple[object, ...]]]:
        conv = ConversationScreener(policy=POLICY)
        return [(r.verdict, r.findings) for r in (conv.screen(m, sender="seller") for m in msgs)]

    gated = run()
    with ungated():
        assert run() == gated
    assert gated[-1][0] == "block"  # the completing message carries the phone number


def test_non_ascii_digits_search_everything() -> None:
    assert GATE.scan("电话 ١٢٣٤٥٦٧٨").ok == frozenset(range(len(GATE.patterns)))


_PIECES = sorted(GATE.strings() | {"0", "7", "@", ".", " ", "\u200b", "а", "微信", "好评"})
_SEPARATORS = [" ", "  ", ", ", ". ", "\n", "-", "", "!", "(", ")", "[dot]", " at "]


@st.composite
def _trigger_text(draw: st.DrawFn) -> str:
    """Texts assembled from the gate's own strings, digits and separators: they sit right
    on the gate's decisions (a string present or not, a word start or not)."""
    parts = draw(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=12))
    seps = draw(st.lists(st.sampled_from(_SEPARATORS), min_size=len(parts), max_size=len(parts)))
    digits = draw(st.text(alphabet="0123456789 ", max_size=14))
    words = [p + s for p, s in zip(parts, seps, strict=True)]
    words.insert(draw(st.integers(0, len(words))), digits)
    text = "".join(words)
    return text.upper() if draw(st.booleans()) else text


@settings(max_examples=300, deadline=None)
@given(_trigger_text())
def test_gated_and_ungated_agree_on_generated_text(text: str) -> None:
    gated = _outcome(text)
    with ungated():
        assert _outcome(text) == gated


@settings(max_examples=300, deadline=None)
@given(_trigger_text())
def test_gate_is_conservative_per_pattern_on_generated_text(text: str) -> None:
    view = normalise(text).plain.text
    ok = GATE.scan(view).ok
    for gid, pattern in enumerate(GATE.patterns):
        if pattern.search(view):
            assert gid in ok, (pattern.pattern[:80], view)
