"""The benchmark runs end to end at tiny sizes and finds the two evaluators identical."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench" / "evaluate.py"


def test_bench_evaluate_smoke() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--smoke"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "msgs/s" in out and "peak RSS" in out and "extrapolated" in out
    assert "outputs identical on the 50 sampled shops: yes" in out
