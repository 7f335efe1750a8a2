"""Import/export in the CONTRACTS §4 format; a bad line is an error naming the line (rule KB-1)."""

from __future__ import annotations

import json

import pytest

from shopdesk.knowledge.jsonl import KBFormatError, dump_kb, parse_kb, parse_queries

GOOD = {
    "id": "e1",
    "category": "logistics",
    "question": "Where is my parcel?",
    "similar": ["track my order"],
    "answer": "See the order page.",
    "lang": "en",
}


def lines(*objs: object) -> list[str]:
    return [o if isinstance(o, str) else json.dumps(o) for o in objs]


def test_round_trip_keeps_every_field() -> None:
    extra = GOOD | {"id": 7, "enabled": False, "preset": "en.logistics.tracking", "x": 1}
    entries = parse_kb(lines(GOOD, "", extra))
    assert [e.id for e in entries] == ["e1", "7"]  # integer ids are read as strings
    assert not entries[1].enabled and entries[1].preset_id == "en.logistics.tracking"
    assert parse_kb(dump_kb(entries).splitlines()) == entries


def test_lang_and_similar_are_optional() -> None:
    (entry,) = parse_kb(lines({k: v for k, v in GOOD.items() if k not in ("lang", "similar")}))
    assert entry.lang is None and entry.similar == ()


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "JSON object"),
        (GOOD | {"category": "pre-sale"}, "category"),
        (GOOD | {"question": "  "}, "question"),
        ({k: v for k, v in GOOD.items() if k != "answer"}, "answer"),
        (GOOD | {"similar": "track"}, "similar"),
        (GOOD | {"id": None}, "id"),
        (GOOD | {"enabled": "yes"}, "enabled"),
        (GOOD, "duplicate"),
    ],
)
def test_bad_line_names_its_number(bad: object, needle: str) -> None:
    with pytest.raises(KBFormatError) as err:
        parse_kb(lines(GOOD, "", bad))
    assert err.value.line == 3
    assert "line 3" in str(err.value) and needle in str(err.value)


def test_queries_need_id_and_text() -> None:
    assert [q.text for _, q in parse_queries(lines({"id": 1, "text": "hi"}))] == ["hi"]
    with pytest.raises(KBFormatError, match="line 2: 'text'"):
        list(parse_queries(lines({"id": 1, "text": "hi"}, {"id": 2})))
    with pytest.raises(KBFormatError, match="line 1: 'id'"):
        list(parse_queries(lines({"text": "hi"})))
