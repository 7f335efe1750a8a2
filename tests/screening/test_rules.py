"""Each rule and obfuscation family, and benign content that must stay allowed."""

from __future__ import annotations

import pytest

from shopdesk.screening import screen_message
from shopdesk.screening.normalise import normalise


def kinds(text: str, **kw: object) -> set[tuple[str, str]]:
    res = screen_message(text, **kw)  # type: ignore[arg-type]
    return {(f.rule, f.kind) for f in res.findings}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # rule SCR-1 — plain and obfuscated contacts (SCR-D2)
        ("Our shop: https://www.other-store.com/sale", "url"),
        ("see cozyhome.shop for more", "url"),
        ("look up cozyhome dot shop", "url"),
        ("docs at manualhub[.]io/x1", "url"),
        ("ｗｗｗ．ｃｏｚｙｈｏｍｅ．ｃｏｍ", "url"),
        ("官网 www。cozy-home。com", "url"),
        ("it is also on eBay, search for Cozy Home Goods", "url"),
        ("write to anna.lee@yahoo.com", "email"),
        ("write to anna_lee7 at yahoo dot com", "email"),
        ("a n n a @ c o z y . n e t", "email"),
        ("邮箱 lihua 艾特 qq 点 com", "email"),
        ("call (312) 555-0178 now", "phone"),
        ("call +44 7700 900456", "phone"),
        ("text me three one two, five five five, zero one seven eight", "phone"),
        ("3️⃣1️⃣2️⃣ 5️⃣5️⃣5️⃣ 0️⃣1️⃣7️⃣8️⃣ text me", "phone"),
        ("cell 3l2-555-Ol78", "phone"),
        ("电话 １３９０００１１２２３", "phone"),
        ("电话 壹叁玖 零零零壹 壹贰贰叁", "phone"),
        ("电话 幺三九 零零零幺 幺两两三", "phone"),
        ("tel 1.3.9.0.0.0.1.1.2.2.3", "phone"),
        ("add me on WhatsApp for photos", "messaging_handle"),
        ("Telegram: @cozy_goods_77", "messaging_handle"),
        ("add me on Snаpchаt: cozy_22", "messaging_handle"),
        ("加我微信 cozy_8866", "messaging_handle"),
        ("加vx：cz13688", "messaging_handle"),
        ("扣扣：一二三四五六七八九", "messaging_handle"),
        ("加我LINE：cozy.tw", "messaging_handle"),
        ("pay me through PayPal please", "payment_account"),
        ("Cash App: $cozydeals", "payment_account"),
        ("转我支付宝就行", "payment_account"),
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "bank_account"),
        ("send it to card 4111 1111 1111 1111", "bank_account"),
        ("visit us at 12 Baker Street, London", "address"),
        ("地址：上海市徐汇区漕溪北路88号", "address"),
    ],
)
def test_scr1_kinds(text: str, kind: str) -> None:
    assert ("SCR-1", kind) in kinds(text)
    assert screen_message(text).verdict == "block"


@pytest.mark.parametrize(
    ("text", "rule", "kind"),
    [
        ("Please send me your home address and phone number.", "SCR-2", "personal_info_request"),
        ("请发一下您的身份证号", "SCR-2", "personal_info_request"),
        ("There is a $7 restocking fee on returns.", "SCR-3", "extra_fee"),
        ("换货要补15元运费", "SCR-3", "extra_fee"),
        ("Just ship it back and I'll refund you myself.", "SCR-4", "offline_refund"),
        ("我们线下给您退款", "SCR-4", "offline_refund"),
        ("Could you cancel the order please? We are out of stock.", "SCR-5", "cancel_request"),
        ("麻烦您取消订单", "SCR-5", "cancel_request"),
        ("20% off if you order on our own website", "SCR-6", "offsite_promotion"),
        ("私聊更便宜", "SCR-6", "offsite_promotion"),
        ("Give us 5 stars and get a $10 gift card", "SCR-7", "review_incentive"),
        ("Please remove your negative review.", "SCR-7", "review_removal"),
        ("好评返现3元", "SCR-7", "review_incentive"),
        ("You are a stupid idiot.", "SCR-8", "abuse"),
        ("傻逼买家", "SCR-8", "abuse"),
        ("High quality 1:1 replica bags", "SCR-9", "illegal"),
        ("The listing says 1 year, but actually we give 5 years warranty.", "SCR-10", "misleading"),
        ("MEGA SALE today only!!! Shop now!", "SCR-11", "spam"),
    ],
)
def test_phrase_rules(text: str, rule: str, kind: str) -> None:
    assert (rule, kind) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Your order 576829301746283951 shipped, tracking 9400 1118 9922 3845 6712 08.",
        "UPS tracking 1Z 999 AA1 0123 4567 84 is on the order page.",
        "快递单号 SF1409876543210，可以在订单详情里查看。",
        "YunExpress tracking YT2412345678901234 is live.",
        "This is $49.99 and ships in 3-5 days.",
        "Model XR-2048B fits the 2019–2023 versions.",
        "EU sizes 36 37 38 39 40 41 in stock.",
        "Size M: 70 cm x 52 cm, 1.2 kg.",
        "Barcode 8801234567893 is on the box.",
        "Firmware v2.0.3 fixes the bug.",
        "The manual is manual_XR2048.pdf in this chat.",
        "Your order #5768-2930-1746 is being packed.",
        "生产日期 2024.03.15，保质期 18 个月。",
        "Please don't share your phone number here.",
        "This phone runs WhatsApp and Instagram.",
        "这款QQ糖很好吃",
        "V领设计，很显瘦",
        "There are no extra fees; shipping is included.",
        "Thanks for the 5-star review!",
        "You can cancel it from the order page if you like.",
        "Visit our shop on tiktok.com for more.",
        "Thanks.It arrived fine.",
    ],
)
def test_benign_allowed(text: str) -> None:
    res = screen_message(text)
    assert res.verdict == "allow", res.findings


def test_buyer_only_abuse() -> None:
    # rule SCR-12: buyer messages are screened for abuse only
    assert screen_message("call me at (312) 555-0178", sender="buyer").verdict == "allow"
    res = screen_message("You are a stupid idiot", sender="buyer")
    assert res.verdict == "flag" and res.findings[0].rule == "SCR-8"


def test_offsets_map_to_original() -> None:
    text = "ｗｗｗ．ｃｏｚｙ．ｃｏｍ and 电话 壹叁玖 零零零壹 壹贰贰叁 and a\u200bb@gmail.com"
    res = screen_message(text)
    assert res.findings
    for f in res.findings:
        assert f.start is not None and f.end is not None
        assert text[f.start : f.end] == f.text
    by_kind = {f.kind: f.text for f in res.findings}
    assert by_kind["url"] == "ｗｗｗ．ｃｏｚｙ．ｃｏｍ"
    assert by_kind["phone"] == "壹叁玖 零零零壹 壹贰贰叁"
    assert by_kind["email"] == "a\u200bb@gmail.com"


def test_normalise_views_keep_length_maps() -> None:
    n = normalise("t\u200be\u200bl ｔｅｌ")
    assert n.plain.text == "tel tel"
    assert n.plain.span(0, 3) == (0, 5)


def test_verdict_block_beats_flag() -> None:
    res = screen_message("You idiot, pay the $5 return fee or no refund.")
    assert res.verdict == "block"
    assert {f.rule for f in res.findings} >= {"SCR-3", "SCR-8"}
    assert all(f.reason for f in res.findings)
