"""Property: the bulk evaluator agrees with the reference, field by field (all EV rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shopdesk.policy.bulk_frames import bulk_from_events
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
)
from shopdesk.policy.profiles import load_profile

PROFILES = [load_profile("us"), load_profile("cross-border")]
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Shanghai",
         "Asia/Kolkata", "America/Santiago", "Pacific/Chatham"]
# Around 2026-03-29 (EU DST start), the US/Santiago/Sydney changes and month ends.
BASE = [datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 10, 24, tzinfo=UTC),
        datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)]
S = timedelta(seconds=1)
# gaps on both sides of every threshold: 10 min, 6 h, 24 h, 72 h
GAPS = [timedelta(0), S, 10 * 60 * S, 10 * 60 * S + S, 10 * 60 * S - S, timedelta(hours=6),
        timedelta(hours=6) + S, timedelta(hours=24), timedelta(hours=24) + S,
        timedelta(hours=72), timedelta(hours=72) + S, timedelta(hours=30), timedelta(days=3)]
gap = st.one_of(st.sampled_from(GAPS), st.integers(0, 5 * 86400).map(lambda s: s * S))
WHAT = ["buyer"] * 4 + ["agent"] * 4 + ["bot"] * 2 + ["platform", "handoff", "close",
                                                "rating", "exclusion"]
TEXTS = ["hi", "Thanks!", "It ships tomorrow", "你好", "明天发货", "👍", "OK"]


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[Event], datetime]:
    base = draw(st.sampled_from(BASE)) + draw(st.integers(0, 3 * 86400)) * S
    events: list[Event] = []
    shops = [f"s{i}" for i in range(draw(st.integers(1, 2)))]
    for sid in shops:
        if draw(st.booleans()):
            events.append(ShopDecl(sid, draw(st.sampled_from(ZONES))))
        for _ in range(draw(st.integers(0, 2))):
            events.append(ChatbotSwitch(sid, base + draw(gap) - timedelta(days=2),
                                        draw(st.booleans())))
        if draw(st.integers(0, 3)) == 0:
            start = base + draw(gap)
            end = None if draw(st.booleans()) else start + draw(gap)
            events.append(Vacation(sid, start, end))
    for c in range(draw(st.integers(0, 6))):
        conv, sid = f"c{c}", draw(st.sampled_from(shops))
        now = base + draw(gap)
        for _ in range(draw(st.integers(1, 10))):
            now = now + draw(gap) if draw(st.booleans()) else now + draw(st.integers(0, 900)) * S
            what = draw(st.sampled_from(WHAT))
            if what in ("buyer", "agent", "bot", "platform"):
                kind = draw(st.sampled_from(["text", "text", "sticker", "image"]))
                events.append(Message(conv, sid, now, what, kind=kind,
                                      text=draw(st.sampled_from(TEXTS)),
                                      author=draw(st.sampled_from([None, "a1", "a2"]))))
            elif what == "handoff":
                events.append(Handoff(conv, now))
            elif what == "close":
                events.append(Close(conv, now, "seller"))
            elif what == "rating":
                events.append(Rating(conv, now, draw(st.integers(1, 5))))
            else:
                events.append(Exclusion(conv, now, draw(st.sampled_from(
                    ["verified_report", "platform_handled"]))))
    at = base + draw(st.integers(86400, 16 * 86400)) * S
    return events, at


@given(logs(), st.sampled_from(PROFILES), st.booleans())
def test_bulk_evaluator_agrees_with_reference_field_by_field(
    case: tuple[list[Event], datetime], profile: object, one_shop: bool
) -> None:
    events, at = case
    shop = "s0" if one_shop else None
    ref = evaluate_log(events, profile, at, shop=shop)  # type: ignore[arg-type]
    bulk = evaluate_bulk(bulk_from_events(events), profile, at, shop=shop,  # type: ignore[arg-type]
                         explain=True)
    assert [r.shop for r in bulk] == [r.shop for r in ref]
    for a, b in zip(ref, bulk, strict=True):
        for field in a.__dataclass_fields__:
            assert getattr(b, field) == getattr(a, field), (a.shop, field)
