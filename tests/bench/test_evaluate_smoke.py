"""The benchmark runs end to end at tiny sizes, from Parquet in conversation and in time
order and from JSON Lines, and finds the two evaluators identical on each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench" / "evaluate.py"


def test_bench_evaluate_smoke() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--smoke", "--input", "parquet-conv", "parquet-time",
         "jsonl-time"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for kind in ("parquet-conv", "parquet-time", "jsonl-time"):
        assert f"== input: {kind}" in out
    assert "regrouped by conversation" in out  # the time-ordered file took that path
    assert "msgs/s" in out and "peak RSS" in out
    # the reference ran on a sample and its figures say they are extrapolated
    assert out.count("EXTRAPOLATED linearly") == 3
    assert out.count("outputs identical on the 20 sampled shops: yes") == 3
