"""Contacts split across consecutive messages (CONTRACTS §3, SCR-D2)."""

from __future__ import annotations

from shopdesk.screening import ConversationScreener


def test_phone_split_over_three_messages() -> None:
    c = ConversationScreener()
    assert c.screen("138", sender="seller").verdict == "allow"
    assert c.screen("0013", sender="seller").verdict == "allow"
    last = c.screen("8000", sender="seller")
    assert last.verdict == "block"
    f = last.findings[0]
    assert (f.rule, f.kind, f.start, f.end, f.text) == ("SCR-1", "phone", 0, 4, "8000")


def test_email_split() -> None:
    c = ConversationScreener()
    assert c.screen("lucy.w.store", sender="seller").verdict == "allow"
    assert c.screen("@gmail.com", sender="seller").findings[0].kind == "email"


def test_number_words_split() -> None:
    c = ConversationScreener()
    for part in ("three one two", "five five five"):
        assert c.screen(part, sender="seller").verdict == "allow"
    assert c.screen("zero one seven eight", sender="seller").verdict == "block"


def test_other_sender_breaks_the_chain() -> None:
    c = ConversationScreener()
    c.screen("138", sender="seller")
    c.screen("ok?", sender="buyer")
    c.screen("0013", sender="seller")
    assert c.screen("8000", sender="seller").verdict == "allow"


def test_benign_ids_not_joined() -> None:
    c = ConversationScreener()
    assert c.screen("Your order number is 576 093 811 204", sender="seller").verdict == "allow"
    assert (
        c.screen("and the tracking number is 9400 1118 9922 3845 6712 08", sender="seller").verdict
        == "allow"
    )
    c2 = ConversationScreener()
    for part in ("尺码表：S码 86", "M码 90", "L码 94"):
        assert c2.screen(part, sender="seller").verdict == "allow"


def test_wechat_prefix_then_id() -> None:
    # rule SCR-1 messaging_handle: "V：" (WeChat) in one message, the ID in the next
    c = ConversationScreener()
    assert c.screen("V：", sender="seller", lang="zh").verdict == "allow"
    res = c.screen("cozy2288shop", sender="seller", lang="zh")
    assert res.verdict == "block"
    assert res.findings[0].kind == "messaging_handle"
