"""Python regexes as Hyperscan prefilters: patterns that match wherever the regex matches.

The gate (gate.py) asks Hyperscan which of the engine's regexes *may* match a text and
searches only those with ``re``. That is exact as long as each Hyperscan pattern matches
every text its Python regex matches; matching more only costs a wasted search. Hyperscan
reads PCRE syntax, where ``\\s``, ``\\w``, ``\\b`` and Unicode classes mean something a little
different from Python's ``re`` (``\\s`` and ``\\x1c``, Unicode versions …), and it refuses
look-arounds. So it is not given the Python source: `translate` rebuilds each pattern
from ``re``'s own parse tree (``re._parser``, as fastre.py does), and every change it
makes can only let the pattern match more:

- every character class, ``\\d \\w \\s``, ``.`` and negation becomes an explicit set of
  code points. Its ASCII part is exactly what ``re`` matches (computed with ``re``); the
  non-ASCII part is exact for literals, ranges and ``\\s`` and otherwise "any non-ASCII
  character" (a class is tracked as a lower and an upper bound, so negating it stays a
  superset), and so is a non-ASCII part of more than `_WIDE_CLASS` ranges;
- zero-width assertions are dropped, except a look-behind that starts the match and a
  look-ahead that ends it, which are matched as text (`_edges`), and ``\\b``/``\\B`` for
  ASCII text, where Hyperscan's byte-wise word characters are exactly Python's;
- lazy, possessive and atomic constructs become greedy ones (the same texts match);
  bounded repeats above `REPEAT_LIMIT` lose their upper bound (cheaper to compile);
  back-references become "anything".

Two flavours: ``utf8=False`` for pure-ASCII texts (most messages), a byte pattern without
the parts that need a non-ASCII character (Chinese alternatives: they would only cost
compile time), or None when nothing is left; ``utf8=True`` for the UTF-8 bytes of any
other text, compiled with ``HS_FLAG_UTF8``, without ``\\b``. The tests check the superset
claim per pattern on the dev set, external corpora and generated texts.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser as _p  # type: ignore[attr-defined]
from typing import Any

Ranges = tuple[tuple[int, int], ...]  # sorted, disjoint, inclusive code point ranges
Bounds = tuple[Ranges, Ranges]  # (a subset, a superset) of the code points a class matches

# The characters ``\s`` matches in str patterns (the tests check this against every code
# point): the only category whose non-ASCII part is spelled out exactly.
PY_SPACE_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
REPEAT_LIMIT = 4  # larger upper bounds of {m,n} are dropped (compile time halves)
_WIDE_CLASS = 48  # most non-ASCII ranges spelled out in one class
_MAX_CP = sys.maxunicode
_NON_ASCII: Ranges = ((0x80, _MAX_CP),)
_SURROGATES = (0xD800, 0xDFFF)  # never in UTF-8 text (such text is not scanned)
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}
_ZERO_WIDTH = {_c.AT, _c.ASSERT, _c.ASSERT_NOT}
_GROUPS = {_c.SUBPATTERN, getattr(_c, "ATOMIC_GROUP", _c.SUBPATTERN)}
_CATEGORIES = {
    _c.CATEGORY_DIGIT: r"\d", _c.CATEGORY_UNI_DIGIT: r"\d",
    _c.CATEGORY_NOT_DIGIT: r"\D", _c.CATEGORY_UNI_NOT_DIGIT: r"\D",
    _c.CATEGORY_SPACE: r"\s", _c.CATEGORY_UNI_SPACE: r"\s",
    _c.CATEGORY_NOT_SPACE: r"\S", _c.CATEGORY_UNI_NOT_SPACE: r"\S",
    _c.CATEGORY_WORD: r"\w", _c.CATEGORY_UNI_WORD: r"\w",
    _c.CATEGORY_NOT_WORD: r"\W", _c.CATEGORY_UNI_NOT_WORD: r"\W",
}  # fmt: skip
_UNMODELLED = re.IGNORECASE | re.LOCALE
_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class Untranslatable(Exception):
    """The pattern uses a flag or construct this translation does not model."""


def _ranges(points: Iterable[int]) -> Ranges:
    out: list[tuple[int, int]] = []
    for cp in sorted(set(points)):
        if out and out[-1][1] + 1 == cp:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return tuple(out)


def _union(sets: Iterable[Ranges]) -> Ranges:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(r for s in sets for r in s):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _complement(s: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in s:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= _MAX_CP:
        out.append((nxt, _MAX_CP))
    return tuple(out)


def _category(cat: Any) -> Bounds:
    """Bounds of a category (``\\d``, ``\\W`` …) of str patterns: ASCII part exact."""
    if cat not in _CATEGORIES:
        raise Untranslatable(f"category {cat}")
    regex = re.compile(_CATEGORIES[cat])
    ascii_part = _ranges(c for c in range(128) if regex.match(chr(c)))
    if _CATEGORIES[cat] == r"\s":
        exact = _union([ascii_part, _ranges(ord(ch) for ch in PY_SPACE_CHARS)])
        return exact, exact
    return ascii_part, _union([ascii_part, _NON_ASCII])


def _class(items: list[tuple[Any, Any]]) -> Bounds:
    """Bounds of the code points a character class (an ``IN`` node) matches."""
    lower: list[Ranges] = []
    upper: list[Ranges] = []
    lo: Ranges
    hi: Ranges
    negate = False
    for op, av in items:
        if op is _c.NEGATE:
            negate = True
            continue
        if op is _c.LITERAL:
            lo = hi = ((av, av),)
        elif op is _c.RANGE:
            lo = hi = (tuple(av),)
        elif op is _c.CATEGORY:
            lo, hi = _category(av)
        else:  # case-insensitive ranges …: only with flags this module refuses
            raise Untranslatable(f"class item {op}")
        lower.append(lo)
        upper.append(hi)
    if negate:
        return _complement(_union(upper)), _complement(_union(lower))
    return _union(lower), _union(upper)


def _char(cp: int, utf8: bool) -> bytes | None:
    if cp in _PLAIN:
        return bytes((cp,))
    if cp < 128:
        return b"\\x%02x" % cp
    return b"\\x{%x}" % cp if utf8 else None  # (no ASCII text holds it)


def _set(s: Ranges, utf8: bool) -> bytes | None:
    """A Hyperscan class matching (at least) the code points ``s`` of a text."""
    low = [(lo, min(hi, 127)) for lo, hi in s if lo < 128]
    high: list[tuple[int, int]] = []
    if utf8:
        high = [(max(lo, 128), hi) for lo, hi in s if hi >= 128]
        if len(high) > _WIDE_CLASS:
            high = [(128, _MAX_CP)]
        a, b = _SURROGATES
        high = [r for lo, hi in high for r in ((lo, min(hi, a - 1)), (max(lo, b + 1), hi))]
        high = [(lo, hi) for lo, hi in high if lo <= hi]
    parts = [b"%s-%s" % (_char(lo, utf8), _char(hi, utf8)) if hi > lo else _char(lo, utf8)
             for lo, hi in [*low, *high]]  # fmt: skip
    return b"[" + b"".join(p for p in parts if p) + b"]" if parts else None


def _any(dotall: bool) -> Ranges:
    """What ``.`` matches."""
    return _complement(()) if dotall else _complement(((10, 10),))


class _Translator:
    """``None`` for a part that cannot match the texts of the flavour (ASCII only: a
    non-ASCII character); it takes the sequence or repeat needing it along, and drops out
    of alternations — patterns and alternatives for Chinese cost compile time for nothing."""

    def __init__(self, utf8: bool, dotall: bool) -> None:
        self.utf8 = utf8
        self.any = _any(dotall)

    def seq(
        self, items: Iterable[tuple[Any, Any]], head: bool = False, tail: bool = False
    ) -> bytes | None:
        """``head``/``tail``: the sequence starts/ends the whole match, so a positive
        look-behind before it / look-ahead after it is matched as text (see `_edges`)."""
        items = list(items)
        before, after = _edges(items, head, tail)
        consuming = [k for k, (op, _av) in enumerate(items) if op not in _ZERO_WIDTH]
        out = [self.seq(before.data)] if before is not None else []
        for k, (op, av) in enumerate(items):
            first = bool(consuming) and k == consuming[0] and before is None
            last = bool(consuming) and k == consuming[-1] and after is None
            # (one look-around per edge: an inner one would look at the same text)
            out.append(self.item(op, av, head and first, tail and last))
        if after is not None:
            out.append(self.seq(after.data))
        return None if None in out else b"".join(x for x in out if x is not None)

    def item(self, op: Any, av: Any, head: bool = False, tail: bool = False) -> bytes | None:
        if op is _c.LITERAL:
            return _char(av, self.utf8)
        if op is _c.NOT_LITERAL:
            return _set(_complement(((av, av),)), self.utf8)
        if op is _c.IN:
            return _set(_class(av)[1], self.utf8)
        if op is _c.ANY:
            return _set(self.any, self.utf8)
        if op is _c.AT:
            if not self.utf8 and av is _c.AT_BOUNDARY:
                return rb"\b"
            if not self.utf8 and av is _c.AT_NON_BOUNDARY:
                return rb"\B"
            return b""  # ^ $ \A \Z, and \b in non-ASCII text: dropped (matches more)
        if op in (_c.ASSERT, _c.ASSERT_NOT):
            return b""  # look-arounds: dropped (matches more)
        if op in _GROUPS:
            sub = av
            outer = self.any
            if op is _c.SUBPATTERN:
                _group, add, delete, sub = av
                if (add | delete) & _UNMODELLED:
                    raise Untranslatable("inline flags")
                if (add | delete) & re.DOTALL:
                    self.any = _any(bool(add & re.DOTALL))
            body = self.seq(sub.data, head, tail)
            self.any = outer
            return None if body is None else b"(?:" + body + b")"
        if op is _c.BRANCH:
            alts = [self.seq(alt.data, head, tail) for alt in av[1]]
            kept = [a for a in alts if a is not None]
            return b"(?:" + b"|".join(kept) + b")" if kept else None
        if op in _REPEATS:
            lo, hi, sub = av
            body = self.seq(sub.data)
            if body is None:
                return b"" if lo == 0 else None
            if hi == _c.MAXREPEAT or hi > REPEAT_LIMIT:
                return b"(?:" + body + b"){%d,}" % lo
            return b"(?:" + body + b"){%d,%d}" % (lo, hi)
        if op in (_c.GROUPREF, _c.GROUPREF_EXISTS):
            return b"(?:" + (_set(_complement(()), self.utf8) or b"") + b")*"  # anything
        raise Untranslatable(f"construct {op}")


def _edges(items: list[tuple[Any, Any]], head: bool, tail: bool) -> tuple[Any, Any]:
    """The bodies of a lone positive look-behind before the first consuming item (when
    the sequence starts the match) and of a lone look-ahead after the last one (when it
    ends the match). ``(?<=x)p`` matches where ``xp`` does, one character earlier, and
    ``p(?=y)`` where ``py`` does: the text they look at is there, so matching it as part of
    the prefilter's match is exact, and far more selective than dropping them (the TLD
    after "dot", the domain after "at"). Other zero-width items stay where they are: a
    ``\\b`` next to the look-around refers to the same position either way."""
    consuming = [k for k, (op, _av) in enumerate(items) if op not in _ZERO_WIDTH]
    if not consuming:
        return None, None
    lead = [av for op, av in items[: consuming[0]] if op is _c.ASSERT and av[0] == -1]
    trail = [av for op, av in items[consuming[-1] + 1 :] if op is _c.ASSERT and av[0] == 1]
    before = lead[0][1] if head and len(lead) == 1 else None
    after = trail[0][1] if tail and len(trail) == 1 else None
    return before, after


def translate(pattern: re.Pattern[str], *, utf8: bool) -> bytes | None:
    """A Hyperscan pattern matching (at least) wherever ``pattern`` matches.

    ``utf8``: for the UTF-8 bytes of any text (compile with ``HS_FLAG_UTF8``); otherwise
    for ASCII text only, and None if no ASCII text can match. Raises `Untranslatable` for
    case-insensitive patterns (not modelled). ``re.MULTILINE`` needs nothing (anchors are
    dropped) and ``re.ASCII`` neither (its classes lie within the Unicode ones).
    """
    if isinstance(pattern.pattern, bytes) or pattern.flags & _UNMODELLED:
        raise Untranslatable("flags")
    parsed = _p.parse(pattern.pattern, pattern.flags)
    return _Translator(utf8, bool(pattern.flags & re.DOTALL)).seq(parsed.data, True, True)
