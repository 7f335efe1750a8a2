"""`Anchored` must find exactly what the plain regex finds (it only skips hopeless positions)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from shopdesk.screening.fastre import Anchored

PATTERNS = [
    re.compile(r"\b(?:whats\s?app|telegram|wechat|微信|vx)\b", re.I),
    re.compile(r"(?:refund|return)\s+(?:it\s+)?(?:offline|outside)", re.I),
    re.compile(r"\b(?:5\s*stars?|positive review)\b.{0,40}\b(?:gift card|refund|cash)\b", re.I),
    re.compile(r"[a-z]+@[a-z]+\.[a-z]{2,}", re.I),
    re.compile(r"\d{3}[-. ]?\d{4}"),
]
DEV = Path(__file__).resolve().parents[3] / "shared" / "eval" / "screening-dev.jsonl"


def spans(it: object) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in it]  # type: ignore[attr-defined]


def test_same_matches_on_dev_texts() -> None:
    texts = [json.loads(line)["text"] for line in DEV.read_text().splitlines() if line.strip()] \
        if DEV.exists() else ["add me on WhatsApp 555-0134", "give 5 stars and get a gift card"]
    for pattern in PATTERNS:
        fast = Anchored(pattern)
        for text in texts:
            assert spans(fast.finditer(text)) == spans(pattern.finditer(text)), (pattern, text)
            assert bool(fast.search(text)) == bool(pattern.search(text))


@given(st.text(alphabet="abcdefwhatsp@.- 0123456789微信vxREFUNDoffline", max_size=80))
def test_same_matches_on_random_text(text: str) -> None:
    for pattern in PATTERNS:
        assert spans(Anchored(pattern).finditer(text)) == spans(pattern.finditer(text))
