"""bench/chat.py --smoke runs end to end: seeds, serves, measures, prints the figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_chat_bench_smoke() -> None:
    python = ROOT / ".venv" / "bin" / "python"
    exe = str(python) if python.exists() else sys.executable
    proc = subprocess.run(
        [exe, str(ROOT / "bench" / "chat.py"), "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out}\n{proc.stderr[-3000:]}"
    for line in (
        "ceiling (a) throughput",
        "ceiling (b) @",
        "full (a) throughput",
        "full (b) @",
        "throughput ratio full/ceiling:",
        "full-path p99 at",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    assert "WARNING" not in out, out
