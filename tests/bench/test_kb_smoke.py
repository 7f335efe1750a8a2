"""bench/kb_quality.py --smoke runs in seconds and meets the quality targets (SPEC §3 KB-7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV = Path(os.environ.get("SHOPDESK_FAQ_DEV", "/work/shared/eval/faq-dev"))


@pytest.mark.skipif(not (DEV / "kb.jsonl").exists(), reason="faq-dev evaluation data not present")
def test_kb_quality_smoke() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "kb_quality.py"), "--smoke", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ | {"SHOPDESK_KB_ENCODER": "off"},
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    lexical = report["lexical"]
    # Loose floors on a 400-query sample; the full run is reported in docs/knowledge.md.
    assert lexical["top1"] >= 0.85
    assert lexical["precision"] >= 0.9 and lexical["coverage"] >= 0.5
    assert lexical["abstention"] >= 0.9
    assert lexical["p99_ms"] <= 50  # target 20 ms; slack for loaded CI machines
    assert "baseline rank_bm25" in report
