"""Labelled examples for the substantive-reply classifier (rule EV-3, MET-3)."""

from __future__ import annotations

import pytest

from shopdesk.policy.substantive import is_substantive, is_substantive_text

NOT_REPLIES = [
    "hi", "Hello!", "hello there", "Hey :)", "Good morning", "Thanks!", "Thank you so much 😊",
    "thx", "How are you?", "Have a nice day!", "Welcome to our shop!", "How can I help you?",
    "👍👍", "🙂", "...", "!!!", "  ", "", "haha", "bye", "Hi, thanks for reaching out!",
    "你好", "您好！", "亲，在的哦~", "谢谢亲", "欢迎光临", "有什么可以帮您？", "哈哈哈", "再见",
    "謝謝", "您好，歡迎光臨", "在吗？",
]
REPLIES = [
    "It ships tomorrow", "Your order shipped today, tracking 1Z999", "Yes", "No, sorry",
    "OK", "The size runs small, take one size up.", "Hi! Your refund was issued.",
    "Thanks, I have updated your address", "42", "明天发货", "亲，已经给您退款了",
    "好的", "您好，这款是纯棉的", "謝謝，已經寄出了", "Hello, the blue one is out of stock",
]


@pytest.mark.parametrize("text", NOT_REPLIES)
def test_ev3_greetings_thanks_small_talk_and_emoji_are_not_substantive(text: str) -> None:
    assert not is_substantive_text(text)


@pytest.mark.parametrize("text", REPLIES)
def test_ev3_anything_carrying_information_is_substantive(text: str) -> None:
    assert is_substantive_text(text)


def test_ev3_kinds_stickers_and_emoji_are_not_replies_cards_and_images_are() -> None:
    assert not is_substantive("sticker", "")
    assert not is_substantive("emoji", "😀")
    for kind in ("image", "video", "product_card", "order_card"):
        assert is_substantive(kind, "")
