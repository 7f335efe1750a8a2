"""Fit the matcher's confidence calibration (rule KB-7) on half of the faq-dev intents.

The fit uses generic features only (top similarity, margin to the second entry, coverage of
the query by the KB vocabulary). Intents are split by sorted id: even positions fit, odd
positions are held out; off-topic queries are split the same way (first half fits). Prints the
coefficients to paste into shopdesk.knowledge.matcher, the held-out figures, and the threshold:
the lowest of 0.3, 0.4, ... 0.9 whose held-out precision is at least PRECISION_FLOOR (the 0.95
target plus one point of margin, since a shop's KB is not faq-dev).

    .venv/bin/python bench/kb_calibrate.py [--encoder]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from shopdesk.knowledge.jsonl import parse_kb
from shopdesk.knowledge.matcher import Matcher
from shopdesk.knowledge.semantic import load_encoder

DEV = Path(os.environ.get("SHOPDESK_FAQ_DEV", "/work/shared/eval/faq-dev"))
PRECISION_FLOOR = 0.96


def rows(matcher: Matcher, queries: list[dict[str, object]]) -> tuple[np.ndarray, np.ndarray]:
    ids = [e.id for e in matcher.entries]
    x, y = [], []
    for q in queries:
        f = matcher.features(str(q["text"]))
        order = np.argsort(-f.entry_scores, kind="stable")
        top, second = f.entry_scores[order[0]], f.entry_scores[order[1]]
        x.append([top, top - second, f.coverage])
        y.append(1.0 if ids[order[0]] == q["expect"] else 0.0)
    return np.asarray(x), np.asarray(y)


def fit(x: np.ndarray, y: np.ndarray, steps: int = 20000, lr: float = 0.5) -> np.ndarray:
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-xb @ w))
        w -= lr * (xb.T @ (p - y) / len(y) + 1e-4 * w)
    return w


def main() -> None:
    kb = parse_kb((DEV / "kb.jsonl").read_text().splitlines())
    queries = [json.loads(line) for line in (DEV / "queries.jsonl").read_text().splitlines()]
    intents = sorted(e.id for e in kb)
    fit_intents = set(intents[0::2])
    off = [q for q in queries if q["expect"] is None]
    fit_q = [q for q in queries if q["expect"] in fit_intents] + off[: len(off) // 2]
    held_q = [q for q in queries if q["expect"] not in fit_intents and q["expect"] is not None]
    held_q += off[len(off) // 2 :]
    encoder = load_encoder() if "--encoder" in sys.argv else None
    matcher = Matcher(kb, encoder)
    w = fit(*rows(matcher, fit_q))
    print("coefficients (bias, top, margin, coverage):", [round(float(v), 3) for v in w])
    x, y = rows(matcher, held_q)
    conf = 1.0 / (1.0 + np.exp(-(np.hstack([np.ones((len(x), 1)), x]) @ w)))
    is_off = np.asarray([q["expect"] is None for q in held_q])
    chosen = None
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        ans = conf >= t
        prec = y[ans].mean() if ans.any() else float("nan")
        cov = ans[~is_off].mean()
        abst = 1.0 - ans[is_off].mean()
        print(
            f"held-out t={t:.1f} precision={prec:.3f} coverage={cov:.3f} off-topic abst={abst:.3f}"
        )
        if chosen is None and prec >= PRECISION_FLOOR:
            chosen = t
    print(f"threshold: {chosen} (lowest with held-out precision >= {PRECISION_FLOOR})")


if __name__ == "__main__":
    main()
