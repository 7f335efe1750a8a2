"""`shopdesk evaluate` contract (CONTRACTS §1, §2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from shopdesk.commands.evaluate import register

app = typer.Typer()
register(app)


@app.callback()
def _root() -> None:  # keep `evaluate` as a sub-command
    pass


runner = CliRunner()

LOG = [
    {"type": "shop", "shop": "s1", "timezone": "America/New_York", "name": "One"},
    {"type": "shop", "shop": "s2", "timezone": "Asia/Shanghai"},
    {"type": "chatbot", "shop": "s1", "at": "2026-11-01T00:00:00Z", "enabled": True},
    {"type": "message", "conversation": "c1", "shop": "s1", "at": "2026-11-17T15:00:00Z",
     "sender": "buyer", "text": "where is my order?"},
    {"type": "message", "conversation": "c1", "shop": "s1", "at": "2026-11-17T16:00:00Z",
     "sender": "agent", "text": "hi", "author": "a1"},
    {"type": "message", "conversation": "c1", "shop": "s1", "at": "2026-11-17T17:00:00Z",
     "sender": "agent", "text": "It ships tomorrow", "author": "a1"},
    {"type": "message", "conversation": "c2", "shop": "s1", "at": "2026-11-21T15:00:00Z",
     "sender": "buyer", "text": "hello?", "mood": "sad"},
    {"type": "rating", "conversation": "c1", "at": "2026-11-18T15:00:00+00:00", "stars": 5},
    {"type": "mystery", "x": 1},
    {"type": "mystery", "x": 2},
]


def _write(tmp_path: Path, rows: list[dict[str, object]], extra: str = "") -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n" + extra)
    return path


def test_evaluate_json_contract(tmp_path: Path) -> None:
    path = _write(tmp_path, LOG)
    res = runner.invoke(app, ["evaluate", str(path), "--policy", "us",
                              "--at", "2026-11-23T18:00:00Z", "--explain"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["policy"] == "us" and out["at"] == "2026-11-23T18:00:00Z"
    s1, s2 = out["shops"]
    assert s1["shop"] == "s1" and s2["shop"] == "s2"
    assert s1["window"] == {"start": "2026-11-16T00:00:00-05:00",
                            "end": "2026-11-23T00:00:00-05:00",
                            "evaluated_at": "2026-11-23T12:00:00-05:00"}
    assert (s1["buyer_messages"], s1["sessions"], s1["counted"], s1["pending"],
            s1["answered_in_time"]) == (2, 2, 2, 0, 1)
    assert s1["response_rate"] == 0.5 and s1["ratings"] == 1 and s1["satisfaction_rate"] == 1.0
    assert s1["first_response_median_s"] == 7200.0 and s1["outcome"] == "not_evaluated"
    d1, d2 = s1["sessions_detail"]
    assert d1 == {"conversation": "c1", "start": "2026-11-17T10:00:00-05:00",
                  "deadline": "2026-11-18T10:00:00-05:00", "status": "answered_in_time",
                  "first_reply_at": "2026-11-17T12:00:00-05:00", "first_reply_by": "a1"}
    assert d2["status"] == "unanswered" and d2["deadline"] == "2026-11-23T12:00:00-05:00"
    assert s2["sessions"] == 0 and s2["response_rate"] is None  # no activity: zeros
    assert "sessions_detail" in s2
    # one warning per unknown type, one for unknown fields
    assert res.stderr.count("'mystery'") == 1 and "mood" in res.stderr


def test_evaluate_without_explain_has_no_detail_and_shop_filter(tmp_path: Path) -> None:
    path = _write(tmp_path, LOG)
    res = runner.invoke(app, ["evaluate", str(path), "--policy", "us",
                              "--at", "2026-11-23T18:00:00Z", "--shop", "s1"])
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert [s["shop"] for s in out["shops"]] == ["s1"]
    assert "sessions_detail" not in out["shops"][0]


def test_evaluate_table_format(tmp_path: Path) -> None:
    path = _write(tmp_path, LOG)
    res = runner.invoke(app, ["evaluate", str(path), "--policy", "cross-border",
                              "--at", "2026-12-01T12:00:00Z", "--format", "table", "--explain"])
    assert res.exit_code == 0
    assert "s1" in res.stdout and "not_evaluated" in res.stdout and "c1" in res.stdout


def test_malformed_line_names_line_exit_2_nothing_on_stdout(tmp_path: Path) -> None:
    path = _write(tmp_path, LOG[:3], '{"type": "message", "conversation": "c1"\n')
    res = runner.invoke(app, ["evaluate", str(path), "--policy", "us", "--at",
                              "2026-11-23T18:00:00Z"])
    assert res.exit_code == 2 and res.stdout == ""
    assert "line 4" in res.stderr


def test_bad_field_values_are_refused_with_line(tmp_path: Path) -> None:
    bad = [
        {"type": "rating", "conversation": "c1", "at": "2026-11-18T15:00:00Z", "stars": 6},
        {"type": "message", "conversation": "c1", "shop": "s1", "at": "2026-11-18T15:00:00",
         "sender": "buyer"},
        {"type": "message", "conversation": "c1", "shop": "s1", "at": "2026-11-18T15:00:00Z",
         "sender": "robot"},
        {"type": "shop", "shop": "s1", "timezone": "Mars/Base"},
        {"type": "close", "conversation": "c1", "at": "2026-11-18T15:00:00Z"},
    ]
    for row, needle in zip(bad, ["stars", "offset", "sender", "Mars/Base", "by"], strict=True):
        path = _write(tmp_path, [LOG[0], row])
        res = runner.invoke(app, ["evaluate", str(path), "--policy", "us", "--at",
                                  "2026-11-23T18:00:00Z"])
        assert res.exit_code == 2 and res.stdout == "", row
        assert "line 2" in res.stderr and needle in res.stderr


def test_unknown_policy_and_bad_at_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, LOG)
    res = runner.invoke(app, ["evaluate", str(path), "--policy", "mars", "--at", "2026-11-23Z"])
    assert res.exit_code == 2 and "mars" in res.stderr and res.stdout == ""
    res = runner.invoke(app, ["evaluate", str(path), "--policy", "us", "--at", "tomorrow"])
    assert res.exit_code == 2 and res.stdout == ""


def test_installed_console_script(tmp_path: Path) -> None:
    path = _write(tmp_path, LOG)
    exe = Path(sys.executable).parent / "shopdesk"
    proc = subprocess.run([str(exe), "evaluate", str(path), "--policy", "us", "--at",
                           "2026-11-23T18:00:00Z"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["shops"][0]["answered_in_time"] == 1


def test_unknown_shop_is_listed_with_zeros(tmp_path: Path) -> None:
    path = _write(tmp_path, LOG)
    res = runner.invoke(app, ["evaluate", str(path), "--policy", "us", "--at",
                              "2026-11-23T18:00:00Z", "--shop", "nobody"])
    assert res.exit_code == 0
    [s] = json.loads(res.stdout)["shops"]
    assert (s["shop"], s["sessions"], s["buyer_messages"], s["outcome"]) == (
        "nobody", 0, 0, "not_evaluated")


def test_server_api_evaluate_shop_on_typed_events() -> None:
    from shopdesk.policy import evaluate_shop, group_by_shop, load_profile, read_events

    events = read_events(json.dumps(r) for r in LOG).events
    log = group_by_shop(events)["s1"]
    from datetime import UTC, datetime

    ev = evaluate_shop(log, load_profile("us"), datetime(2026, 11, 23, 18, tzinfo=UTC))
    assert ev.answered_in_time == 1 and ev.sessions_detail[0].first_reply_by == "a1"
