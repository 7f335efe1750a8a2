"""The gate: one Hyperscan pass tells which regexes of the engine can match a text (speed).

Most messages are ordinary customer service, and each of the engine's ~60 patterns (phrase
rules SCR-2…SCR-11, SCR-1 detectors, normalisation rewrites of SCR-D2) would be searched
over every message, ~3-15 µs each, nearly always finding nothing. Every pattern is
registered here (`Gated`, `Gate.register`); `Gate.scan(text)` returns `Hits`, whose ``ok``
holds the ids of the patterns that *may* match, and only those are searched with ``re``.

Why Hyperscan: it runs all patterns in one pass over the text in C and, with
``SINGLEMATCH``, reports each pattern at most once, so the answer is the set of ids
itself, with one Python callback per reported pattern. It cannot run Python's regexes as
they are (PCRE syntax and meanings, no look-arounds), so each pattern is *translated* into
one that matches at least wherever the Python regex matches (prefilter.py explains how)
and compiled with ``PREFILTER``, which lets Hyperscan approximate further, again only by
matching more. A pattern Hyperscan does not rule out is searched with ``re`` as before,
so findings are exactly those of the ungated engine (`ungated`); the tests compare both
on the dev set, external corpora and generated texts. (The gate before was an
Aho-Corasick automaton over literals derived from the patterns: it let 3.3x more
patterns through, 4.8 against 1.5 per bench message, and resolved ~40 literal matches per
message in Python.)

The binding is ``pyperscan`` (Vectorscan, statically linked, runtime CPU dispatch). The
``hyperscan`` package's wheels were tried first and rejected: 0.7.30's library runs ~100x
slower than the others, and every release (Vectorscan 5.4.12 built before upstream's
fix for false negatives, VectorCamp/vectorscan#382) misses matches — three texts of the
Davidson corpus with "u stupid", which the equivalence tests catch, and #382's own example.

Two databases: one for pure-ASCII texts (most messages; byte patterns with exact ``\\b``,
Chinese-only parts left out) and one for the UTF-8 bytes of other texts. Each is compiled
on first use, once per process (~1.2 s and ~2.5 s of CPU; `Gate.prepare` does both up
front). A text that cannot be UTF-8 encoded (a lone surrogate) and a pattern that cannot
be translated or compiled are never gated: searched always.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import pyperscan
from pyperscan import _pyperscan

from shopdesk.screening.fastre import Anchored
from shopdesk.screening.prefilter import PY_SPACE_CHARS, Untranslatable, translate

__all__ = ["GATE", "PY_SPACE_CHARS", "Gate", "Gated", "Hits", "WordCondition", "ungated"]

_FLAGS = (pyperscan.Flag.PREFILTER, pyperscan.Flag.SINGLEMATCH)
# (an Exception subclass; pyperscan's type stub leaves its base out)
_CompileError = cast(type[Exception], _pyperscan.HyperscanCompileError)
_CONTINUE = pyperscan.Scan.Continue


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


def _collect(found: list[int], gid: int, _start: int, _end: int) -> Any:
    found.append(gid)
    return _CONTINUE


class _Database:
    """One compiled database, a scanner per thread (Hyperscan's scratch space must not be
    shared by concurrent scans), and the ids of the patterns it could not take."""

    def __init__(self, exprs: dict[int, bytes], utf8: bool) -> None:
        flags = (*_FLAGS, pyperscan.Flag.UTF8) if utf8 else _FLAGS
        ok = dict(exprs)
        try:
            self.db = _compile(ok, flags)
        except _CompileError:  # find the refused patterns, compile the rest
            for gid, expr in exprs.items():
                try:
                    _compile({gid: expr}, flags)
                except _CompileError:
                    del ok[gid]
            self.db = _compile(ok, flags)
        self.refused = frozenset(exprs) - frozenset(ok)
        self._local = threading.local()

    def scan(self, data: bytes) -> list[int]:
        """Ids of the patterns that may match ``data`` (each once; the list is the
        thread's own and is reused by its next scan)."""
        if self.db is None:
            return []
        local = self._local
        try:
            scanner, found = local.scanner, local.found
        except AttributeError:
            found = local.found = []
            scanner = local.scanner = self.db.build(found, _collect)
        found.clear()
        scanner.scan(data)
        return found


def _compile(exprs: dict[int, bytes], flags: tuple[Any, ...]) -> Any:
    if not exprs:
        return None  # (Hyperscan refuses an empty database)
    return pyperscan.BlockDatabase(
        *(pyperscan.Pattern(expr, *flags, tag=gid) for gid, expr in exprs.items())
    )


class Gate:
    """Registry of the engine's patterns and the Hyperscan databases over them."""

    def __init__(self) -> None:
        self.enabled = True
        self.patterns: list[re.Pattern[str]] = []
        self._lock = threading.Lock()
        self._ascii: _Database | None = None
        self._utf8: _Database | None = None
        self._every: frozenset[int] = frozenset()

    def register(self, pattern: re.Pattern[str]) -> int:
        """Register a pattern; returns its id for `Hits.possible` and `Gated`."""
        with self._lock:
            self.patterns.append(pattern)
            self._every = frozenset(range(len(self.patterns)))
            self._ascii = self._utf8 = None  # rebuilt on the next scan
            return len(self.patterns) - 1

    def group(self, gids: Iterable[int]) -> frozenset[int]:
        """A group of patterns, all skipped with one test (`Hits.any_possible`)."""
        return frozenset(gids)

    def _database(self, utf8: bool) -> _Database:
        with self._lock:
            db = self._utf8 if utf8 else self._ascii
            if db is None:
                exprs: dict[int, bytes] = {}
                never: set[int] = set()  # cannot match any text of this flavour
                for gid, pattern in enumerate(self.patterns):
                    try:
                        expr = translate(pattern, utf8=utf8)
                    except Untranslatable:
                        continue  # never gated (`_Database.refused`)
                    if expr is None:
                        never.add(gid)
                    else:
                        exprs[gid] = expr
                db = _Database(exprs, utf8)
                db.refused |= self._every - frozenset(exprs) - never
                if utf8:
                    self._utf8 = db
                else:
                    self._ascii = db
            return db

    def scan(self, text: str) -> Hits:
        """Which patterns may match ``text``: one Hyperscan pass."""
        if not self.enabled:
            return Hits(text, self._every)
        if text.isascii():
            db = self._ascii or self._database(False)
            data = text.encode()
        else:
            try:
                data = text.encode()
            except UnicodeEncodeError:  # lone surrogates: not UTF-8, search everything
                return Hits(text, self._every)
            db = self._utf8 or self._database(True)
        found = db.scan(data)
        return Hits(text, frozenset(found).union(db.refused) if db.refused else frozenset(found))

    def prepare(self) -> None:
        """Compile both databases now (~1-3 s of CPU) rather than on the first ASCII and
        the first non-ASCII text screened: for a server before it takes traffic."""
        self._database(False)
        self._database(True)

    def refused(self) -> frozenset[int]:
        """Ids of the patterns that are never gated (for the tests: none today)."""
        return self._database(False).refused | self._database(True).refused


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
    """A pattern registered with `GATE`: searched only where Hyperscan says it may match."""

    __slots__ = ("gid", "pattern", "scanner")

    def __init__(self, pattern: re.Pattern[str], *, anchored: bool = True) -> None:
        self.pattern = pattern
        self.scanner: re.Pattern[str] | Anchored = Anchored(pattern) if anchored else pattern
        self.gid = GATE.register(pattern)

    def finditer(self, text: str, hits: Hits) -> Iterator[re.Match[str]]:
        if self.gid in hits.ok:
            return self.scanner.finditer(text)
        return iter(())

    def search(self, text: str, hits: Hits) -> re.Match[str] | None:
        if self.gid in hits.ok:
            return self.scanner.search(text)
        return None
