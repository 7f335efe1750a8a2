"""`shopdesk screen` contract (CONTRACTS §3)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shopdesk.cli import app

runner = CliRunner()


def test_screen_stdin_json_lines() -> None:
    lines = [
        {"id": "m1", "text": "mail me: bob.k@gmail.com", "sender": "seller"},
        {"id": "m2", "text": "Where is my order?", "sender": "buyer", "lang": "en"},
        {"id": "m3", "text": "138", "sender": "seller", "conversation": "c"},
        {"id": "m4", "text": "0013 8000", "sender": "seller", "conversation": "c"},
    ]
    res = runner.invoke(app, ["screen"], input="\n".join(json.dumps(x) for x in lines) + "\n")
    assert res.exit_code == 0, res.output
    out = [json.loads(x) for x in res.stdout.splitlines()]
    assert [o["id"] for o in out] == ["m1", "m2", "m3", "m4"]
    assert out[0]["verdict"] == "block"
    f = out[0]["findings"][0]
    assert (f["rule"], f["kind"], f["start"], f["end"]) == ("SCR-1", "email", 9, 24)
    assert lines[0]["text"][f["start"] : f["end"]] == f["text"]  # type: ignore[index]
    assert out[1] == {"id": "m2", "verdict": "allow", "findings": []}
    assert out[3]["verdict"] == "block"


def test_screen_file_and_policy(tmp_path: Path) -> None:
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": 1, "text": "Are you stupid?", "sender": "seller"}\n', "utf-8")
    res = runner.invoke(app, ["screen", str(p), "--policy", "us", "--format", "json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["verdict"] == "flag"


def test_bad_line_names_line_exit_2() -> None:
    res = runner.invoke(app, ["screen"], input='{"id": "a", "text": "hi"}\nnot json\n')
    assert res.exit_code == 2
    assert "line 2" in res.stderr
    assert res.stdout == ""


def test_unknown_policy_exit_2() -> None:
    res = runner.invoke(app, ["screen", "--policy", "nope"], input='{"id": "a", "text": "hi"}\n')
    assert res.exit_code == 2
