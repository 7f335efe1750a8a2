"""Lexical index: TF-IDF cosine over word features and character n-grams (numpy only).

Each phrasing (the question and every similar phrasing, rule KB-1) is one document. A query's
similarity to a document is the mean of two cosines: words and character n-grams. Query
features the KB has never seen keep their (maximal) weight in the query norm, so text that is
mostly about something else scores low — the basis of abstention on off-topic messages.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shopdesk.knowledge.text import features

FloatArray = npt.NDArray[np.float64]
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


def _build_group(docs: Sequence[Sequence[str]]) -> _Group:
    n = len(docs)
    counts = [Counter(doc) for doc in docs]
    df: Counter[str] = Counter()
    for c in counts:
        df.update(c.keys())
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
    """Documents in, per-document similarities out."""

    def __init__(self, docs: Sequence[str]) -> None:
        feats = [features(d) for d in docs]
        self.n_docs = len(docs)
        self._words = _build_group([f[0] for f in feats])
        self._grams = _build_group([f[1] for f in feats])

    def score(self, query: str) -> QueryScores:
        words, grams = features(query)
        w_sims, coverage = _query_cosines(self._words, words, self.n_docs)
        g_sims, _ = _query_cosines(self._grams, grams, self.n_docs)
        if not words:  # nothing but function words: rely on n-grams alone, halved
            return QueryScores((1.0 - WORD_WEIGHT) * g_sims, 0.0, 0)
        docs = WORD_WEIGHT * w_sims + (1.0 - WORD_WEIGHT) * g_sims
        return QueryScores(docs, coverage, len(words))
