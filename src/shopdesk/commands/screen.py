"""`shopdesk screen [FILE] [--policy us] [--format json]` (CONTRACTS §3, rules SCR-1…SCR-12)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer


def _bad(lineno: int, why: str) -> None:
    typer.echo(f"error: line {lineno}: {why}", err=True)
    raise typer.Exit(code=2)


def _parse(lines: list[str]) -> list[tuple[int, dict[str, Any]]]:
    items: list[tuple[int, dict[str, Any]]] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            _bad(lineno, f"not valid JSON ({exc.msg})")
        if not isinstance(obj, dict):
            _bad(lineno, "expected a JSON object")
        if not isinstance(obj.get("text", ""), str):
            _bad(lineno, "'text' must be a string")
        if obj.get("sender", "seller") not in ("seller", "buyer", "agent", "bot"):
            _bad(lineno, "'sender' must be 'seller' or 'buyer'")
        att = obj.get("attachments", [])
        if att is None:
            att = []
        if not isinstance(att, list) or not all(isinstance(a, str) for a in att):
            _bad(lineno, "'attachments' must be a list of file paths")
        if "text" not in obj and not att:
            _bad(lineno, "missing 'text'")
        items.append((lineno, obj))
    return items


def screen_lines(lines: list[str], policy_name: str = "us") -> list[dict[str, Any]]:
    """Screen JSON Lines input; returns the output objects (raises typer.Exit(2) on bad input)."""
    from shopdesk.screening import ConversationScreener, load_policy, screen_message

    policy = load_policy(policy_name)
    convs: dict[str, ConversationScreener] = {}
    out: list[dict[str, Any]] = []
    for _lineno, obj in _parse(lines):
        text = obj.get("text") or ""
        sender = "buyer" if obj.get("sender") == "buyer" else "seller"
        lang = obj.get("lang")
        attachments = tuple(obj.get("attachments") or ())
        conv = obj.get("conversation")
        if conv is not None:
            scr = convs.setdefault(str(conv), ConversationScreener(policy=policy))
            res = scr.screen(text, sender=sender, lang=lang, attachments=attachments)
        else:
            res = screen_message(
                text, sender=sender, policy=policy, lang=lang, attachments=attachments
            )
        out.append(
            {
                "id": obj.get("id"),
                "verdict": res.verdict,
                "findings": [f.to_json() for f in res.findings],
            }
        )
    return out


def register(app: typer.Typer) -> None:
    @app.command("screen")
    def screen(
        file: Path | None = typer.Argument(None, help="JSON Lines input (default: stdin)"),
        policy: str = typer.Option("us", "--policy", help="screening policy profile"),
        fmt: str = typer.Option("json", "--format", help="output format (json)"),
    ) -> None:
        """Screen chat messages (rules SCR-1…SCR-12): one JSON line out per line in."""
        if fmt != "json":
            typer.echo("error: --format must be 'json'", err=True)
            raise typer.Exit(code=2)
        try:
            data = file.read_text("utf-8") if file is not None else sys.stdin.read()
        except OSError as exc:
            typer.echo(f"error: cannot read {file}: {exc}", err=True)
            raise typer.Exit(code=2) from exc
        try:
            results = screen_lines(data.splitlines(), policy)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from exc
        for r in results:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
