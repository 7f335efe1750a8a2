"""Screening quality on the labelled dev set and on external data (rules SCR-1…SCR-12).

Prints per-rule and per-SCR-1-kind precision/recall, the block/flag/allow confusion matrix,
the false-positive rate on `allow` items, and false-positive rates on external benign text
(Bitext customer-support instructions/responses, SMS ham) plus recall on SMS spam,
abusive English (Davidson) and Chinese (COLD) text.

    python bench/screening_quality.py [--smoke] [--dev PATH] [--external DIR] [--show-errors]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

from shopdesk.screening import ConversationScreener, load_policy, screen_message

SHARED = Path("/work/shared/eval")
VERDICTS = ("block", "flag", "allow")


def run_dev(path: Path, show_errors: bool) -> dict[str, float]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    policy = load_policy("us")
    convs: dict[str, ConversationScreener] = {}
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    allow_total = allow_fp = 0
    for r in rows:
        conv = r.get("conversation")
        if conv:
            scr = convs.setdefault(conv, ConversationScreener(policy=policy))
            res = scr.screen(r["text"], sender=r["sender"], lang=r.get("lang"))
        else:
            res = screen_message(r["text"], sender=r["sender"], policy=policy, lang=r.get("lang"))
        got_rules = {f.rule for f in res.findings}
        got_kinds = {f.kind for f in res.findings if f.rule == "SCR-1"}
        exp_rules = set(r["rules"])
        exp_kinds = {k for k in r["kinds"]} & {f"{k}" for k in r["kinds"]}
        exp_kinds1 = {k for k in exp_kinds if k in SCR1_KINDS}
        for key, got, exp in (("rule", got_rules, exp_rules), ("kind", got_kinds, exp_kinds1)):
            for x in got & exp:
                tp[f"{key}:{x}"] += 1
            for x in got - exp:
                fp[f"{key}:{x}"] += 1
            for x in exp - got:
                fn[f"{key}:{x}"] += 1
        confusion[(r["expect"], res.verdict)] += 1
        if r["expect"] == "allow":
            allow_total += 1
            allow_fp += res.verdict != "allow"
        if show_errors and (res.verdict != r["expect"] or got_rules != exp_rules):
            print(
                f"  ERR {r['id']} exp={r['expect']}{sorted(exp_rules)} got={res.verdict}"
                f"{sorted(got_rules)} {[(f.kind, f.text) for f in res.findings]} | {r['text']}"
            )
    print(f"dev set: {len(rows)} messages ({path})")
    print(f"{'rule/kind':28} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    keys = sorted(set(tp) | set(fn) | set(fp), key=lambda k: (k.split(":")[0], _order(k)))
    figures: dict[str, float] = {}
    for k in keys:
        p = tp[k] / (tp[k] + fp[k]) if tp[k] + fp[k] else float("nan")
        rc = tp[k] / (tp[k] + fn[k]) if tp[k] + fn[k] else float("nan")
        figures[f"recall {k}"] = rc
        print(f"{k:28} {p:9.3f} {rc:7.3f} {tp[k]:4} {fp[k]:4} {fn[k]:4}")
    print("confusion (rows expected, columns got):")
    print(f"{'':8}" + "".join(f"{v:>8}" for v in VERDICTS))
    for e in VERDICTS:
        print(f"{e:8}" + "".join(f"{confusion[(e, g)]:8}" for g in VERDICTS))
    fpr = allow_fp / allow_total if allow_total else 0.0
    acc = sum(confusion[(v, v)] for v in VERDICTS) / len(rows)
    print(f"verdict accuracy: {acc:.3f}")
    print(f"false-positive rate on allow items: {fpr:.4f} ({allow_fp}/{allow_total})")
    figures["fp_rate_allow"] = fpr
    return figures


SCR1_KINDS = {
    "url",
    "email",
    "phone",
    "messaging_handle",
    "payment_account",
    "bank_account",
    "qr_code",
    "address",
}


def _order(k: str) -> tuple[int, str]:
    name = k.split(":", 1)[1]
    if name.startswith("SCR-"):
        return int(name[4:]), name
    return 0, name


def _rate(texts: list[str], sender: str = "seller") -> tuple[int, int]:
    policy = load_policy("us")
    hit = 0
    for t in texts:
        hit += screen_message(t, sender=sender, policy=policy).verdict != "allow"
    return hit, len(texts)


def run_external(base: Path, limit: int | None, show_errors: bool) -> None:
    def show(label: str, hit: int, n: int, what: str) -> None:
        print(f"{label:52} {what} {hit / n if n else 0:.4f} ({hit}/{n})")

    bitext = base / "bitext_customer_support_training_4514.csv"
    if bitext.exists():
        with bitext.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))[:limit]
        show(
            "Bitext instructions (seller screening, must allow)",
            *_rate([r["instruction"] for r in rows]),
            "FP rate",
        )
        show(
            "Bitext responses (seller screening, must allow)",
            *_rate([r["response"] for r in rows]),
            "FP rate",
        )
        if show_errors:
            pol = load_policy("us")
            for r in rows[:2000]:
                for t in (r["instruction"], r["response"]):
                    res = screen_message(t, policy=pol)
                    if res.verdict != "allow":
                        print("  BITEXT", [(f.rule, f.kind, f.text) for f in res.findings])
    sms = base / "sms_spam_collection.tsv"
    if sms.exists():
        lines = sms.read_text("utf-8", errors="replace").splitlines()[1:]
        pairs = [ln.split("\t", 1) for ln in lines if "\t" in ln][:limit]
        ham = [t for lab, t in pairs if lab == "ham"]
        spam = [t for lab, t in pairs if lab == "spam"]
        show("SMS ham (seller screening, should allow)", *_rate(ham), "FP rate")
        show("SMS spam (seller screening, caught)", *_rate(spam), "recall ")
    dav = base / "davidson_hate_offensive_labeled_data.csv"
    if dav.exists():
        with dav.open(encoding="utf-8") as fh:
            drows = list(csv.DictReader(fh))[:limit]
        off = [r["tweet"] for r in drows if r["class"] in ("0", "1")]
        nei = [r["tweet"] for r in drows if r["class"] == "2"]
        show("Davidson hate/offensive (buyer screening, flagged)", *_rate(off, "buyer"), "recall ")
        show("Davidson neither (buyer screening, flagged)", *_rate(nei, "buyer"), "FP rate")
    cold = base / "cold_zh_offensive_test.csv"
    if cold.exists():
        with cold.open(encoding="utf-8-sig") as fh:
            crows = list(csv.DictReader(fh))[:limit]
        off = [r["TEXT"] for r in crows if r["label"] == "1"]
        safe = [r["TEXT"] for r in crows if r["label"] == "0"]
        show("COLD offensive (buyer screening, flagged)", *_rate(off, "buyer"), "recall ")
        show("COLD safe (buyer screening, flagged)", *_rate(safe, "buyer"), "FP rate")
    pres = base / "presidio_synth_dataset_v2.json"
    if pres.exists():
        items = json.loads(pres.read_text("utf-8"))[:limit]
        want = {
            "PHONE_NUMBER": "phone",
            "EMAIL_ADDRESS": "email",
            "DOMAIN_NAME": "url",
            "IBAN_CODE": "bank_account",
            "CREDIT_CARD": "bank_account",
            "STREET_ADDRESS": "address",
        }
        found: Counter[str] = Counter()
        total: Counter[str] = Counter()
        pol = load_policy("us")
        for it in items:
            res = screen_message(it["full_text"], policy=pol)
            for sp in it["spans"]:
                kind = want.get(sp["entity_type"])
                if not kind:
                    continue
                total[sp["entity_type"]] += 1
                s, e = sp["start_position"], sp["end_position"]
                if any(
                    f.rule == "SCR-1"
                    and f.start is not None
                    and f.end is not None
                    and f.start < e
                    and s < f.end
                    for f in res.findings
                ):
                    found[sp["entity_type"]] += 1
        for et in sorted(total):
            show(f"Presidio synth {et} span recall", found[et], total[et], "recall ")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="few external rows only")
    ap.add_argument("--dev", type=Path, default=SHARED / "screening-dev.jsonl")
    ap.add_argument("--external", type=Path, default=SHARED / "external")
    ap.add_argument("--show-errors", action="store_true")
    args = ap.parse_args(argv)
    if args.dev.exists():
        run_dev(args.dev, args.show_errors)
    else:
        print(f"dev set not found at {args.dev}; skipped", file=sys.stderr)
    run_external(args.external, 150 if args.smoke else None, args.show_errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
