"""`shopdesk kb match` contract (CONTRACTS §4), including bad input (exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopdesk.cli import app
from shopdesk.knowledge.jsonl import dump_kb
from shopdesk.knowledge.presets import seed_shop_kb


@pytest.fixture()
def kb_file(tmp_path: Path) -> Path:
    path = tmp_path / "kb.jsonl"
    path.write_text(dump_kb(seed_shop_kb(("en", "zh"))), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPDESK_KB_ENCODER", "off")  # tests never need the encoder


QUERIES = [
    {"id": "q1", "text": "where is my parcel??"},
    {"id": 2, "text": "see you at the pub tonight"},
    {"id": "q3", "text": "我想退货"},
]


def run(args: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["kb", "match", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def stdin_of(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_one_line_per_query_in_order_from_stdin(kb_file: Path) -> None:
    code, out, _ = run(["--kb", str(kb_file)], stdin_of(QUERIES))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["q1", 2, "q3"]  # ids echoed with their JSON type
    for r in rows:
        assert set(r) == {"id", "matches", "answer"}
        assert len(r["matches"]) == 3  # default --top 3, whatever the confidence
        assert all(set(m) == {"entry", "score"} and 0 <= m["score"] <= 1 for m in r["matches"])
    assert rows[0]["answer"] == "en.logistics.tracking"
    assert rows[1]["answer"] is None  # off-topic: the chatbot hands over
    assert rows[2]["answer"] == "zh.after_sale.return"


def test_queries_from_file_and_top(kb_file: Path, tmp_path: Path) -> None:
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(stdin_of(QUERIES), encoding="utf-8")
    code, out, _ = run(["--kb", str(kb_file), str(qfile), "--top", "1"])
    assert code == 0
    assert [len(json.loads(line)["matches"]) for line in out.splitlines()] == [1, 1, 1]


def test_bad_kb_line_is_named(kb_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(kb_file.read_text(encoding="utf-8") + '{"id": "x", "category": "nope"}\n')
    n = len(bad.read_text().splitlines())
    code, out, err = run(["--kb", str(bad)], stdin_of(QUERIES))
    assert code == 2 and out == ""
    assert f"line {n}" in err and "category" in err


def test_bad_query_line_is_named(kb_file: Path) -> None:
    code, _, err = run(["--kb", str(kb_file)], stdin_of(QUERIES[:1]) + "not json\n")
    assert code == 2 and "line 2" in err


def test_missing_files_and_bad_top(kb_file: Path, tmp_path: Path) -> None:
    assert run(["--kb", str(tmp_path / "none.jsonl")], "")[0] == 2
    assert run(["--kb", str(kb_file), str(tmp_path / "none.jsonl")])[0] == 2
    assert run(["--kb", str(kb_file), "--top", "0"], "")[0] == 2
    assert run([], "")[0] == 2  # --kb is required


def test_empty_input_prints_nothing(kb_file: Path) -> None:
    assert run(["--kb", str(kb_file)], "") == (0, "", "")
