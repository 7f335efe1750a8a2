"""Lexical index: TF-IDF cosine over word features and character n-grams (numpy, rapidfuzz).

Each phrasing (the question and every similar phrasing, rule KB-1) is one document. A query's
similarity to a document is the mean of two cosines: words and character n-grams. Document
frequencies are counted per entry, not per phrasing: a word that all ten phrasings of one entry
share is what tells that entry apart, and must not be discounted for being frequent. Query
features the KB has never seen keep their (maximal) weight in the query norm, so text that is
mostly about something else scores low — the basis of abstention on off-topic messages. A query
word the KB does not know is first corrected to a KB word one edit away (rapidfuzz, optimal
string alignment, so "acnceling" → "canceling"), which keeps the word feature of a typo.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA

from shopdesk.knowledge.text import features, features_of, is_word, tokens

FloatArray = npt.NDArray[np.float64]
# Shorter words are too often one edit from another real word ("cat" → "card"); two edits
# pulled unrelated words onto KB words in the held-out check (bench/kb_crossval.py).
TYPO_MIN_LENGTH = 4
TYPO_MAX_EDITS = 1
_FIX_CACHE = 10_000
WORD_WEIGHT = 0.5  # share of the word cosine; the rest is the character n-gram cosine


@dataclass(frozen=True, slots=True)
class _Group:
    postings: dict[str, tuple[npt.NDArray[np.intp], FloatArray]]
    idf: dict[str, float]
    unseen_idf: float


@dataclass(frozen=True, slots=True)
class QueryScores:
    """Per-document similarity and how much of the query the KB vocabulary covers."""

    docs: FloatArray
    coverage: float  # share of the query's word weight made of words the KB knows
    n_words: int


def _tf(count: int) -> float:
    return 1.0 + math.log(count)


def _build_group(docs: Sequence[Sequence[str]], owners: Sequence[int]) -> _Group:
    counts = [Counter(doc) for doc in docs]
    per_owner: dict[int, set[str]] = {}
    for owner, c in zip(owners, counts, strict=True):
        per_owner.setdefault(owner, set()).update(c)
    df: Counter[str] = Counter()
    for feats in per_owner.values():
        df.update(feats)
    n = len(per_owner)
    idf = {f: math.log((n + 1) / (d + 1)) + 1.0 for f, d in df.items()}
    rows: dict[str, tuple[list[int], list[float]]] = {}
    for i, c in enumerate(counts):
        weights = {f: _tf(k) * idf[f] for f, k in c.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        for f, w in weights.items():
            ids, ws = rows.setdefault(f, ([], []))
            ids.append(i)
            ws.append(w / norm)
    postings = {
        f: (np.asarray(ids, dtype=np.intp), np.asarray(ws, dtype=np.float64))
        for f, (ids, ws) in rows.items()
    }
    return _Group(postings, idf, math.log(n + 1) + 1.0)


def _query_cosines(group: _Group, feats: Sequence[str], n_docs: int) -> tuple[FloatArray, float]:
    """Cosine of the query with every document, and the known share of the query weight."""
    sims = np.zeros(n_docs, dtype=np.float64)
    if not feats:
        return sims, 0.0
    counts = Counter(feats)
    weights = {f: _tf(k) * group.idf.get(f, group.unseen_idf) for f, k in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values()))
    known = [f for f in weights if f in group.postings]
    if known:
        ids = np.concatenate([group.postings[f][0] for f in known])
        ws = np.concatenate([group.postings[f][1] * (weights[f] / norm) for f in known])
        sims = np.bincount(ids, weights=ws, minlength=n_docs).astype(np.float64)
    covered = sum(weights[f] for f in known) / sum(weights.values())
    return sims, covered


class LexicalIndex:
    """Documents in, per-document similarities out.

    ``owners[i]`` is the entry document ``i`` belongs to (document frequencies count entries);
    by default every document is its own entry.
    """

    def __init__(self, docs: Sequence[str], owners: Sequence[int] | None = None) -> None:
        feats = [features(d) for d in docs]
        owners = range(len(docs)) if owners is None else owners
        self.n_docs = len(docs)
        self._vocab = sorted({t for d in docs for t in tokens(d) if is_word(t)})
        self._known = frozenset(self._vocab)
        self._fixes: dict[str, str] = {}
        self._words = _build_group([f[0] for f in feats], owners)
        self._grams = _build_group([f[1] for f in feats], owners)

    def _fix(self, token: str) -> str:
        if token in self._known or len(token) < TYPO_MIN_LENGTH or not is_word(token):
            return token
        fixed = self._fixes.get(token)
        if fixed is None:
            hit = process.extractOne(
                token, self._vocab, scorer=OSA.distance, score_cutoff=TYPO_MAX_EDITS
            )
            fixed = hit[0] if hit is not None else token
            if len(self._fixes) < _FIX_CACHE:
                self._fixes[token] = fixed
        return fixed

    def score(self, query: str) -> QueryScores:
        words, grams = features_of(tuple(self._fix(t) for t in tokens(query)))
        w_sims, coverage = _query_cosines(self._words, words, self.n_docs)
        g_sims, _ = _query_cosines(self._grams, grams, self.n_docs)
        if not words:  # nothing but function words: rely on n-grams alone, halved
            return QueryScores((1.0 - WORD_WEIGHT) * g_sims, 0.0, 0)
        docs = WORD_WEIGHT * w_sims + (1.0 - WORD_WEIGHT) * g_sims
        return QueryScores(docs, coverage, len(words))
