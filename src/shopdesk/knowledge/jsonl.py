"""Import/export of knowledge bases and queries in the CONTRACTS §4 JSON Lines format.

Validation is strict and names the line: a bad line is an error, nothing is imported.
Optional fields beyond §4 (``enabled``, ``preset``) are read and written; unknown fields
are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from shopdesk.knowledge.model import CATEGORIES, Category, Entry


class KBFormatError(ValueError):
    """A malformed line; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.reason = message


@dataclass(frozen=True, slots=True)
class Query:
    id: Any
    text: str


def _object(raw: str, n: int) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise KBFormatError(n, f"invalid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise KBFormatError(n, "expected a JSON object")
    return obj


def _text(obj: dict[str, Any], key: str, n: int) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise KBFormatError(n, f"'{key}' must be a non-empty string")
    return value


def _id(obj: dict[str, Any], n: int) -> str:
    value = obj.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise KBFormatError(n, "'id' must be a non-empty string or an integer")
    return str(value)


def parse_entry(obj: dict[str, Any], n: int) -> Entry:
    entry_id = _id(obj, n)
    category = obj.get("category")
    if category not in CATEGORIES:
        raise KBFormatError(n, f"'category' must be one of {', '.join(CATEGORIES)}")
    similar = obj.get("similar", [])
    if not isinstance(similar, list) or not all(isinstance(s, str) for s in similar):
        raise KBFormatError(n, "'similar' must be a list of strings")
    lang = obj.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise KBFormatError(n, "'lang' must be a string or absent")
    enabled = obj.get("enabled", True)
    if not isinstance(enabled, bool):
        raise KBFormatError(n, "'enabled' must be true or false")
    preset = obj.get("preset")
    return Entry(
        id=entry_id,
        category=cast(Category, category),
        question=_text(obj, "question", n),
        answer=_text(obj, "answer", n),
        similar=tuple(s for s in similar if s.strip()),
        lang=lang,
        enabled=enabled,
        preset_id=preset if isinstance(preset, str) else None,
    )


def _lines(lines: Iterable[str]) -> Iterable[tuple[int, str]]:
    for n, raw in enumerate(lines, start=1):
        if raw.strip():
            yield n, raw


def parse_kb(lines: Iterable[str]) -> list[Entry]:
    """Entries from JSON Lines; blank lines are skipped; duplicate ids are an error."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for n, raw in _lines(lines):
        entry = parse_entry(_object(raw, n), n)
        if entry.id in seen:
            raise KBFormatError(n, f"duplicate id {entry.id!r}")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def parse_queries(lines: Iterable[str]) -> Iterable[tuple[int, Query]]:
    """Queries `{"id", "text"}`, lazily, so stdin can stream; a bad line raises."""
    for n, raw in _lines(lines):
        obj = _object(raw, n)
        if "id" not in obj:
            raise KBFormatError(n, "'id' is missing")
        text = obj.get("text")
        if not isinstance(text, str):
            raise KBFormatError(n, "'text' must be a string")
        yield n, Query(obj["id"], text)


def entry_to_json(entry: Entry) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": entry.id,
        "category": entry.category,
        "question": entry.question,
        "similar": list(entry.similar),
        "answer": entry.answer,
    }
    if entry.lang is not None:
        obj["lang"] = entry.lang
    if not entry.enabled:
        obj["enabled"] = False
    if entry.preset_id is not None:
        obj["preset"] = entry.preset_id
    return obj


def dump_kb(entries: Iterable[Entry]) -> str:
    """JSON Lines text, one entry a line, that parse_kb reads back unchanged."""
    return "".join(json.dumps(entry_to_json(e), ensure_ascii=False) + "\n" for e in entries)
