"""Benchmark of the service-metrics evaluators (issue 3).

Generates a synthetic marketplace log (default: 10,000 shops, 10 million messages over
5 weeks), stores it as Parquet, then in separate child processes (so peak memory is
measured per evaluator, as ru_maxrss) runs:

* bulk: Parquet -> load_parquet (integer-encoded columns) -> evaluate_bulk for all shops,
  one window, end to end (wall and CPU time of that whole span);
* reference: evaluate_log on a sample of shops, timed from the sample's rows: building the
  typed events plus evaluating them; its msgs/s is extrapolated to all shops, as running it
  on 10 M messages takes too long.

and checks the two agree on every field for every sampled shop.
Usage: python bench/evaluate.py [--smoke] [--shops N] [--messages N] [--sample N] [--repeat N]
       [--data FOLDER]
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


def run_bulk(folder: Path, policy: str) -> dict[str, object]:
    from shopdesk.policy.bulk_frames import load_parquet
    from shopdesk.policy.evaluate_bulk import evaluate_bulk
    from shopdesk.policy.profiles import load_profile

    profile = load_profile(policy)
    t0, c0 = time.perf_counter(), time.process_time()
    log = load_parquet(str(folder))
    t1, c1 = time.perf_counter(), time.process_time()
    res = evaluate_bulk(log, profile, AT)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = pl.scan_parquet(folder / "messages.parquet").select(pl.len()).collect().item()
    (folder / "bulk.json").write_text(json.dumps(_summary(list(res))))
    return {"seconds": secs, "cpu": cpu, "load_s": t1 - t0, "load_cpu": c1 - c0,
            "messages": n, "shops": len(res)}


def run_reference(folder: Path, policy: str, sample: int) -> dict[str, object]:
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
    from shopdesk.policy.profiles import load_profile

    profile = load_profile(policy)
    # Selecting the sample's rows (a scan of the whole file) is an artefact of sampling and
    # is not timed; turning the rows into typed events and evaluating them is.
    shops = pl.read_parquet(folder / "shops.parquet")
    chosen = shops["shop"].sample(min(sample, shops.height), seed=1).to_list()
    sel = pl.col("shop").is_in(chosen)
    msgs = pl.read_parquet(folder / "messages.parquet").filter(sel)
    conv_sel = pl.col("conversation").is_in(msgs["conversation"].unique().implode())
    frames = {
        "shops": shops.filter(sel),
        "chatbot": pl.read_parquet(folder / "chatbot.parquet").filter(sel),
        "vacations": pl.read_parquet(folder / "vacations.parquet").filter(sel),
        "ratings": pl.read_parquet(folder / "ratings.parquet").filter(conv_sel),
        "exclusions": pl.read_parquet(folder / "exclusions.parquet").filter(conv_sel),
    }

    def dt(us: int) -> datetime:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)

    t0, c0 = time.perf_counter(), time.process_time()
    events: list[object] = [ShopDecl(s, tz) for s, tz in frames["shops"].iter_rows()]
    events += [ChatbotSwitch(s, dt(a), e) for s, a, e in frames["chatbot"].iter_rows()]
    events += [Vacation(s, dt(a), dt(b)) for s, a, b in frames["vacations"].iter_rows()]
    for c, s, a, snd, kind, text, author in msgs.select(
            "conversation", "shop", "at", "sender", "kind", "text", "author").iter_rows():
        if snd == "handoff":
            events.append(Handoff(c, dt(a)))
        elif snd == "close":
            events.append(Close(c, dt(a), "seller"))
        else:
            events.append(Message(c, s, dt(a), snd, kind=kind, text=text, author=author))
    events += [Rating(c, dt(a), st) for c, a, st in frames["ratings"].iter_rows()]
    events += [Exclusion(c, dt(a), r) for c, a, r in frames["exclusions"].iter_rows()]
    t1 = time.perf_counter()
    res = evaluate_log(events, profile, AT, explain=False)  # type: ignore[arg-type]
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    res = [r for r in res if r.shop in set(chosen)]
    (folder / "reference.json").write_text(json.dumps(_summary(list(res))))
    return {"seconds": secs, "cpu": cpu, "build_s": t1 - t0, "messages": msgs.height,
            "shops": len(res)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, runs in seconds")
    ap.add_argument("--shops", type=int, default=10_000)
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--sample", type=int, default=100, help="shops run by the reference")
    ap.add_argument("--policy", default="us")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each child (best kept)")
    ap.add_argument("--data", type=Path, default=None, help="reuse/keep the Parquet folder")
    ap.add_argument("--child", choices=["bulk", "reference"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.smoke:
        args.shops, args.messages, args.sample = 50, 20_000, 50
    if args.child:
        fn = run_bulk(args.data, args.policy) if args.child == "bulk" else run_reference(
            args.data, args.policy, args.sample)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        fn["peak_rss_mb"] = usage.ru_maxrss / 1024
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
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    runs: dict[str, list[dict[str, float]]] = {"bulk": [], "reference": []}
    for _ in range(args.repeat):
        for child in ("bulk", "reference"):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", child, "--data", str(folder),
                 "--policy", args.policy, "--sample", str(args.sample)],
                capture_output=True, text=True, check=False, env=os.environ.copy())
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                return 1
            runs[child].append(json.loads(proc.stdout))
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
    print(f"bulk      (Parquet -> result, all {b['shops']:,} shops, end to end): "
          f"{b['seconds']:.2f} s wall, {b['cpu']:.2f} s CPU, "
          f"{b_rate:,.0f} msgs/s, peak RSS {b['peak_rss_mb']:,.0f} MB")
    extrapolated, extrapolated_cpu = b["messages"] / r_rate, b["messages"] / r_cpu_rate
    print(f"reference (sample of {r['shops']} shops, {r['messages']:,} msgs, building typed "
          f"events {r['build_s']:.2f} s + evaluate_log): {r['seconds']:.2f} s wall, "
          f"{r['cpu']:.2f} s CPU, {r_rate:,.0f} msgs/s, peak RSS {r['peak_rss_mb']:,.0f} MB; "
          f"extrapolated to all {b['messages']:,} msgs: {extrapolated:,.0f} s wall, "
          f"{extrapolated_cpu:,.0f} s CPU")
    print(f"speed-up (bulk vs reference, msgs/s): {b_rate / r_rate:.1f}x wall, "
          f"{b_cpu_rate / r_cpu_rate:.1f}x CPU")
    print(f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
          + (" (busy: wall times are inflated)"
             if os.getloadavg()[0] > (os.cpu_count() or 1) else ""))
    ref = {d["shop"]: d for d in json.loads((folder / "reference.json").read_text())}
    bulk = {d["shop"]: d for d in json.loads((folder / "bulk.json").read_text())}
    diff = [s for s in ref if ref[s] != bulk.get(s)]
    print(f"outputs identical on the {len(ref)} sampled shops: {'yes' if not diff else 'NO'}")
    tmp.cleanup()
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
