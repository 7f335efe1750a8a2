"""Translation of Python regexes into Hyperscan prefilters (prefilter.py): a translated
pattern must report every text its regex matches, in both flavours (ASCII and UTF-8),
including where Python's and PCRE's meanings differ (``\\s``, ``\\w``, ``\\d``, ``\\b``)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopdesk.screening.gate import Gate
from shopdesk.screening.prefilter import PY_SPACE_CHARS, Untranslatable, translate

PATTERNS = [
    r"\bcall\s+me\b",
    r"\b\w+ing\b",
    r"\bfree\b(?! to\b)",
    r"\d{3}\s?\d{4}",
    r"[^.!?。\n]{2,5}x",
    r"(?<=[a-z0-9])\s*(?:\bdot\b|点|\.\s)\s*(?=(?:com|net)\b)",
    r"(?<![\w$])\$[a-z][a-z0-9_]{2,}",
    r"(?:微信|wx)\s*[:：]\s*\w{3,}",
    r"(?:您|你)的[^。！？\n]{0,6}(?:手机号|电话)",
    r"a.b",
    r"(?s:x).y",
    r"(\w)\1{2}",
    r"(?>ab|a)c",
    r"x*+y",
    r"\W\S\D",
    r"^start|end$|\Aabs\Z",
    r"[\u4e00-\u9fff]{2}\s*\d+\s*(?:号|號)",
    r"é+\b",
]
PATTERNS_DOTALL = [r"a.b"]
_ALPHABET = [
    *"abcdefgimnorstwxyz019$@._:!? ",
    "\n", "\x1c", "\x85", "\u3000", "\u2003", "é", "É", "ß", "中", "信", "微", "你", "的",
    "号", "电", "话", "手", "机", "。", "：", "٣", "①", "½", "\u200b", "点", "dot", "com",
    "call", "me", "ing", "free", " to", "wx",
]  # fmt: skip


@pytest.fixture(scope="module")
def gate() -> Gate:
    g = Gate()
    for p in PATTERNS:
        g.register(re.compile(p))
    for p in PATTERNS_DOTALL:
        g.register(re.compile(p, re.DOTALL))
    return g


def test_py_space_chars_are_pythons_whitespace() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert set(PY_SPACE_CHARS) == set(re.findall(r"\s", every))


def test_every_example_pattern_translates(gate: Gate) -> None:
    assert gate.refused() == frozenset()


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=24).map("".join))
def test_translation_reports_every_match(gate: Gate, text: str) -> None:
    ok = gate.scan(text).ok
    for gid, pattern in enumerate(gate.patterns):
        if pattern.search(text):
            assert gid in ok, (pattern.pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"\d{3}\s?\d{4}", "call ٣٤٥ ٦٧٨٩"),  # \d: any decimal digit
        (r"\bcall\s+me\b", "call\x1cme"),  # \s: \x1c-\x1f too (not in PCRE)
        (r"\bcall\s+me\b", "call\u3000me。"),
        (r"\b\w+ing\b", "ça va, thinking"),
        (r"é+\b", "café au lait"),
        (r"(?:您|你)的[^。！？\n]{0,6}(?:手机号|电话)", "请告诉我你的新手机号"),
        (r"(?<=[a-z0-9])\s*(?:\bdot\b|点|\.\s)\s*(?=(?:com|net)\b)", "anna 点 com"),
    ],
)
def test_examples_where_pcre_differs_are_reported(pattern: str, text: str) -> None:
    gate = Gate()
    gid = gate.register(re.compile(pattern))
    assert re.search(pattern, text)
    assert gid in gate.scan(text).ok


def test_look_arounds_at_the_edges_are_matched_as_text() -> None:
    # (?<=x)p(?=y) matches where xpy does: kept, so "dot" alone is not a candidate
    gate = Gate()
    gid = gate.register(re.compile(r"(?<=[a-z0-9])\s*\bdot\b\s*(?=(?:com|net)\b)"))
    assert gid in gate.scan("anna dot com").ok
    assert gid not in gate.scan("a dot on the map").ok
    assert gid not in gate.scan(" dot com").ok


def test_chinese_only_pattern_is_left_out_for_ascii_text() -> None:
    assert translate(re.compile(r"微信|wx"), utf8=False) == b"(?:wx)"
    assert translate(re.compile(r"微信"), utf8=False) is None
    assert translate(re.compile(r"微信"), utf8=True) == rb"\x{5fae}\x{4fe1}"
    gate = Gate()
    gid = gate.register(re.compile(r"加\s*微信"))
    assert gid not in gate.scan("add me on wechat").ok
    assert gid in gate.scan("加 微信 abc").ok


def test_case_insensitive_patterns_are_refused() -> None:
    with pytest.raises(Untranslatable):
        translate(re.compile("abc", re.IGNORECASE), utf8=False)
    with pytest.raises(Untranslatable):
        translate(re.compile("(?i:abc)d"), utf8=True)


def test_other_flags_are_translated() -> None:
    gate = Gate()
    multi = gate.register(re.compile(r"^abc$", re.MULTILINE))
    ascii_ = gate.register(re.compile(r"\bx\w+", re.ASCII))
    verbose = gate.register(re.compile(r" q  r  # comment", re.VERBOSE))
    assert gate.refused() == frozenset()
    assert gate.scan("x\nabc\ny").ok == {multi}
    assert gate.scan("éxyz qr").ok == {ascii_, verbose}
