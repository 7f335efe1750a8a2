"""Proposed urgency from the complaint text, English and Chinese (rule CMP-2)."""

from __future__ import annotations

import pytest

from shopdesk.casework.urgency import propose_urgency


@pytest.mark.parametrize(
    ("text", "level", "term"),
    [
        ("I was scammed and will call the police", "high", "scammed"),
        ("充电宝起火了", "high", "起火"),
        ("孩子用了以后过敏", "high", "过敏"),
        ("商品破损，要求退款", "medium", "破损"),
        ("The item is broken, I want a refund", "medium", "refund"),
        ("Order not received", "medium", "not received"),
        ("Where is my parcel? Thanks", "low", None),
        ("请问什么时候发货", "low", None),
    ],
)
def test_levels(text: str, level: str, term: str | None) -> None:
    p = propose_urgency(text)
    assert p.level == level
    if term:
        assert term in {h.term for h in p.hits}
        assert term in p.explain()
    else:
        assert "no urgency keyword" in p.explain()


def test_whole_words_and_tone() -> None:
    assert propose_urgency("the refunded amount").hits == ()  # whole words only
    shouting = propose_urgency("WHERE IS MY ORDER!!!")
    assert [h.term for h in shouting.hits] == ["!!!/CAPS"] and shouting.level == "low"
    assert propose_urgency("STILL NOT RECEIVED!!!").level == "medium"
    hit = propose_urgency("a fake bag").hits[0]
    assert (hit.start, hit.end, hit.why) == (2, 6, "goods")
