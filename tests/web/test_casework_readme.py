"""The README's casework diagrams are the ones the engine generates (like docs/casework.md)."""

from __future__ import annotations

import re
from pathlib import Path

from shopdesk.casework import diagrams

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_diagrams_are_up_to_date() -> None:
    text = README.read_text("utf-8")
    for m in diagrams.MACHINES:
        found = re.search(
            rf"<!-- BEGIN MERMAID: {m.name} -->\n```mermaid\n(.*?)\n```\n"
            rf"<!-- END MERMAID: {m.name} -->",
            text,
            re.S,
        )
        assert found, f"README.md has no Mermaid diagram for {m.name}"
        assert found.group(1) == diagrams.mermaid(m), (
            f"README.md's {m.name} diagram is out of date: paste the output of "
            f"`python -m shopdesk.casework.diagrams --mermaid {m.name}`"
        )
