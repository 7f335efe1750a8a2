"""FAQ matcher: ranks entries for a buyer message, with a calibrated confidence (KB-1, KB-5, KB-7).

An entry's similarity is half the best similarity of any of its phrasings (question or similar
phrasing) and half the similarity of the entry as one document (all phrasings together); with
the encoder, half of that and half the best embedding cosine. The confidence of the top entry
is a logistic function of generic features — its similarity, its margin over the second entry
and the share of the query the KB knows — fitted once (see docs/knowledge.md, "Calibration");
the other entries get the same function with their own similarity and a margin against the top
entry, so every score is in 0–1 and the ranking is unchanged.
Below ``threshold`` the chatbot does not answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from shopdesk.knowledge.lexical import FloatArray, LexicalIndex
from shopdesk.knowledge.model import Entry, Match
from shopdesk.knowledge.semantic import Encoder
from shopdesk.knowledge.text import is_chinese


@dataclass(frozen=True, slots=True)
class Calibration:
    """confidence = sigmoid(bias + w_top * top + w_margin * margin + w_coverage * coverage)."""

    bias: float
    w_top: float
    w_margin: float
    w_coverage: float
    threshold: float

    def confidence(self, top: float, margin: float, coverage: float) -> float:
        z = self.bias + self.w_top * top + self.w_margin * margin + self.w_coverage * coverage
        return 1.0 / (1.0 + math.exp(-z))


# Fitted by bench/kb_calibrate.py on half of the faq-dev intents (even positions of the sorted
# ids) and half of the off-topic queries; each threshold is the lowest reaching precision >= 0.96
# on the other half (see docs/knowledge.md, "Calibration").
LEXICAL_CALIBRATION = Calibration(-2.948, 8.135, 5.818, -0.065, threshold=0.8)
HYBRID_CALIBRATION = Calibration(-3.309, 6.506, 12.72, -0.292, threshold=0.7)
ENTRY_WEIGHT = 0.5  # share of the whole-entry similarity (all phrasings as one document)
SEMANTIC_WEIGHT = 0.5  # share of the encoder similarity in the hybrid similarity


@dataclass(frozen=True, slots=True)
class Features:
    """The raw, uncalibrated evidence for one query (exposed for calibration and tests)."""

    entry_scores: FloatArray  # similarity of every indexed entry, index order
    coverage: float
    semantic: bool


@dataclass(frozen=True, slots=True)
class Result:
    matches: tuple[Match, ...]  # best first, whatever their confidence (KB-5)
    answer: str | None  # the entry the chatbot may send, or None: hand over (KB-7)

    @property
    def confidence(self) -> float:
        return self.matches[0].score if self.matches else 0.0


class Matcher:
    """Index of the enabled entries of one knowledge base."""

    def __init__(
        self,
        entries: Iterable[Entry],
        encoder: Encoder | None = None,
        *,
        threshold: float | None = None,
        lexical_calibration: Calibration = LEXICAL_CALIBRATION,
        hybrid_calibration: Calibration = HYBRID_CALIBRATION,
    ) -> None:
        self.entries: tuple[Entry, ...] = tuple(e for e in entries if e.enabled)
        docs: list[str] = []
        starts: list[int] = []
        owners: list[int] = []
        for i, entry in enumerate(self.entries):
            starts.append(len(docs))
            docs.extend(p for p in entry.phrasings if p.strip() or p is entry.question)
            owners.extend([i] * (len(docs) - starts[-1]))
        self._starts = np.asarray(starts, dtype=np.intp)
        self._lexical = LexicalIndex(docs, owners)
        self._whole = LexicalIndex([" \n ".join(e.phrasings) for e in self.entries])
        self._encoder = encoder
        # float32: the product with a query reads every phrasing's embedding, and at 1,000
        # entries (~5,000 phrasings) half the bytes is half the time of that memory-bound step.
        self._embeddings = (
            encoder.encode(docs).astype(np.float32) if encoder is not None and docs else None
        )
        self._lex_cal = lexical_calibration
        self._hyb_cal = hybrid_calibration
        self._threshold = threshold

    @property
    def uses_encoder(self) -> bool:
        return self._embeddings is not None

    def threshold_for(self, semantic: bool) -> float:
        if self._threshold is not None:
            return self._threshold
        return (self._hyb_cal if semantic else self._lex_cal).threshold

    def _per_entry(self, doc_scores: FloatArray) -> FloatArray:
        return np.maximum.reduceat(doc_scores, self._starts)

    def features(self, query: str) -> Features:
        if not self.entries:
            return Features(np.zeros(0), 0.0, False)
        lex = self._lexical.score(query)
        whole = self._whole.score(query)
        scores = (1.0 - ENTRY_WEIGHT) * self._per_entry(lex.docs) + ENTRY_WEIGHT * whole.docs
        # The bundled encoder is English-only: Chinese queries stay lexical.
        semantic = self._embeddings is not None and not is_chinese(query)
        if semantic and self._encoder is not None and self._embeddings is not None:
            vec = self._encoder.encode_query(query)
            # einsum, not `@`: numpy hands a matrix-vector product to multi-threaded BLAS, whose
            # threads spin against the encoder's and the server's on a small shared machine
            # (measured 5 ms CPU for `@` against 0.7 ms for einsum at 5,000 phrasings).
            cosines = np.einsum("ij,j->i", self._embeddings, vec.astype(np.float32))
            cosines = cosines.astype(np.float64)
            sem = self._per_entry(np.clip(cosines, 0.0, 1.0))
            scores = (1.0 - SEMANTIC_WEIGHT) * scores + SEMANTIC_WEIGHT * sem
        return Features(scores, lex.coverage, semantic)

    def match(self, query: str, top: int = 3) -> Result:
        feats = self.features(query)
        scores = feats.entry_scores
        if scores.size == 0:
            return Result((), None)
        cal = self._hyb_cal if feats.semantic else self._lex_cal
        order = np.argsort(-scores, kind="stable")
        best = float(scores[order[0]])
        second = float(scores[order[1]]) if scores.size > 1 else 0.0
        matches: list[Match] = []
        for rank, idx in enumerate(order[: max(top, 1)]):
            s = float(scores[idx])
            margin = best - second if rank == 0 else s - best
            conf = cal.confidence(s, margin, feats.coverage)
            matches.append(Match(self.entries[idx].id, round(conf, 6)))
        answer = (
            matches[0].entry if matches[0].score >= self.threshold_for(feats.semantic) else None
        )
        return Result(tuple(matches[:top]), answer)


def match_all(matcher: Matcher, queries: Sequence[str], top: int = 3) -> list[Result]:
    return [matcher.match(q, top) for q in queries]
