"""Both screening benches run with --smoke and print their figures (rules SCR-1…SCR-12)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--smoke"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_quality_smoke() -> None:
    out = _run("screening_quality.py")
    assert "false-positive rate on allow items" in out or "Bitext" in out
    assert "precision" in out or "FP rate" in out


def test_speed_smoke() -> None:
    out = _run("screening_speed.py")
    assert "msg/s" in out
    assert "p99" in out
    assert "presidio" in out.lower()
