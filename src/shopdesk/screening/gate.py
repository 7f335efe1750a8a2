"""Literal gate: one Aho-Corasick pass tells which regexes of the engine can match (speed).

Most messages are ordinary customer service, and each of the engine's ~60 patterns (phrase
rules SCR-2…SCR-11, SCR-1 detectors, normalisation rewrites of SCR-D2) used to be searched
over every message, ~3-15 µs each. Nearly all of those searches find nothing.

`requirements()` reads a compiled pattern's parse tree (``re._parser``, as `fastre` does)
and derives literal strings that every match must contain: per top-level alternative, a
conjunction of *factors*, each factor a set of strings one of which occurs in the match.
A factor comes from a run of adjacent literal characters, small character classes
(``[$€£]``, ``\\d``) and alternations of pure literals (``(?:review|rating)``), so
``\\byour\\s+(?:whats\\s?app|wechat)`` needs ``your`` *and* one of ``whats``, ``wechat``.
Zero-width items (``\\b``, look-arounds) never separate adjacent characters; repeats with a
minimum of zero, ``\\s``, ``\\w``, ``.`` and negated or large classes end a run. Factors that
almost every text satisfies (a single letter, a space or punctuation mark) are dropped:
dropping a factor only weakens the condition.

`Gate` puts every factor string of every registered pattern into one automaton
(``ahocorasick_rs``, the Rust ``aho-corasick`` crate). `Gate.scan(text)` finds, in one pass,
which strings occur; `Hits.possible(gid)` is then true unless *no* alternative of that
pattern has all its factors present — in which case the pattern cannot match, so skipping
it returns exactly what searching would (nothing). The derivation only ever drops or widens
conditions (unknown constructs give no factor, a pattern with an unconstrained alternative
is always searched), which is what keeps the gate conservative; the tests compare gated and
ungated results on the dev set, external corpora and generated texts.

``\\d`` also matches non-ASCII decimal digits, which the factors spell ``0``-``9``: a text
holding one skips the gate (every pattern is searched). Besides derived factors, a few
hand-written ``needs`` (short regexes every match implies, expanded to literals) and the
pruning of frequent non-key factors trade precision for fewer automaton hits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser as _p  # type: ignore[attr-defined]
from typing import Any

import ahocorasick_rs

from shopdesk.screening.fastre import Anchored

Lit = tuple[str, bool]  # a string, and whether it starts a word (``\\b`` before it)
Factor = frozenset[Lit]  # one of these occurs in every match
Branch = tuple[Factor, ...]  # all of these factors are needed
Requirement = tuple[Branch, ...] | None  # one of the branches; None: no requirement known

_RUN_LIMIT = 96  # most strings a run of literals may expand to (cross products of classes)
_NEED_LIMIT = 30000  # the same for hand-written needs
_NEED_CLASS_LIMIT = 64
_CLASS_LIMIT = 40  # largest character class expanded into literals
_PURE_LIMIT = 400  # most strings an alternation of pure literals may stand for
_ZERO_WIDTH = {_c.AT, _c.ASSERT, _c.ASSERT_NOT}
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}
_GROUPS = {_c.SUBPATTERN, getattr(_c, "ATOMIC_GROUP", _c.SUBPATTERN)}
_DIGITS = frozenset("0123456789")
_NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")
# The characters Python's ``\s`` matches in str patterns (checked in the tests against
# every code point), for needs that spell ``\s`` out.
PY_SPACE_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# ASCII characters ``\b`` treats as non-word (``\w`` is alphanumeric or "_").
_NON_WORD_ASCII = tuple(chr(c) for c in range(128) if not (chr(c).isalnum() or chr(c) == "_"))
# Factors with one of these strings are satisfied by nearly any text: no use as a gate.
_WEAK_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz .,'")
# Frequent words make poor keys (the factor checked first); only a ranking heuristic.
_COMMON = frozenset(
    {
        "a", "an", "and", "are", "at", "be", "but", "by", "can", "do", "for", "from", "get",
        "have", "i", "if", "in", "is", "it", "me", "my", "no", "not", "of", "on", "or", "our",
        "so", "that", "the", "this", "to", "us", "we", "will", "with", "you", "your", "order",
        "please",
    }
)  # fmt: skip


class _Unknown(Exception):
    """A construct the analysis does not model: it contributes no factor."""


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _class_chars(items: list[tuple[Any, Any]], wide: bool = False) -> frozenset[str]:
    """The characters of a class; ``wide`` (hand-written needs): also ``\\s`` and larger."""
    limit = _NEED_CLASS_LIMIT if wide else _CLASS_LIMIT
    out: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL:
            out.add(chr(av))
        elif op is _c.RANGE:
            lo, hi = av
            if hi - lo >= limit:
                raise _Unknown
            out.update(chr(c) for c in range(lo, hi + 1))
        elif op is _c.CATEGORY and av in (_c.CATEGORY_DIGIT, _c.CATEGORY_UNI_DIGIT):
            out |= _DIGITS  # texts with other decimal digits are never gated (Gate.scan)
        elif wide and op is _c.CATEGORY and av in (_c.CATEGORY_SPACE, _c.CATEGORY_UNI_SPACE):
            out.update(PY_SPACE_CHARS)
        else:  # NEGATE, \s, \w …
            raise _Unknown
    if len(out) > limit:
        raise _Unknown
    return frozenset(out)


def _class_non_word(items: list[tuple[Any, Any]]) -> bool:
    """Every character of the class is a non-word character (``\\s``, ``[,.\\-]`` …)."""
    for op, av in items:
        if op is _c.LITERAL:
            if _is_word(chr(av)):
                return False
        elif op is _c.CATEGORY:
            if av not in (
                _c.CATEGORY_SPACE,
                _c.CATEGORY_UNI_SPACE,
                _c.CATEGORY_NOT_WORD,
                _c.CATEGORY_UNI_NOT_WORD,
            ):
                return False
        else:  # NEGATE, RANGE …
            return False
    return True


class _Seq:
    """Factors of a sequence, built left to right; ``pure``: it matches only these strings.

    ``run`` holds the strings the current run of adjacent literals can be. ``after_non_word``
    is true when the character before the current position is known to be a non-word
    character or the text start (a ``\\b``, or a consumed ``\\s``/punctuation); a run that
    starts there (``run_start``) begins a word when its first character is a word character.
    """

    def __init__(self, after_non_word: bool, limit: int) -> None:
        self.limit = limit
        self.factors: list[Factor] = []
        self.run: set[str] = {""}
        self.pure = True
        self.after_non_word = after_non_word
        self.run_start = False

    def cat(self, strings: Iterable[str]) -> None:
        strings = set(strings)
        if self.run == {""}:
            self.run_start = self.after_non_word
        if len(self.run) * len(strings) > self.limit:
            self.close()
            self.pure = False
            self.run = strings
            self.run_start = self.after_non_word
        else:
            self.run = {a + b for a in self.run for b in strings}
        if "" in strings:
            self.after_non_word = self.after_non_word and all(
                not _is_word(x[-1]) for x in strings if x
            )
        else:
            self.after_non_word = all(not _is_word(x[-1]) for x in strings)

    def cut(self, factors: Iterable[Factor] = (), ends_non_word: bool = False) -> None:
        self.close()
        self.run = {""}
        self.pure = False
        self.after_non_word = ends_non_word
        self.factors.extend(factors)

    def close(self) -> None:
        if "" not in self.run:
            self.factors.append(frozenset((r, self.run_start and _is_word(r[0])) for r in self.run))

    def result(self) -> _Result:
        pure = frozenset(self.run) if self.pure else None
        self.close()
        return self.factors, pure, self.after_non_word


_Result = tuple[list[Factor], frozenset[str] | None, bool]  # factors, pure, ends non-word


def _seq(
    items: Iterable[tuple[Any, Any]], after_non_word: bool = False, limit: int = _RUN_LIMIT
) -> _Result:
    s = _Seq(after_non_word, limit)
    wide = limit > _RUN_LIMIT
    for op, av in items:
        if op is _c.AT:
            if av is _c.AT_BOUNDARY:
                # before a word character, \b means a non-word character (or nothing) precedes
                s.after_non_word = True
            continue  # zero-width: the characters on both sides stay adjacent
        if op is _c.ASSERT:  # a positive look-around must match the text there
            ahead = av[0] == 1
            s.factors.extend(_seq(av[1].data, ahead and s.after_non_word, limit)[0])
            continue
        if op in _ZERO_WIDTH:
            continue
        if op is _c.LITERAL:
            s.cat((chr(av),))
        elif op is _c.IN:
            try:
                s.cat(_class_chars(av, wide))
            except _Unknown:
                s.cut(ends_non_word=_class_non_word(av))
        elif op in _GROUPS:
            sub = av[-1] if op is _c.SUBPATTERN else av
            if op is _c.SUBPATTERN and (av[1] or av[2]):
                s.cut()  # inline flags such as (?i:…): literals are not compared exactly
                continue
            factors, pure, ends = _seq(sub.data, s.after_non_word, limit)
            if pure is not None:
                s.cat(pure)
            else:
                s.cut(factors, ends)
        elif op is _c.BRANCH:
            alts = [_seq(alt.data, s.after_non_word, limit) for alt in av[1]]
            pures = [p for _f, p, _e in alts]
            if all(p is not None for p in pures):
                union = frozenset().union(*(p for p in pures if p is not None))
                if len(union) <= (limit if wide else _PURE_LIMIT):
                    s.cat(union)
                    continue
            s.cut(_either(alts), all(e for _f, _p, e in alts))
        elif op in _REPEATS:
            lo, hi, sub = av
            factors, pure, _e = _seq(sub.data, s.after_non_word, limit)
            # after the last repetition: what the body ends with (from an unknown start),
            # or, with no repetition at all, what came before
            ends = _seq(sub.data, False)[2] and (lo >= 1 or s.after_non_word)
            if lo == 0:
                s.cut(ends_non_word=ends)
            elif pure is not None and len(pure) ** min(lo, 3) <= limit:
                for _ in range(min(lo, 3)):
                    s.cat(pure)
                if hi != lo or lo > 3:
                    s.cut(ends_non_word=ends)  # more repetitions may follow: the run ends
            else:
                s.cut(factors, ends)
        else:  # ANY, NOT_LITERAL, group references, conditionals …
            s.cut()
    return s.result()


def _either(alts: list[_Result]) -> list[Factor]:
    """One factor for an alternation: the union of each alternative's best factor."""
    union: set[Lit] = set()
    for factors, _pure, _ends in alts:  # a pure alternative's strings are among its factors
        cands: list[Factor] = [f for f in factors if not _weak(f)]
        if not cands:
            return []
        best: Factor = max(cands, key=_score)
        union.update(best)
    return [frozenset(union)]


def _weak(f: Factor) -> bool:
    return any(s == "" or s.isspace() or (len(s) == 1 and s in _WEAK_CHARS) for s, _b in f)


def _strength(text: str, word_start: bool) -> int:
    """Rough selectivity of one string: how rarely ordinary text contains it."""
    if text in _COMMON:
        return 3 if word_start else 0  # a poor key, but a cheap second factor
    if len(text) == 1:
        if text.isascii() and text.isalpha():
            return 0  # a letter
        return 4 if text.isdigit() else 3  # a digit (absent from most messages); a symbol
    if text.isascii() and text.replace(" ", "").isalpha():
        return len(text) + word_start  # short letter strings hide inside longer words
    return 4


_SELECTIVE = 3  # least strength of a factor besides the key


def _score(f: Factor) -> tuple[int, int]:
    """Rank factors: the weakest string's strength first, then fewer strings."""
    return min(_strength(s, b) for s, b in f), -len(f)


def _alternatives(items: list[tuple[Any, Any]]) -> list[list[tuple[Any, Any]]]:
    """Top-level alternatives of a pattern, looking through plain groups.

    Zero-width items around a lone alternation (``\\b(?:a|b)\\b``) are distributed over
    its alternatives (``\\ba\\b|\\bb\\b``), which matches the same.
    """
    i, j = 0, len(items)
    while i < j and items[i][0] in _ZERO_WIDTH:
        i += 1
    while j > i and items[j - 1][0] in _ZERO_WIDTH:
        j -= 1
    if j - i == 1:
        head, (op, av), tail = items[:i], items[i], items[j:]
        if op is _c.BRANCH:
            return [alt for sub in av[1] for alt in _alternatives([*head, *sub.data, *tail])]
        if op is _c.SUBPATTERN and not (av[1] or av[2]):
            return _alternatives([*head, *av[-1].data, *tail])
    return [items]


def _prune(factors: Iterable[Factor]) -> Branch:
    """The most selective factor first (the key); other factors only if selective: a
    frequent string ("the", "co") costs a hit per occurrence in every scan, and leaving
    a factor out only weakens the condition."""
    ranked = sorted(set(factors), key=_score, reverse=True)
    return (ranked[0], *(f for f in ranked[1:] if _score(f)[0] >= _SELECTIVE))


def requirements(pattern: re.Pattern[str]) -> Requirement:
    """Literal factors every match of ``pattern`` contains (None: no usable requirement)."""
    if pattern.flags & (re.IGNORECASE | re.LOCALE) or isinstance(pattern.pattern, bytes):
        return None
    parsed = _p.parse(pattern.pattern, pattern.flags)
    branches: list[Branch] = []
    for alt in _alternatives(list(parsed.data)):
        factors = _seq(alt)[0]
        strong = sorted({f for f in factors if not _weak(f)}, key=_score, reverse=True)
        if not strong:
            return None  # this alternative can match without any literal we track
        branches.append(_prune(strong))
    return tuple(branches)


def _expand(need: str) -> Factor:
    """The literal strings a short regex of characters and classes matches."""
    _factors, pure, _ends = _seq(_p.parse(need, 0).data, limit=_NEED_LIMIT)
    if pure is None or not pure or "" in pure:
        raise ValueError(f"gate need {need!r} is not a finite set of strings")
    return frozenset((s, False) for s in pure)


class Hits:
    """The gate's view of one text: ``ok``, the ids of the patterns that may match it."""

    __slots__ = ("_tokens", "ok", "text")

    def __init__(self, text: str, ok: frozenset[int]) -> None:
        self.text = text
        self.ok = ok
        self._tokens: dict[str, frozenset[bytes]] = {}

    def possible(self, gid: int) -> bool:
        """False only if the pattern ``gid`` cannot match the scanned text."""
        return gid in self.ok

    def any_possible(self, group: frozenset[int]) -> bool:
        """False only if no pattern of ``group`` (pattern ids) can match."""
        return not group.isdisjoint(self.ok)

    def tokens(self, key: str, table: bytes) -> frozenset[bytes]:
        """The tokens of the (ASCII) text, computed once per text and token class ``key``:
        ``table`` (for `bytes.translate`) keeps the token characters and turns every other
        byte into a space, so the tokens are what `bytes.split` returns."""
        got = self._tokens.get(key)
        if got is None:
            got = self._tokens[key] = frozenset(self.text.encode().translate(table).split())
        return got


class WordCondition:
    """ "The text is not ASCII, or one of ``words`` is a whole token" — a prefilter that
    decides results (not only speed), so it is computed exactly, from one tokenisation of
    the text shared by all conditions with the same token pattern."""

    __slots__ = ("key", "table", "words")

    def __init__(self, words: Iterable[str], token: str) -> None:
        """``token``: a character class; a token is a maximal run of its characters."""
        self.words = frozenset(w.encode() for w in words)
        self.key = token
        # (translate + split: ~1.5x faster than ``re.findall(token + "+")``, same tokens)
        cls = re.compile(token)
        self.table = bytes(c if c < 128 and cls.fullmatch(chr(c)) else 32 for c in range(256))

    def holds(self, hits: Hits) -> bool:
        text = hits.text
        return not text.isascii() or not self.words.isdisjoint(hits.tokens(self.key, self.table))


def _ac_strings(lit: Lit) -> Iterator[str]:
    """Strings to search in " " + text (ASCII text) for one literal: a word start is any
    ASCII non-word character (the leading space stands for the start of the text) followed
    by the string."""
    text, word_start = lit
    if word_start:
        for before in _NON_WORD_ASCII:
            yield before + text
    else:
        yield text


class Gate:
    """Registry of patterns and the Aho-Corasick automata over their factors.

    Every string of every factor goes into one automaton (``ahocorasick_rs``, a binding
    of the Rust ``aho-corasick`` crate); `scan` finds in one pass which strings occur,
    hence which factors are present, hence which patterns may match. Word starts are
    exact for ASCII text (the string is searched after each non-word character); other
    text uses a second automaton of the plain strings (a word start then counts as
    present wherever the string occurs: a superset, so still conservative).
    """

    def __init__(self) -> None:
        self.enabled = True
        self._reqs: list[Requirement] = []
        self.patterns: list[re.Pattern[str]] = []
        self._built = False
        self._ac_ascii: Any = None
        self._ac_any: Any = None
        # automaton string -> factors it satisfies
        self._sat_ascii: dict[str, frozenset[int]] = {}
        self._sat_any: dict[str, frozenset[int]] = {}
        self._keys: frozenset[int] = frozenset()
        # per factor that is some branch's first factor: patterns with a branch of that
        # factor alone, and (pattern, all factors) of the other branches it starts
        self._alone: list[frozenset[int]] = []
        self._with: list[tuple[tuple[int, frozenset[int]], ...]] = []
        self._always: frozenset[int] = frozenset()  # patterns without a requirement
        self._every: frozenset[int] = frozenset()
        self._factors = 0

    def register(self, pattern: re.Pattern[str], needs: Iterable[str] = ()) -> int:
        """Register a pattern; returns its id for `Hits.possible` and `Gated`.

        ``needs``: regexes of a few characters each (``[a-z0-9]\\.[a-z]``) that every match
        of ``pattern`` implies, written by hand where the derived factors are not selective;
        each is expanded into its literal strings and required in every branch.
        """
        extra = tuple(_expand(n) for n in needs)
        req = requirements(pattern)
        if extra:  # (re-ranked: a need is often the best key)
            req = tuple(_prune([*b, *extra]) for b in req) if req is not None else (extra,)
        self._reqs.append(req)
        self.patterns.append(pattern)
        self._built = False  # rebuilt on the next scan
        return len(self._reqs) - 1

    def strings(self) -> set[str]:
        """Every factor string (for the tests' generated texts)."""
        return {s for req in self._reqs for b in req or () for f in b for s, _b in f}

    def group(self, gids: Iterable[int]) -> frozenset[int]:
        """A group of patterns, all skipped with one test (`Hits.any_possible`)."""
        return frozenset(gids)

    def _build(self) -> None:
        factor_ids: dict[Factor, int] = {}
        alone: dict[int, set[int]] = {}
        other: dict[int, list[tuple[int, frozenset[int]]]] = {}
        always: set[int] = set()
        for gid, req in enumerate(self._reqs):
            if req is None:
                always.add(gid)
                continue
            for branch in req:
                ids = [factor_ids.setdefault(f, len(factor_ids)) for f in branch]
                if len(ids) == 1:
                    alone.setdefault(ids[0], set()).add(gid)
                else:
                    other.setdefault(ids[0], []).append((gid, frozenset(ids)))
        sat_ascii: dict[str, set[int]] = {}
        sat_any: dict[str, set[int]] = {}
        for f, i in factor_ids.items():
            for lit in f:
                sat_any.setdefault(lit[0], set()).add(i)
                if lit[0].isascii():
                    for s in _ac_strings(lit):
                        sat_ascii.setdefault(s, set()).add(i)
        self._sat_ascii = {s: frozenset(v) for s, v in sat_ascii.items()}
        self._sat_any = {s: frozenset(v) for s, v in sat_any.items()}
        self._ac_ascii = ahocorasick_rs.AhoCorasick(list(sat_ascii), store_patterns=True)
        self._ac_any = ahocorasick_rs.AhoCorasick(list(sat_any), store_patterns=True)
        n = len(factor_ids)
        self._keys = frozenset(alone) | frozenset(other)
        self._alone = [frozenset(alone.get(i, ())) for i in range(n)]
        self._with = [tuple(other.get(i, ())) for i in range(n)]
        self._always = frozenset(always)
        self._every = frozenset(range(len(self._reqs)))
        self._factors = n
        self._built = True

    def scan(self, text: str) -> Hits:
        """Which patterns may match ``text``: one automaton pass, then set operations."""
        if not self._built:
            self._build()
        if not self.enabled:
            return Hits(text, self._every)
        if text.isascii():
            sat = self._sat_ascii
            matched = self._ac_ascii.find_matches_as_strings(" " + text, overlapping=True)
        elif _NON_ASCII_DIGIT.search(text):
            # \d also matches non-ASCII digits, which the factors spell as 0-9: rare
            # enough (NFKC already folds full-width and circled digits) to search all
            return Hits(text, self._every)
        else:
            sat = self._sat_any
            matched = self._ac_any.find_matches_as_strings(text, overlapping=True)
        found: frozenset[int] = frozenset().union(*[sat[s] for s in set(matched)])
        ok = set(self._always)
        for key in found & self._keys:
            ok |= self._alone[key]
            for gid, branch in self._with[key]:
                if branch <= found:
                    ok.add(gid)
        return Hits(text, frozenset(ok))

    @property
    def size(self) -> tuple[int, int]:
        """(patterns, distinct factors) — for the docs and tests."""
        if not self._built:
            self._build()
        return len(self._reqs), self._factors


GATE = Gate()


@contextmanager
def ungated() -> Iterator[None]:
    """Search every pattern on every text (the full path the gate must agree with)."""
    old = GATE.enabled
    GATE.enabled = False
    try:
        yield
    finally:
        GATE.enabled = old


class Gated:
    """A pattern registered with `GATE`: searched only where its literals occur."""

    __slots__ = ("gid", "pattern", "scanner")

    def __init__(
        self, pattern: re.Pattern[str], *, anchored: bool = True, needs: Iterable[str] = ()
    ) -> None:
        self.pattern = pattern
        self.scanner: re.Pattern[str] | Anchored = Anchored(pattern) if anchored else pattern
        self.gid = GATE.register(pattern, needs)

    def finditer(self, text: str, hits: Hits) -> Iterator[re.Match[str]]:
        if self.gid in hits.ok:
            return self.scanner.finditer(text)
        return iter(())

    def search(self, text: str, hits: Hits) -> re.Match[str] | None:
        if self.gid in hits.ok:
            return self.scanner.search(text)
        return None
