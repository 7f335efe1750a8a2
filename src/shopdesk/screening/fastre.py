"""Exact, faster ``finditer``/``search`` for big alternation regexes (screening speed).

CPython's ``re`` tries every branch of an alternation such as ``\\b(?:send|give|…)…|…`` at
every position of the text. `Anchored` parses a compiled pattern once and derives the set
of literal strings that every match must *start* with (leading ``\\b``/look-arounds are
zero-width and skipped). One search for those literals — a trie regex whose branches all
begin with a literal, so ``re`` skips positions by first character — finds the next
possible match start, and the full pattern is only tried there with ``pattern.match``.

The results are identical to ``pattern.finditer(text)``: a match can only start where one
of the literals occurs, positions are tried left to right, and after a match the scan
resumes at its end, exactly like ``finditer`` (patterns that can match the empty string,
or whose starts cannot be reduced to literals, fall back to the plain ``finditer``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser as _p  # type: ignore[attr-defined]
from typing import Any

_MAX_RANGE = 40  # expand character ranges up to this many characters into literals
_ZERO_WIDTH = {_c.AT, _c.ASSERT, _c.ASSERT_NOT}
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}


class _Unanchored(Exception):
    pass


def _charset(av: list[tuple[Any, Any]]) -> tuple[set[str], bool]:
    """Literal characters of a character class; flag True if it also holds ``\\d``."""
    out: set[str] = set()
    digit = False
    for op, arg in av:
        if op is _c.LITERAL:
            out.add(chr(arg))
        elif op is _c.RANGE:
            lo, hi = arg
            if hi - lo >= _MAX_RANGE:
                raise _Unanchored
            out.update(chr(c) for c in range(lo, hi + 1))
        elif op is _c.CATEGORY and arg in (_c.CATEGORY_DIGIT, _c.CATEGORY_UNI_DIGIT):
            out.update("0123456789")
            digit = True
        else:  # NEGATE, other categories
            raise _Unanchored
    return out, digit


_Lit = tuple[str, bool]  # (literal, must start a word: the pattern has ``\\b`` before it)
_MAX_EXTEND = 24  # at most this many literals when a run is extended into what follows


def _prefixes(items: list[tuple[Any, Any]], state: dict[str, bool], bound: bool) -> set[_Lit]:
    """Literal strings one of which starts every match of the sequence ``items``."""
    i = 0
    while i < len(items) and items[i][0] in _ZERO_WIDTH:
        op, av = items[i]
        if op is _c.AT and av is _c.AT_BOUNDARY:
            bound = True
        i += 1
    if i == len(items):
        raise _Unanchored  # the sequence can match the empty string
    op, av = items[i]
    rest = items[i + 1 :]
    if op is _c.LITERAL:
        s = chr(av)
        j = i + 1
        while j < len(items) and items[j][0] is _c.LITERAL:
            s += chr(items[j][1])
            j += 1
        # \b before a non-word character says nothing simple: drop the flag
        word = bound and (s[0].isalnum() or s[0] == "_")
        sub_state = {"digit": False}
        try:  # extend the run with what must follow it (``you(?:'ve| have)``)
            more = _prefixes(items[j:], sub_state, False)
        except _Unanchored:
            more = set()
        if more and len(more) <= _MAX_EXTEND:
            state["digit"] = state["digit"] or sub_state["digit"]
            return {(s + t, word) for t, _ in more}
        return {(s, word)}
    if op is _c.IN:
        chars, digit = _charset(av)
        state["digit"] = state["digit"] or digit
        return {(ch, bound and (ch.isalnum() or ch == "_")) for ch in chars}
    if op is _c.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            raise _Unanchored
        return _prefixes(list(sub.data) + rest, state, bound)
    if op is _c.BRANCH:
        out: set[_Lit] = set()
        for alt in av[1]:
            out |= _prefixes(list(alt.data) + rest, state, bound)
        return out
    if op in _REPEATS:
        lo, _hi, sub = av
        first = _prefixes(list(sub.data), state, bound)
        return first if lo >= 1 else first | _prefixes(rest, state, bound)
    raise _Unanchored  # ANY, NOT_LITERAL, categories, group references …


def _trie_regex(words: set[_Lit]) -> str:
    """A regex matching the start of any of ``words``; each alternative starts with a literal.

    A word flagged as word-initial only matches when no word character precedes it.
    """
    trie: dict[str, Any] = {}
    for w, word_start in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        ends = node.setdefault("", set())
        ends.add(w if word_start else "")

    def emit(node: dict[str, Any]) -> str:
        ends: set[str] = node.get("", set())
        if "" in ends:  # a word without condition ends here: enough for a start
            return ""
        alts = [f"(?<!\\w{re.escape(w)})" for w in sorted(ends)]
        alts += [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    top = [re.escape(ch) + emit(child) for ch, child in sorted(trie.items()) if ch]
    return "|".join(top)


class Anchored:
    """Drop-in for ``pattern.finditer``/``search`` with the same results, only faster."""

    __slots__ = ("ascii_only", "pattern", "pattern_str", "starts", "starts_ascii")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.pattern_str = pattern.pattern
        self.starts: re.Pattern[str] | None = None
        self.starts_ascii: re.Pattern[str] | None = None
        self.ascii_only = False
        if pattern.flags & (re.IGNORECASE | re.ASCII | re.LOCALE):
            return  # literals are compared exactly; \b and \w as in Unicode str patterns
        parsed = _p.parse(pattern.pattern, pattern.flags)
        if parsed.getwidth()[0] == 0:
            return
        state = {"digit": False}
        try:
            words = _prefixes(list(parsed.data), state, False)
        except _Unanchored:
            return
        if not words or any(not w for w, _ in words):
            return
        self.starts = re.compile(_trie_regex(words))
        # ASCII text can only hold the ASCII literals: a smaller trie, fewer branches
        ascii_words = {(w, b) for w, b in words if w.isascii()}
        self.starts_ascii = re.compile(_trie_regex(ascii_words)) if ascii_words else None
        # ``\d`` also matches non-ASCII digits: only ASCII text may use the literals
        self.ascii_only = state["digit"]

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        starts = self.starts
        if starts is None:
            yield from self.pattern.finditer(text)
            return
        if text.isascii():
            starts = self.starts_ascii
            if starts is None:
                return  # every match starts with a non-ASCII character
        elif self.ascii_only:
            yield from self.pattern.finditer(text)
            return
        match = self.pattern.match
        find = starts.search
        pos = 0
        while True:
            c = find(text, pos)
            if c is None:
                return
            q = c.start()
            m = match(text, q)
            if m is None:
                pos = q + 1
            else:
                yield m
                pos = m.end()

    def search(self, text: str) -> re.Match[str] | None:
        for m in self.finditer(text):
            return m
        return None
