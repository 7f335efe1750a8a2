"""Benchmark of the service-metrics evaluators (issue 3).

Generates a synthetic marketplace log (default: 10,000 shops, 10 million messages over
5 weeks), stores it as Parquet (messages conversation by conversation) and, on request, the
same log with the messages in time order (as an event export writes them) and as CONTRACTS
§1 JSON Lines. Then, in separate child processes (so peak memory is measured per evaluator,
as ru_maxrss), it runs:

* bulk: file -> load_parquet / load_jsonl (integer-encoded columns) -> evaluate_bulk for all
  shops, one window, end to end (wall and CPU time of that whole span);
* reference: evaluate_log on every shop by default (about 160 s and 6.3 GB at full size),
  timed from the rows (Parquet: building the typed events; JSON Lines: read_events) plus
  evaluating them. ``--sample N`` runs it on N shops only and extrapolates its msgs/s
  linearly; the output then says so on every line that uses it (an estimate: it came out
  about 1.7x too optimistic for the reference at full size).

and checks the two agree on every field for every shop the reference ran.
Usage: python bench/evaluate.py [--smoke] [--shops N] [--messages N] [--sample N] [--repeat N]
       [--data FOLDER] [--input parquet-conv|parquet-time|jsonl-time|jsonl-conv ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

ZONES = ["America/New_York", "America/Los_Angeles", "America/Chicago", "Europe/London",
         "Asia/Shanghai", "Asia/Singapore", "Asia/Jakarta", "UTC"]
AGENT_TEXTS = ["Hi!", "Thanks for your message", "It ships tomorrow", "明天发货",
               "Your refund was issued", "您好", "The size runs small", "Tracking: 1Z999AA1"]
AT = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # after Monday noon in every zone above
START = AT - timedelta(weeks=5)
US = 10**6


def generate(folder: Path, shops: int, messages: int, seed: int = 7) -> None:
    """Vectorised synthetic log: conversations of 1..20 events, replies after lognormal
    delays, 10 % bot replies, 2 % handoffs, some closes, ratings and exclusions."""
    rng = np.random.default_rng(seed)
    n_conv = max(1, messages // 8)
    lengths = np.clip(rng.geometric(1 / 8, n_conv), 1, 20)
    lengths = (lengths * (messages / lengths.sum())).round().clip(1).astype(np.int64)
    short = messages - int(lengths.sum())  # make the total exact
    if short > 0:
        lengths[rng.choice(n_conv, short, replace=short > n_conv)] += 1
    total = int(lengths.sum())
    conv = np.repeat(np.arange(n_conv), lengths)
    pos = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    weights = 1 / np.arange(1, shops + 1) ** 0.8  # a few big shops, a long tail
    conv_shop = rng.choice(shops, n_conv, p=weights / weights.sum())
    span = int((AT - START).total_seconds()) * US
    conv_start = START.timestamp() * US + rng.integers(0, span, n_conv)
    gaps = np.exp(rng.normal(np.log(1800), 2.0, total)).astype(np.int64) * US
    gaps[pos == 0] = 0
    at = conv_start[conv].astype(np.int64) + np.cumsum(gaps) - np.repeat(
        np.cumsum(gaps)[np.cumsum(lengths) - lengths], lengths)
    senders = np.array(["buyer", "agent", "bot", "platform", "handoff", "close"])
    pick = rng.choice(6, total, p=[0.44, 0.40, 0.10, 0.02, 0.02, 0.02])
    pick[pos == 0] = 0
    sender = senders[pick]
    text = np.where(sender == "agent", rng.choice(AGENT_TEXTS, total), "where is my order?")
    msgs = pl.DataFrame({
        "conversation": pl.Series(conv).cast(pl.String).str.pad_start(8, "0"),
        "shop": pl.Series(conv_shop[conv]).cast(pl.String).str.pad_start(5, "0"),
        "at": at, "sender": sender, "kind": "text", "text": text,
    }).with_columns(pl.when(pl.col("sender") == "agent").then(pl.lit("a1")).alias("author"),
                    ("c" + pl.col("conversation")).alias("conversation"),
                    ("s" + pl.col("shop")).alias("shop"))
    folder.mkdir(parents=True, exist_ok=True)
    msgs.write_parquet(folder / "messages.parquet")
    shop_ids = [f"s{i:05d}" for i in range(shops)]
    pl.DataFrame({"shop": shop_ids, "timezone": rng.choice(ZONES, shops)}).write_parquet(
        folder / "shops.parquet")
    on = rng.random(shops) < 0.5
    pl.DataFrame({"shop": shop_ids, "at": int(START.timestamp() * US) - 86_400 * US,
                  "enabled": on}).write_parquet(folder / "chatbot.parquet")
    vac = rng.random(shops) < 0.02
    vstart = int(START.timestamp() * US) + rng.integers(0, span, shops)
    pl.DataFrame({"shop": shop_ids, "start": vstart, "end": vstart + 3 * 86_400 * US}).filter(
        pl.Series(vac)).write_parquet(folder / "vacations.parquet")
    rated = rng.random(n_conv) < 0.1
    convs = ("c" + pl.Series(np.arange(n_conv)).cast(pl.String).str.pad_start(8, "0"))
    last = at[np.cumsum(lengths) - 1]
    pl.DataFrame({"conversation": convs.filter(pl.Series(rated)),
                  "at": last[rated] + 60 * US,
                  "stars": rng.integers(1, 6, int(rated.sum()))}).write_parquet(
        folder / "ratings.parquet")
    exc = rng.random(n_conv) < 0.005
    pl.DataFrame({"conversation": convs.filter(pl.Series(exc)), "at": last[exc],
                  "reason": rng.choice(["verified_report", "platform_handled"],
                                       int(exc.sum()))}).write_parquet(
        folder / "exclusions.parquet")


def _summary(rows: list[object]) -> list[dict[str, object]]:
    from dataclasses import asdict

    out = []
    for r in rows:
        d = asdict(r)  # type: ignore[call-overload]
        d.pop("sessions_detail")
        out.append({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()})
    return out


INPUTS = ("parquet-conv", "parquet-time", "jsonl-time", "jsonl-conv")


def _iso(col: str) -> pl.Expr:
    return pl.from_epoch(pl.col(col), time_unit="us").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")


def derive(folder: Path, kind: str) -> Path:
    """The log of ``folder`` in another order and/or format (written once, untimed)."""
    fmt, order = kind.split("-")
    out = folder if kind == "parquet-conv" else folder / kind
    if kind == "parquet-conv" or out.exists():
        return out
    tmp = folder / f".{kind}.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    msgs = pl.read_parquet(folder / "messages.parquet")
    if order == "time":  # as an export writes it: by time, ties in conversation order
        msgs = msgs.sort("at", maintain_order=True)
    if fmt == "parquet":
        msgs.write_parquet(tmp / "messages.parquet")
        for name in ("shops", "chatbot", "vacations", "ratings", "exclusions"):
            (tmp / f"{name}.parquet").write_bytes((folder / f"{name}.parquet").read_bytes())
    else:
        write_jsonl(folder, msgs, tmp / "events.jsonl")
    tmp.rename(out)
    return out


def write_jsonl(folder: Path, msgs: pl.DataFrame, path: Path) -> None:
    """CONTRACTS §1 lines: declarations and switches, then conversation events in the order
    of ``msgs``, then ratings and exclusions."""
    def lines(df: pl.DataFrame, *cols: str | pl.Expr) -> pl.Series:
        return df.select(pl.struct(*cols).struct.json_encode()).to_series()

    r = pl.read_parquet
    sender = pl.col("sender")
    conv = msgs.select(
        pl.when(sender == "handoff").then(pl.struct(pl.lit("handoff").alias("type"),
                                                    "conversation", _iso("at").alias("at"))
                                          .struct.json_encode())
        .when(sender == "close").then(pl.struct(pl.lit("close").alias("type"), "conversation",
                                                _iso("at").alias("at"),
                                                pl.lit("seller").alias("by"))
                                      .struct.json_encode())
        .otherwise(pl.struct(pl.lit("message").alias("type"), "conversation", "shop",
                             _iso("at").alias("at"), "sender", "kind", "text", "author")
                   .struct.json_encode())
    ).to_series()
    vac = r(folder / "vacations.parquet")
    parts = [
        lines(r(folder / "shops.parquet"), pl.lit("shop").alias("type"), "shop", "timezone"),
        lines(r(folder / "chatbot.parquet"), pl.lit("chatbot").alias("type"), "shop",
              _iso("at").alias("at"), "enabled"),
        lines(vac, pl.lit("vacation").alias("type"), "shop", _iso("start").alias("start"),
              _iso("end").alias("end")),
        conv,
        lines(r(folder / "ratings.parquet"), pl.lit("rating").alias("type"), "conversation",
              _iso("at").alias("at"), "stars"),
        lines(r(folder / "exclusions.parquet"), pl.lit("exclusion").alias("type"),
              "conversation", _iso("at").alias("at"), "reason"),
    ]
    with open(path, "w", encoding="utf-8") as fh:
        for part in parts:
            for i in range(0, part.len(), 500_000):  # bounded memory
                fh.write("\n".join(part.slice(i, 500_000).to_list()))
                fh.write("\n")


def run_bulk(folder: Path, policy: str, kind: str) -> dict[str, object]:
    from shopdesk.policy.bulk_frames import load_jsonl, load_parquet
    from shopdesk.policy.evaluate_bulk import evaluate_bulk
    from shopdesk.policy.profiles import load_profile

    profile = load_profile(policy)
    src = derive(folder, kind)
    t0, c0 = time.perf_counter(), time.process_time()
    log = load_parquet(str(src)) if kind.startswith("parquet") else load_jsonl(
        str(src / "events.jsonl"))
    t1, c1 = time.perf_counter(), time.process_time()
    res = evaluate_bulk(log, profile, AT)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = pl.scan_parquet(folder / "messages.parquet").select(pl.len()).collect().item()
    (folder / "bulk.json").write_text(json.dumps(_summary(list(res))))
    return {"seconds": secs, "cpu": cpu, "load_s": t1 - t0, "load_cpu": c1 - c0,
            "messages": n, "shops": len(res), "regrouped": log.seq is not None}


def run_reference(folder: Path, policy: str, sample: int, kind: str) -> dict[str, object]:
    from shopdesk.policy.evaluate_reference import evaluate_log
    from shopdesk.policy.events import (
        ChatbotSwitch,
        Close,
        Exclusion,
        Handoff,
        Message,
        Rating,
        ShopDecl,
        Vacation,
    )
    from shopdesk.policy.jsonl import read_events
    from shopdesk.policy.profiles import load_profile

    profile = load_profile(policy)
    # Selecting the sample's rows (a scan of the whole file) is an artefact of sampling and
    # is not timed; turning the rows into typed events and evaluating them is.
    shops = pl.read_parquet(folder / "shops.parquet")
    chosen = (shops["shop"].sample(sample, seed=1) if 0 < sample < shops.height
              else shops["shop"]).to_list()
    sel = pl.col("shop").is_in(chosen)
    msgs = pl.read_parquet(derive(folder, "parquet-" + kind.split("-")[1])
                           / "messages.parquet").filter(sel)
    conv_sel = pl.col("conversation").is_in(msgs["conversation"].unique().implode())
    frames = {
        "shops": shops.filter(sel),
        "chatbot": pl.read_parquet(folder / "chatbot.parquet").filter(sel),
        "vacations": pl.read_parquet(folder / "vacations.parquet").filter(sel),
        "ratings": pl.read_parquet(folder / "ratings.parquet").filter(conv_sel),
        "exclusions": pl.read_parquet(folder / "exclusions.parquet").filter(conv_sel),
    }
    sample_path = folder / "reference-sample.jsonl"
    if kind.startswith("jsonl"):
        sub = folder / ".sample"
        sub.mkdir(exist_ok=True)
        for name, frame in frames.items():
            frame.write_parquet(sub / f"{name}.parquet")
        write_jsonl(sub, msgs, sample_path)

    def dt(us: int) -> datetime:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)

    t0, c0 = time.perf_counter(), time.process_time()
    events: list[object] = []
    if kind.startswith("jsonl"):
        with open(sample_path, encoding="utf-8") as fh:
            events += read_events(fh).events
    else:
        events += [ShopDecl(s, tz) for s, tz in frames["shops"].iter_rows()]
        events += [ChatbotSwitch(s, dt(a), e) for s, a, e in frames["chatbot"].iter_rows()]
        events += [Vacation(s, dt(a), dt(b)) for s, a, b in frames["vacations"].iter_rows()]
        for c, s, a, snd, kd, text, author in msgs.select(
                "conversation", "shop", "at", "sender", "kind", "text", "author").iter_rows():
            if snd == "handoff":
                events.append(Handoff(c, dt(a)))
            elif snd == "close":
                events.append(Close(c, dt(a), "seller"))
            else:
                events.append(Message(c, s, dt(a), snd, kind=kd, text=text, author=author))
        events += [Rating(c, dt(a), st) for c, a, st in frames["ratings"].iter_rows()]
        events += [Exclusion(c, dt(a), r) for c, a, r in frames["exclusions"].iter_rows()]
    t1 = time.perf_counter()
    res = evaluate_log(events, profile, AT, explain=False)  # type: ignore[arg-type]
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    res = [r for r in res if r.shop in set(chosen)]
    (folder / "reference.json").write_text(json.dumps(_summary(list(res))))
    return {"seconds": secs, "cpu": cpu, "build_s": t1 - t0, "messages": msgs.height,
            "shops": len(res), "sampled": 0 < sample < shops.height}


def _peak_rss_mb(fallback: float) -> float:
    """This process's peak resident memory. Linux keeps ru_maxrss across exec, so a child
    started by a big parent would report the parent's peak; VmHWM belongs to this image."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return fallback


def _child(folder: Path, child: str, args: argparse.Namespace, kind: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", child, "--data", str(folder), "--policy",
         args.policy, "--sample", str(args.sample), "--input", kind],
        capture_output=True, text=True, check=False, env=os.environ.copy())
    if proc.returncode:
        raise RuntimeError(proc.stderr)
    out: dict[str, float] = json.loads(proc.stdout)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, runs in seconds")
    ap.add_argument("--shops", type=int, default=10_000)
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--sample", type=int, default=0,
                    help="shops run by the reference (0: all, ~160 s, 6.3 GB)")
    ap.add_argument("--policy", default="us")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each child (best kept)")
    ap.add_argument("--data", type=Path, default=None, help="reuse/keep the Parquet folder")
    ap.add_argument("--input", nargs="+", choices=INPUTS, default=["parquet-conv"],
                    help="what the bulk evaluator reads (several: one report each)")
    ap.add_argument("--child", choices=["bulk", "reference"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.smoke:
        args.shops, args.messages, args.sample = 50, 20_000, 20
    if args.child:
        kind = args.input[0]
        fn = run_bulk(args.data, args.policy, kind) if args.child == "bulk" else \
            run_reference(args.data, args.policy, args.sample, kind)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        fn["peak_rss_mb"] = _peak_rss_mb(usage.ru_maxrss / 1024)
        fn["child_cpu_s"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(fn))
        return 0
    tmp = tempfile.TemporaryDirectory()
    folder = args.data or Path(tmp.name)
    if not (folder / "messages.parquet").exists():
        t0 = time.perf_counter()
        generate(folder, args.shops, args.messages)
        n = pl.scan_parquet(folder / "messages.parquet").select(pl.len()).collect().item()
        print(f"generated {n:,} messages for {args.shops:,} shops as Parquet "
              f"in {time.perf_counter() - t0:.1f} s")
    for kind in args.input:
        derive(folder, kind)  # untimed: the file the bulk evaluator reads
    identical = True
    for kind in args.input:
        print(f"== input: {kind} (load average before: {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores)")
        runs: dict[str, list[dict[str, float]]] = {"bulk": [], "reference": []}
        try:
            for _ in range(args.repeat):
                for child in ("bulk", "reference"):
                    runs[child].append(_child(folder, child, args, kind))
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        identical &= report(folder, runs)
    tmp.cleanup()
    return 0 if identical else 1


def report(folder: Path, runs: dict[str, list[dict[str, float]]]) -> bool:
    for b in runs["bulk"]:
        print(f"  bulk run: {b['seconds']:.2f} s wall, {b['cpu']:.2f} s CPU "
              f"(load+encode {b['load_s']:.2f} s wall / {b['load_cpu']:.2f} s CPU), "
              f"peak RSS {b['peak_rss_mb']:,.0f} MB")
    # best of the repeats: the least disturbed by other processes on a shared machine
    b = min(runs["bulk"], key=lambda x: x["seconds"])
    r = min(runs["reference"], key=lambda x: x["seconds"])
    b_rate, b_cpu_rate = b["messages"] / b["seconds"], b["messages"] / b["cpu"]
    r_rate = r["messages"] / r["seconds"] if r["seconds"] else float("inf")
    r_cpu_rate = r["messages"] / r["cpu"] if r["cpu"] else float("inf")
    print(f"bulk      (all {b['shops']:,} shops, end to end from the file"
          f"{', regrouped by conversation' if b['regrouped'] else ''}): "
          f"{b['seconds']:.2f} s wall, {b['cpu']:.2f} s CPU, "
          f"{b_rate:,.0f} msgs/s, peak RSS {b['peak_rss_mb']:,.0f} MB")
    full_s, full_cpu = b["messages"] / r_rate, b["messages"] / r_cpu_rate
    what = (f"sample of {r['shops']} shops, {r['messages']:,} msgs" if r["sampled"]
            else f"all {r['shops']:,} shops, {r['messages']:,} msgs")
    print(f"reference ({what}, typed events/parsing {r['build_s']:.2f} s + evaluate_log): "
          f"{r['seconds']:.2f} s wall, {r['cpu']:.2f} s CPU, {r_rate:,.0f} msgs/s, "
          f"peak RSS {r['peak_rss_mb']:,.0f} MB"
          + (f"; EXTRAPOLATED linearly to all {b['messages']:,} msgs: {full_s:,.0f} s wall, "
             f"{full_cpu:,.0f} s CPU" if r["sampled"] else ""))
    note = ", reference extrapolated from its sample" if r["sampled"] else ""
    print(f"speed-up (bulk vs reference, msgs/s{note}): "
          f"{b_rate / r_rate:.1f}x wall, {b_cpu_rate / r_cpu_rate:.1f}x CPU")
    print(f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
          + (" (busy: wall times are inflated)"
             if os.getloadavg()[0] > (os.cpu_count() or 1) else ""))
    ref = {d["shop"]: d for d in json.loads((folder / "reference.json").read_text())}
    bulk = {d["shop"]: d for d in json.loads((folder / "bulk.json").read_text())}
    diff = [s for s in ref if ref[s] != bulk.get(s)]
    print(f"outputs identical on the {len(ref)} sampled shops: {'yes' if not diff else 'NO'}")
    return not diff


if __name__ == "__main__":
    sys.exit(main())
