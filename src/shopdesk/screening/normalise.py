"""Normalisation with a map back to original offsets (rule SCR-D2).

Two views are built from a message:
- ``plain``: NFKC, lower case, look-alike letters folded to Latin, zero-width/joiner
  characters and emoji modifiers dropped, Chinese full stop to '.', leetspeak inside
  mixed letter/digit words undone (used by the phrase rules SCR-2…SCR-11);
- ``contact``: ``plain`` plus digits written as words (English, Chinese incl. 壹贰叁/幺/两),
  digit look-alikes (l/O inside numbers), "at/dot" spellings, defanged dots and spaced-out
  letters collapsed (used by the contact detectors of SCR-1).
Every view keeps, for each of its characters, the original [start, end) it came from.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from shopdesk.screening.gate import GATE, Gated, Hits

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f\ufe0e\ufe0f\u20e3"

# Look-alike letters (Cyrillic, Greek) folded to Latin; math alphanumerics go through NFKC.
_LOOKALIKE = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
    "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w",
    "в": "b", "к": "k", "м": "m", "н": "h", "т": "t", "ь": "b", "ү": "y", "ο": "o",
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "ω": "w", "η": "n", "μ": "u",
    "。": ".", "｡": ".", "＠": "@", "﹫": "@", "：": ":", "，": ",", "．": ".",
}  # fmt: skip

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_DIGIT_LOOK = {"o": "0", "l": "1", "i": "1", "|": "1"}

EN_NUM = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
    "seis": "6", "siete": "7", "ocho": "8", "nueve": "9",
}  # fmt: skip
ZH_NUM = {
    "零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "兩": "2",
    "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
    "壹": "1", "贰": "2", "貳": "2", "叁": "3", "參": "3", "叄": "3", "肆": "4", "伍": "5",
    "陆": "6", "陸": "6", "柒": "7", "捌": "8", "玖": "9",
}  # fmt: skip


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    """One original character -> its normalised form ('' to drop it)."""
    if ch in ZERO_WIDTH:
        return ""
    if ch in _LOOKALIKE:
        return _LOOKALIKE[ch]
    out = unicodedata.normalize("NFKC", ch)
    if ch != out and len(out) > 1 and not out.isascii():
        out = ch  # keep compatibility expansions of CJK etc. as the original
    res = []
    for c in out.lower():
        c = _LOOKALIKE.get(c, c)
        cat = unicodedata.category(c)
        if cat in ("Mn", "Me", "Cf", "Sk") and c not in "^`":
            continue
        if cat == "So" and unicodedata.category(c) == "So":
            c = " "  # emoji and symbols act as separators
        res.append(c)
    return "".join(res)


class View(NamedTuple):
    """A normalised text plus, per character, the original [start, end) it came from.

    (A named tuple: built for every message, and cheaper to create than a dataclass.)
    """

    text: str
    starts: tuple[int, ...] | None  # None: identity mapping
    ends: tuple[int, ...] | None

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Original offsets of the normalised span [i, j)."""
        if self.starts is None or self.ends is None:
            return i, j
        if j <= i:
            return self.starts[i] if i < len(self.starts) else 0, self.starts[i] if i < len(
                self.starts
            ) else 0
        return self.starts[i], self.ends[j - 1]


def _identity(text: str) -> View:
    return View(text, None, None)


class _FoldTable(dict[int, str]):
    """``str.translate`` table of `_fold_char`, filled on first use of each character;
    ``irregular`` collects the characters that fold to other than one character."""

    irregular: set[str] = set()  # (never emptied: a superset is still right)

    def __missing__(self, cp: int) -> str:
        if len(self) >= 65536:
            self.clear()  # bounded memory, whatever text arrives
        out = self[cp] = _fold_char(chr(cp))
        if len(out) != 1:
            self.irregular.add(chr(cp))
        return out


_FOLD = _FoldTable()


def _fold(text: str) -> View:
    if text.isascii():
        return _identity(text.lower())
    folded = text.translate(_FOLD)  # (fills the table for every character of the text)
    if _FOLD.irregular.isdisjoint(text):
        return _identity(folded)  # one character for each: offsets unchanged
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        out = _fold_char(ch)
        for c in out:
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
    return View("".join(chars), tuple(starts), tuple(ends))


def rewrite(view: View, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> View:
    """Apply a regex substitution to a view, keeping the offset map."""
    text = view.text
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    vs = view.starts if view.starts is not None else range(len(text))
    ve = view.ends if view.ends is not None else range(1, len(text) + 1)
    pos = 0
    changed = False
    for m in pattern.finditer(text):
        a, b = m.span()
        new = repl(m)
        if new == m.group(0):
            continue
        changed = True
        pieces.append(text[pos:a])
        starts.extend(vs[pos:a])
        ends.extend(ve[pos:a])
        if new:
            o_start = vs[a] if a < len(text) else (ve[-1] if len(text) else 0)
            o_end = ve[b - 1] if b > a else o_start
            pieces.append(new)
            starts.extend([o_start] * len(new))
            ends.extend([o_end] * len(new))
        pos = b
    if not changed:
        return view
    pieces.append(text[pos:])
    starts.extend(vs[pos:])
    ends.extend(ve[pos:])
    return View("".join(pieces), tuple(starts), tuple(ends))


_MIXED_TOKEN = re.compile(
    r"(?<![a-z0-9])(?=[a-z0-9@$]*[a-z][a-z0-9@$]*[a-z])[a-z0-9@$]*\d[a-z0-9@$]*"
)
_LEET_TRIGGER = re.compile(r"[a-z][0-9@$]|[0-9@$][a-z]")


def _unleet(m: re.Match[str]) -> str:
    tok = m.group(0)
    if tok.count("@") and not re.fullmatch(r"[a-z0-9]*@[a-z0-9]*", tok):
        return tok
    if _UNIT.fullmatch(tok):  # units and ordinals: 5000mah, 65w, 10am, 2nd
        return tok
    head = tok[0] if tok[0] in "@$" else ""
    return head + "".join(_LEET.get(c, c) for c in tok[len(head) :])


_UNIT = re.compile(
    r"[\d.]+(?:mah|w|kw|am|pm|kg|g|cm|mm|m|km|gb|tb|mb|v|k|x|ml|l|in|ft|lb|lbs|oz|hz|ghz|th|st|nd|"
    r"rd|pcs|pc|s|h|hr|hrs|min|d|y|yr|yrs|mo|p|xl|xxl|xs)"
)


_MIXED_TOKEN_GATE = Gated(_MIXED_TOKEN, anchored=False)
# a letter next to 0-9@$: every _MIXED_TOKEN match holds one. The gate checks it (its
# prefilter of _MIXED_TOKEN, without the look-ahead, only asks for a digit); a rewrite
# that finds no token returns the view unchanged, so no ``re`` search is needed first.
_LEET_GID = GATE.register(_LEET_TRIGGER)


def plain_view(folded: View, hits: Hits | None = None) -> View:
    """View for phrase rules (SCR-2…SCR-11): the folded text with leetspeak undone.

    ``hits``: the gate's scan of ``folded.text`` (computed here when not given).
    """
    hits = hits or GATE.scan(folded.text)
    if hits.possible(_LEET_GID) and hits.possible(_MIXED_TOKEN_GATE.gid):
        return rewrite(folded, _MIXED_TOKEN, _unleet)
    return folded


# --- contact view -----------------------------------------------------------------------

_EN_NUM_RE = re.compile(r"\b(" + "|".join(sorted(EN_NUM, key=len, reverse=True)) + r")\b")
_EN_NUM_RUN = re.compile(
    r"\b(?:" + "|".join(EN_NUM) + r")(?:[\s,.\-]+(?:" + "|".join(EN_NUM) + r")){2,}\b"
)
_ZH_NUM_RE = re.compile("[" + "".join(ZH_NUM) + "]")
_ZH_NUM_RUN = re.compile("[" + "".join(ZH_NUM) + r"](?:[\s,.\-]*[" + "".join(ZH_NUM) + "]){2,}")
_DIGIT_LOOK_RE = re.compile(r"(?<![a-z])(?=[0-9oli|]*\d)(?=(?:[oli|]*\d){2})[0-9oli|]{3,}(?![a-z])")
_DEFANG = re.compile(r"\s*(?:\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\})\s*")
_DOT_WORD = re.compile(
    r"(?<=[a-z0-9])\s*(?:\bdot\b|点|點|\s\.\s?|\.\s)\s*(?=(?:com|net|org|cn|co|io|me|shop|store|info|biz|us|uk|hk|tw|de|online|site|xyz|top|vip|cc|tv|app|link|club)\b)"
)
_AT_WORD = re.compile(
    r"(?<=[a-z0-9_])\s*(?:\[\s*at\s*\]|\(\s*at\s*\)|\{\s*at\s*\}|\bat\b|艾特|圈a|\s@\s?|@\s)\s*(?=[a-z0-9\-]+\.[a-z]{2,})"
)
# Necessary conditions (speed): a _DOT_WORD match is "dot"/点/"." then spaces and a TLD;
# an _AT_WORD match is "at"/艾特/圈a/"@", spaces or a closing bracket, then a domain.


class _LeadHint:
    """``search`` tells whether ``(?:w1|w2|…)rest`` matches somewhere in a text.

    One regex per leading word, tried only when the word occurs (``in``): a pattern that
    starts with a literal is scanned for by ``re``'s fast prefix search, while the joint
    alternation (or `Anchored`'s trie of starts) is tried at every position — ~4-7x
    slower on the bench texts, where "." and "at" occur in most messages.
    """

    __slots__ = ("alts",)

    def __init__(self, words: tuple[str, ...], rest: str) -> None:
        self.alts = tuple((w, re.compile(re.escape(w) + rest)) for w in words)

    def search(self, text: str) -> bool:
        return any(w in text and p.search(text) is not None for w, p in self.alts)


# _DOT_WORD's look-ahead (a TLD) after "dot", 点, 點 or "." and spaces
_DOT_WORD_HINT = _LeadHint(
    ("dot", "点", "點", "."), r"\s*" + _DOT_WORD.pattern[_DOT_WORD.pattern.index("(?=") + 3 : -1]
)
_AT_WORD_HINT = _LeadHint(("at", "艾特", "圈a", "@"), r"[\s\]\)\}]*[a-z0-9\-]+\.[a-z]{2,}")
_DEFANG_HINT = re.compile(r"[\[({]\s*(?:\.|dot)")  # every _DEFANG match holds this
_EN_NUM_RUN_SCAN = Gated(_EN_NUM_RUN)
_SPACED = re.compile(r"(?<![a-z0-9])(?:[a-z0-9@.:/\-_](?: |\u3000)){3,}[a-z0-9@.:/\-_](?![a-z0-9])")


_WEBMAIL = re.compile(
    r"(?:gmail|googlemail|outlook|hotmail|yahoo|live|msn|icloud|me|aol|proton|protonmail|qq|163|"
    r"126|sina|foxmail|yeah|gmx|mail|yandex|zoho)\."
)


def _at_repl(m: re.Match[str]) -> str:
    """'name at gmail dot com' -> '@' only where the left side looks like a mailbox name."""
    word = m.group(0).strip()
    if word not in ("at",):
        return "@"  # bracketed (at), 艾特, spaced @
    left = re.search(r"[\w.'’\-]+$", m.string[: m.start()])
    tok = left.group(0) if left else ""
    if "'" in tok or "’" in tok:
        return m.group(0)
    if re.search(r"[\d_.]", tok) or _WEBMAIL.match(m.string, m.end()):
        return "@"
    return m.group(0)


def _num_run(table: dict[str, str]) -> Callable[[re.Match[str]], str]:
    def repl(m: re.Match[str]) -> str:
        s = m.group(0)
        if table is EN_NUM:
            return _EN_NUM_RE.sub(lambda w: table[w.group(0)], s)
        return "".join(table.get(c, c) for c in s)

    return repl


# Each rewrite runs only if the gate finds its literals (see gate.py); a rewrite that changes
# the text is followed by a fresh scan, so later gates always see the text they guard.
_ZH_NUM_GATE = GATE.register(_ZH_NUM_RUN)
_DIGIT_LOOK_HINT = re.compile(r"[oli|]\d|\d[oli|]")  # the rewrite only runs where this occurs
_DIGIT_LOOK_GATE = GATE.register(_DIGIT_LOOK_HINT)
_DEFANG_GATE = GATE.register(_DEFANG)
_SPACED_GATE = GATE.register(_SPACED)
_DOT_WORD_GID = GATE.register(_DOT_WORD)
_AT_WORD_GID = GATE.register(_AT_WORD)


_REWRITES = GATE.group(
    [
        _ZH_NUM_GATE,
        _EN_NUM_RUN_SCAN.gid,
        _DIGIT_LOOK_GATE,
        _DEFANG_GATE,
        _SPACED_GATE,
        _DOT_WORD_GID,
        _AT_WORD_GID,
    ]
)


def contact_view(folded: View, hits: Hits | None = None) -> tuple[View, Hits]:
    """View for contact detectors (SCR-1): numbers as digits, obfuscations undone.

    Returns the view and the gate's scan of its text (``hits``: the scan of ``folded``).
    """
    h = hits or GATE.scan(folded.text)
    if not h.any_possible(_REWRITES):
        return folded, h  # most messages: nothing to undo
    v = folded
    t = v.text

    def apply(pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> None:
        nonlocal v, h
        new = rewrite(v, pattern, repl)
        if new is not v:
            v = new
            h = GATE.scan(v.text)

    if not t.isascii() and h.possible(_ZH_NUM_GATE) and _ZH_NUM_RUN.search(t):
        apply(_ZH_NUM_RUN, _num_run(ZH_NUM))
    if _EN_NUM_RUN_SCAN.search(v.text, h):
        apply(_EN_NUM_RUN, _num_run(EN_NUM))
    if h.possible(_DIGIT_LOOK_GATE) and _DIGIT_LOOK_HINT.search(v.text):
        apply(_DIGIT_LOOK_RE, lambda m: "".join(_DIGIT_LOOK.get(c, c) for c in m.group(0)))
    t = v.text
    if h.possible(_DEFANG_GATE) and ("[" in t or "(" in t or "{" in t) and _DEFANG_HINT.search(t):
        apply(_DEFANG, lambda m: ".")
    if h.possible(_SPACED_GATE) and _SPACED.search(v.text):
        apply(_SPACED, lambda m: m.group(0).replace(" ", "").replace("\u3000", ""))
    t = v.text
    # both rewrites need a look-ahead that is rare in plain text: test it first (speed)
    if (
        h.possible(_DOT_WORD_GID)
        and ("dot" in t or "点" in t or "點" in t or " ." in t or ". " in t)
        and _DOT_WORD_HINT.search(t)
    ):
        apply(_DOT_WORD, lambda m: ".")
    t = v.text
    if (
        h.possible(_AT_WORD_GID)
        and ("at" in t or "艾特" in t or "@" in t or "圈a" in t)
        and _AT_WORD_HINT.search(t)
    ):
        apply(_AT_WORD, _at_repl)
    return v, h


class Normalised(NamedTuple):
    """The original text, both views, and the gate's scan of each view's text."""

    original: str
    plain: View
    contact: View
    plain_hits: Hits
    contact_hits: Hits


def normalise(text: str) -> Normalised:
    """Both views of ``text`` (rule SCR-D2)."""
    folded = _fold(text)
    hits = GATE.scan(folded.text)
    plain = plain_view(folded, hits)
    contact, contact_hits = contact_view(folded, hits)
    plain_hits = hits if plain is folded else GATE.scan(plain.text)
    return Normalised(text, plain, contact, plain_hits, contact_hits)
