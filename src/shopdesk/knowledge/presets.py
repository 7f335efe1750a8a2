"""Platform presets (rule KB-3): generic questions and replies in every category, en and zh.

Shipped as package data (``presets/<lang>.jsonl``, CONTRACTS §4 format with ``lang``). A new
shop gets copies whose ``preset_id`` remembers the origin, so an edited entry can be reset.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from importlib import resources

from shopdesk.knowledge.jsonl import parse_kb
from shopdesk.knowledge.model import LANGUAGES, Entry, EntryStats


@cache
def load_presets(lang: str) -> tuple[Entry, ...]:
    """The platform presets of one language (``en`` or ``zh``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"no presets for language {lang!r}; available: {', '.join(LANGUAGES)}")
    text = (
        resources.files("shopdesk.knowledge")
        .joinpath("presets", f"{lang}.jsonl")
        .read_text(encoding="utf-8")
    )
    return tuple(parse_kb(text.splitlines()))


def preset_by_id(preset_id: str) -> Entry | None:
    lang = preset_id.split(".", 1)[0]
    if lang not in LANGUAGES:
        return None
    return next((e for e in load_presets(lang) if e.id == preset_id), None)


def seed_shop_kb(langs: tuple[str, ...] = ("en",), id_prefix: str = "") -> list[Entry]:
    """Copies of the presets for a new shop's KB (rule KB-3): fresh stats, ``preset_id`` set.

    Entry ids are ``id_prefix + preset id``; the server may pass its own prefix (e.g. a shop id)
    or renumber them.
    """
    return [
        replace(p, id=id_prefix + p.id, preset_id=p.id, stats=EntryStats())
        for lang in langs
        for p in load_presets(lang)
    ]


def reset_to_preset(entry: Entry) -> Entry:
    """The entry with its preset's category, question, phrasings and answer (rule KB-3).

    Keeps id, enabled flag and statistics. Raises ValueError for an entry the shop wrote itself.
    """
    preset = preset_by_id(entry.preset_id) if entry.preset_id else None
    if preset is None:
        raise ValueError(f"entry {entry.id!r} has no platform preset to reset to")
    return replace(
        entry,
        category=preset.category,
        question=preset.question,
        similar=preset.similar,
        answer=preset.answer,
        lang=preset.lang,
    )
