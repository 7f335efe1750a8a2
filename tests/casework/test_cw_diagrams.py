"""Docs and diagrams are generated from the machines' data and kept up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopdesk.casework import diagrams
from shopdesk.casework.aftersales import MACHINE as AS_MACHINE

DOCS = Path(__file__).resolve().parents[2] / "docs" / "casework.md"


def test_docs_are_up_to_date() -> None:
    text = DOCS.read_text("utf-8")
    assert diagrams.render_docs(text) == text, (
        "docs/casework.md is out of date: run "
        "`.venv/bin/python -m shopdesk.casework.diagrams --write docs/casework.md`"
    )
    assert diagrams.main(["--check", str(DOCS)]) == 0


def test_every_transition_is_in_table_and_diagrams() -> None:
    for m in diagrams.MACHINES:
        tab, mer, dot = diagrams.table(m), diagrams.mermaid(m), diagrams.dot(m)
        assert mer.startswith("stateDiagram-v2") and f"[*] --> {m.initial}" in mer
        assert dot.startswith(f"digraph {m.name} {{") and dot.endswith("}")
        for t in m.transitions:
            assert f"`{t.action}`" in tab
            for src in t.sources:
                assert f"{src} --> {t.target or src} : {t.action} (" in mer
                assert f'"{src}" -> "{t.target or src}" [label="{t.action}\\n[' in dot
        for s in m.states:
            for tm in s.timers:
                assert f"deadline {tm.name}" in mer and f"`{tm.on_expiry}`" in tab


def test_roles_label_and_mermaid_safety() -> None:
    accept = next(t for t in AS_MACHINE.transitions if t.action == "accept")
    assert diagrams.roles_label(accept.roles) == "seller"
    assert ";" not in diagrams.mermaid(AS_MACHINE).split("\n", 1)[1]


def test_stale_docs_detected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "casework.md"
    stale.write_text(DOCS.read_text("utf-8").replace("| `accept` |", "| `acept` |"), "utf-8")
    assert diagrams.main(["--check", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert diagrams.main(["--write", str(stale)]) == 0
    assert stale.read_text("utf-8") == DOCS.read_text("utf-8")
    with pytest.raises(ValueError, match="no generated section"):
        diagrams.render_docs("# nothing")


def test_cli_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert diagrams.main(["--dot", "disputes"]) == 0
    assert capsys.readouterr().out.startswith("digraph disputes")
    assert diagrams.main(["--mermaid", "tickets"]) == 0
    assert "stateDiagram-v2" in capsys.readouterr().out
    assert diagrams.main([]) == 0
    assert "BEGIN GENERATED: complaints" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        diagrams.main(["--dot", "nope"])
