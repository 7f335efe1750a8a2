"""The bulk evaluator's input paths agree with the reference: any event order (grouped by
conversation, by time, shuffled), hash collisions while grouping, JSON Lines."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.policy import test_property_bulk_vs_reference as prop

from shopdesk.policy import bulk_frames
from shopdesk.policy.bulk_frames import bulk_from_events, load_jsonl
from shopdesk.policy.evaluate_bulk import evaluate_bulk
from shopdesk.policy.evaluate_reference import evaluate_log
from shopdesk.policy.events import (
    ChatbotSwitch,
    Close,
    Event,
    Exclusion,
    Handoff,
    Message,
    Rating,
    ShopDecl,
    Vacation,
    event_time,
)
from shopdesk.policy.jsonl import EventLogError, read_events
from shopdesk.policy.profiles import load_profile

US = load_profile("us")
AT = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # Monday, after noon in every zone used
T0 = datetime(2026, 11, 14, 9, 0, tzinfo=UTC)  # Saturday of the evaluated week


def _same(events: list[Event], profile: object = US, at: datetime = AT) -> None:
    ref = evaluate_log(events, profile, at)  # type: ignore[arg-type]
    bulk = evaluate_bulk(bulk_from_events(events), profile, at, explain=True)  # type: ignore[arg-type]
    assert bulk == ref


def _busy_log(conversations: int = 40) -> list[Event]:
    """Interleaved conversations of two shops: replies in and out of time, bot replies,
    handoffs, closes, weekend starts with the chatbot on, ratings and an exclusion."""
    rnd = random.Random(3)
    events: list[Event] = [ShopDecl("s1", "America/New_York"), ShopDecl("s2", "Asia/Shanghai"),
                           ChatbotSwitch("s1", T0 - timedelta(days=3), True)]
    for c in range(conversations):
        shop, now = f"s{1 + c % 2}", T0 + timedelta(hours=rnd.randint(0, 150))
        conv = f"conv-{rnd.randint(0, 10**6):07d}-{c}"
        for _ in range(rnd.randint(1, 8)):
            now += timedelta(minutes=rnd.choice([0, 5, 11, 90, 400, 1500, 2000]))
            what = rnd.choice(["buyer", "buyer", "agent", "agent", "bot", "handoff", "close"])
            if what == "handoff":
                events.append(Handoff(conv, now))
            elif what == "close":
                events.append(Close(conv, now, "seller"))
            else:
                events.append(Message(conv, shop, now, what, author="a1",
                                      text=rnd.choice(["hi", "It ships tomorrow", "明天发货"])))
        if c % 5 == 0:
            events.append(Rating(conv, now + timedelta(minutes=1), 1 + c % 5))
        if c == 7:
            events.append(Exclusion(conv, now, "platform_handled"))
    return events


def test_time_ordered_and_shuffled_logs_evaluate_like_the_reference() -> None:
    events = _busy_log()
    timed = sorted(events, key=lambda e: event_time(e) or T0 - timedelta(days=30))
    shuffled = events[:]
    random.Random(5).shuffle(shuffled)
    for variant in (events, timed, shuffled):
        _same(variant)
    assert bulk_from_events(events).seq is None  # grouped as generated: not moved
    assert bulk_from_events(timed).seq is not None  # regrouped by conversation


@given(prop.logs(), st.sampled_from(prop.PROFILES), st.sampled_from(["time", "shuffle", "reverse"]),
       st.randoms(use_true_random=False))
def test_bulk_agrees_with_reference_whatever_the_event_order(
    case: tuple[list[Event], datetime], profile: object, order: str, rnd: random.Random
) -> None:
    events, at = case
    if order == "time":
        events = sorted(events, key=lambda e: event_time(e) or at)
    elif order == "shuffle":
        rnd.shuffle(events)
    else:
        events = events[::-1]
    _same(events, profile, at)


def test_ids_sharing_a_hash_are_still_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first hash under which every id collides: the second one notices, and the exact
    (sorted-names) grouping gives the reference's results."""
    events = _busy_log()
    timed = sorted(events, key=lambda e: event_time(e) or T0 - timedelta(days=30))
    real = bulk_frames._conv_hash

    def colliding(ids: pl.Series, seed: int) -> np.ndarray:
        return np.zeros(ids.len(), dtype=np.uint64) if seed == 0 else real(ids, seed)

    monkeypatch.setattr(bulk_frames, "_conv_hash", colliding)
    assert bulk_frames._group_by_hash(pl.Series(["a", "b", "a"])) is None
    _same(timed)


def test_ids_sharing_only_the_top_hash_bits_are_regrouped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Grouping sorts by the hash's top bits first; small hashes (top bits all zero) make
    every id share them, so the full-hash pass must separate the conversations."""
    real = bulk_frames._conv_hash
    monkeypatch.setattr(bulk_frames, "_conv_hash",
                        lambda ids, seed: real(ids, seed) >> np.uint64(40))
    perm, starts = bulk_frames._group_by_hash(pl.Series(["b", "a", "b", "c", "a"])) or (
        None, None)
    assert perm is not None and starts is not None
    groups = [sorted(perm[s:e].tolist()) for s, e in zip(starts, [*starts[1:], 5], strict=True)]
    assert sorted(groups) == [[0, 2], [1, 4], [3]]
    events = _busy_log()
    _same(sorted(events, key=lambda e: event_time(e) or T0 - timedelta(days=30)))


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _line(ev: Event) -> dict[str, object]:
    if isinstance(ev, ShopDecl):
        return {"type": "shop", "shop": ev.shop, "timezone": ev.timezone}
    if isinstance(ev, ChatbotSwitch):
        return {"type": "chatbot", "shop": ev.shop, "at": _iso(ev.at), "enabled": ev.enabled}
    if isinstance(ev, Vacation):
        return {"type": "vacation", "shop": ev.shop, "start": _iso(ev.start),
                "end": None if ev.end is None else _iso(ev.end)}
    if isinstance(ev, Message):
        return {"type": "message", "conversation": ev.conversation, "shop": ev.shop,
                "at": _iso(ev.at), "sender": ev.sender, "kind": ev.kind, "text": ev.text,
                "author": ev.author}
    if isinstance(ev, Handoff):
        return {"type": "handoff", "conversation": ev.conversation, "at": _iso(ev.at)}
    if isinstance(ev, Close):
        return {"type": "close", "conversation": ev.conversation, "at": _iso(ev.at),
                "by": ev.by}
    if isinstance(ev, Rating):
        return {"type": "rating", "conversation": ev.conversation, "at": _iso(ev.at),
                "stars": ev.stars}
    assert isinstance(ev, Exclusion)
    return {"type": "exclusion", "conversation": ev.conversation, "at": _iso(ev.at),
            "reason": ev.reason}


def _write(path: Path, events: list[Event], extra: list[str] = ()) -> str:  # type: ignore[assignment]
    lines = [json.dumps(_line(e), ensure_ascii=False) for e in events] + list(extra)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_jsonl_is_read_columnar_and_evaluates_like_the_reference(tmp_path: Path) -> None:
    events = [*_busy_log(), Vacation("s2", T0 + timedelta(days=1), None)]
    timed = sorted(events, key=lambda e: event_time(e) or T0 - timedelta(days=30))
    path = _write(tmp_path / "log.jsonl", timed,
                  ['{"type": "sticker_pack", "shop": "s1"}'])  # unknown types are ignored
    assert bulk_frames._load_jsonl_fast(path) is not None  # the columnar path took it
    with open(path, encoding="utf-8") as fh:
        ref = evaluate_log(read_events(fh).events, US, AT)
    assert evaluate_bulk(load_jsonl(path), US, AT, explain=True) == ref
    assert ref[0].sessions > 5 and ref[1].ratings > 0  # not a vacuous log


def test_jsonl_in_other_iso_forms_goes_through_the_strict_reader(tmp_path: Path) -> None:
    events = _busy_log(10)
    lines = [json.dumps(_line(e), ensure_ascii=False) for e in events]
    at = _iso(T0 + timedelta(hours=1))
    lines.append(json.dumps({"type": "message", "conversation": "late", "shop": "s1",
                             "at": at.replace("T", " ").replace("Z", "+00:00"),
                             "sender": "buyer"}))
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert bulk_frames._load_jsonl_fast(str(path)) is None
    with open(path, encoding="utf-8") as fh:
        ref = evaluate_log(read_events(fh).events, US, AT)
    assert evaluate_bulk(load_jsonl(str(path)), US, AT, explain=True) == ref


@pytest.mark.parametrize(("bad", "message"), [
    ('{"type": "message", "conversation": "c1", "shop": "s1", "at": "2026-11-20T10:00:00Z"',
     "line 3: not valid JSON"),
    ('{"type": "message", "conversation": "c1", "shop": "s1", "at": "2026-11-20T10:00:00",'
     ' "sender": "buyer"}', "line 3: message: field 'at': time '2026-11-20T10:00:00' has no"),
    ('{"type": "message", "conversation": "c1", "shop": "s2", "at": "2026-11-20T10:00:00Z",'
     ' "sender": "buyer"}', "line 3: message: conversation 'c1' belongs to shop 's1'"),
    ('{"type": "rating", "conversation": "c1", "at": "2026-11-20T10:00:00Z", "stars": 9}',
     "line 3: rating: field 'stars' must be an integer 1..5"),
    ('{"type": "message", "conversation": "c1", "shop": "s1", "at": "2026-11-20T10:00:00Z",'
     ' "sender": "robot"}', "line 3: message: field 'sender' must be one of"),
])
def test_jsonl_bad_line_is_named(tmp_path: Path, bad: str, message: str) -> None:
    good = [ShopDecl("s1", "UTC"), Message("c1", "s1", T0, "buyer", text="where is it?")]
    path = _write(tmp_path / "bad.jsonl", good, [bad])
    with pytest.raises(EventLogError) as exc:
        load_jsonl(path)
    assert str(exc.value).startswith(message)
