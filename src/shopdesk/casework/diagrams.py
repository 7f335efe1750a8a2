"""Tables and diagrams (Mermaid and Graphviz dot) generated from the machines' data.

``python -m shopdesk.casework.diagrams --write docs/casework.md`` rewrites the generated
sections of the docs (between ``<!-- BEGIN GENERATED: name -->`` and ``<!-- END GENERATED:
name -->``); ``--check`` exits 1 when they are out of date; ``--dot NAME`` prints one
machine's dot (pipe it to ``dot -Tsvg``); with no option every section is printed.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shopdesk.casework import aftersales, complaints, disputes, force_majeure, tickets
from shopdesk.casework.machine import SELLER, Machine, Role

MACHINES: tuple[Machine[Any], ...] = (
    aftersales.MACHINE,
    disputes.MACHINE,
    complaints.MACHINE,
    force_majeure.MACHINE,
    tickets.MACHINE,
)


def roles_label(roles: frozenset[Role]) -> str:
    names: list[str] = []
    rest = set(roles)
    if rest >= SELLER:
        names.append("seller")
        rest -= SELLER
    order = [r for r in Role if r in rest]
    names[0:0] = [r.value for r in order if r is Role.BUYER]
    names += [r.value for r in order if r is not Role.BUYER]
    return ", ".join(names)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(machine: Machine[Any]) -> str:
    lines = [
        f"**States** (initial: `{machine.initial}`)",
        "",
        "| state | meaning | deadline it starts | on expiry | rule |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in machine.states:
        timers = s.timers or ()
        if not timers:
            final = " (final)" if s.terminal else ""
            lines.append(f"| `{s.name}`{final} | {_cell(s.description)} | — | — | |")
        for tm in timers:
            lines.append(
                f"| `{s.name}` | {_cell(s.description)} | `{tm.name}`: {_cell(tm.describe)} "
                f"| `{tm.on_expiry}` | {tm.rule} |"
            )
    lines += [
        "",
        "**Transitions**",
        "",
        "| action | from | to | who | params (? optional) | guard | refused after | rule |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in machine.transitions:
        target = f"`{t.target}`" if t.target else "(same)"
        sources = ", ".join(f"`{s}`" for s in t.sources)
        late = f"`{t.deadline_bound}`" if t.deadline_bound else ""
        lines.append(
            f"| `{t.action}` | {sources} | {target} | {roles_label(t.roles)} "
            f"| {', '.join(t.params)} | {_cell(t.guard_text)} | {late} | {t.rule} |"
        )
    return "\n".join(lines)


def _m(text: str) -> str:
    """Mermaid-safe label text (no statement separators or comment marks)."""
    return re.sub(r"[;:#%{}]", ",", text)


def mermaid(machine: Machine[Any]) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {machine.initial}"]
    for t in machine.transitions:
        for src in t.sources:
            dst = t.target or src
            lines.append(f"    {src} --> {dst} : {_m(f'{t.action} ({roles_label(t.roles)})')}")
    for s in machine.states:
        for tm in s.timers:
            lines.append(
                f"    note right of {s.name} : {_m(f'deadline {tm.name} - {tm.describe}')}"
            )
        if s.terminal:
            lines.append(f"    {s.name} --> [*]")
    return "\n".join(lines)


def _q(*lines: str) -> str:
    """A dot string; several lines are joined with dot's ``\\n``."""
    escaped = (line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return '"' + "\\n".join(escaped) + '"'


def dot(machine: Machine[Any]) -> str:
    lines = [
        f"digraph {machine.name} {{",
        "    rankdir=LR;",
        '    node [shape=box, style=rounded, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        '    start [shape=point, label=""];',
        f"    start -> {_q(machine.initial)};",
    ]
    for s in machine.states:
        label = _q(s.name, *(f"⏱ {tm.name}: {tm.describe}" for tm in s.timers))
        shape = ", peripheries=2" if s.terminal else ""
        lines.append(f"    {_q(s.name)} [label={label}{shape}];")
    for t in machine.transitions:
        for src in t.sources:
            dst = t.target or src
            style = ", style=dashed" if t.roles == frozenset({Role.SYSTEM}) else ""
            label = _q(t.action, f"[{roles_label(t.roles)}]")
            lines.append(f"    {_q(src)} -> {_q(dst)} [label={label}{style}];")
    lines.append("}")
    return "\n".join(lines)


def section(machine: Machine[Any]) -> str:
    return "\n".join(
        [
            table(machine),
            "",
            "```mermaid",
            mermaid(machine),
            "```",
            "",
            "<details><summary>Graphviz dot</summary>",
            "",
            "```dot",
            dot(machine),
            "```",
            "",
            "</details>",
        ]
    )


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- BEGIN GENERATED: {name} -->", f"<!-- END GENERATED: {name} -->"


def render_docs(text: str, machines: Sequence[Machine[Any]] = MACHINES) -> str:
    """``text`` with every machine's generated section replaced by the current one."""
    for m in machines:
        begin, end = _markers(m.name)
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            raise ValueError(f"the docs have no generated section for {m.name!r} ({begin})")
        block = f"{begin}\n{section(m)}\n{end}"
        text = pattern.sub(lambda _, b=block: b, text)  # type: ignore[misc]
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shopdesk.casework.diagrams")
    parser.add_argument("docs", nargs="?", default="docs/casework.md")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="rewrite the generated sections")
    group.add_argument("--check", action="store_true", help="exit 1 if they are out of date")
    group.add_argument("--dot", metavar="NAME", help="print one machine as Graphviz dot")
    group.add_argument("--mermaid", metavar="NAME", help="print one machine as Mermaid")
    args = parser.parse_args(argv)
    by_name = {m.name: m for m in MACHINES}
    if args.dot or args.mermaid:
        name = args.dot or args.mermaid
        if name not in by_name:
            parser.error(f"unknown machine {name!r}; known: {', '.join(by_name)}")
        print(dot(by_name[name]) if args.dot else mermaid(by_name[name]))
        return 0
    if not (args.write or args.check):
        for m in MACHINES:
            begin, end = _markers(m.name)
            print(f"{begin}\n{section(m)}\n{end}\n")
        return 0
    path = Path(args.docs)
    current = path.read_text("utf-8")
    fresh = render_docs(current)
    if args.check:
        if fresh != current:
            print(f"{path} is out of date: run python -m shopdesk.casework.diagrams --write")
            return 1
        return 0
    path.write_text(fresh, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
