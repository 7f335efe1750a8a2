"""Substantive-reply classifier (rule EV-3, MET-3), English and Chinese.

A reply is substantive unless it is only greetings, thanks, small talk, punctuation and
emoji. We remove every known greeting/thanks/small-talk phrase, then every character that
is not a letter or digit: if anything is left, the message carries information. Bare
acknowledgements such as "yes", "no", "ok", "好的" are kept as substantive (they answer a
question). Non-text kinds: stickers and emoji are not replies; images, videos, product and
order cards carry information.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

NON_SUBSTANTIVE_KINDS = frozenset({"sticker", "emoji"})

_EN = [
    "hi", "hii", "hiya", "hello", "hallo", "hey", "heya", "howdy", "greetings", "yo",
    "good morning", "good afternoon", "good evening", "good day", "good night", "morning",
    "dear", "dear customer", "dear buyer", "there", "friend", "my friend", "sir", "madam",
    "ma'am", "mam", "everyone", "all",
    "thanks", "thank you", "thank you so much", "thank you very much", "thanks a lot",
    "thanks so much", "many thanks", "thx", "thnx", "ty", "tysm", "thank u", "much appreciated",
    "appreciate it", "i appreciate it", "we appreciate it", "cheers", "for your message",
    "for reaching out", "for contacting us", "for your patience", "for your order",
    "you're welcome", "you are welcome", "youre welcome", "welcome", "no problem", "np",
    "no worries", "my pleasure", "anytime",
    "how are you", "how are you doing", "how r u", "how's it going", "hope you are well",
    "hope you're well", "hope you are doing well", "i hope you are doing well", "i'm fine",
    "i am fine", "fine", "nice to meet you", "pleased to meet you",
    "welcome to our shop", "welcome to our store", "welcome to the shop", "to our shop",
    "to our store", "how can i help you", "how can i help", "how may i help you",
    "how can we help you", "how can we help", "what can i do for you", "can i help you",
    "glad to help", "happy to help", "at your service",
    "have a nice day", "have a good day", "have a great day", "have a nice weekend",
    "have a great weekend", "have a good one", "enjoy your day", "bye", "goodbye", "bye bye",
    "see you", "see ya", "take care", "best regards", "regards", "kind regards",
    "lol", "haha", "hahaha", "hehe", "xd", "ok thanks", "and", "so", "very", "much", "again",
    "too", "a lot", "a", "the", "you", "u",
]
_ZH = [
    "你好", "您好", "你们好", "大家好", "哈喽", "哈啰", "嗨", "亲爱的", "亲亲", "亲",
    "在吗", "在嗎",
    "在的", "在呢", "在", "早上好", "上午好", "中午好", "下午好", "晚上好", "早安", "午安", "晚安",
    "谢谢", "謝謝", "谢谢您", "谢谢你", "多谢", "多謝", "感谢", "感謝", "谢啦", "谢了", "非常感谢",
    "不客气", "不客氣", "不用谢", "客气了", "欢迎光临", "歡迎光臨", "欢迎", "歡迎", "本店",
    "有什么可以帮您", "有什么可以帮你", "有什麼可以幫您", "请问有什么可以帮您", "请问", "的吗",
    "很高兴为您服务", "为您服务", "再见", "再見", "拜拜", "祝您生活愉快", "祝您购物愉快", "愉快",
    "哈哈", "哈哈哈", "呵呵", "嘻嘻", "嘿嘿", "哦", "噢", "啊", "呀", "呢", "吧", "哈", "啦", "哟",
    "您", "你", "的", "吗", "嗎", "了", "哦哦",
]


def _en_pattern() -> re.Pattern[str]:
    words = sorted({w.lower() for w in _EN}, key=len, reverse=True)
    alt = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    return re.compile(rf"(?<![a-z0-9])(?:{alt})(?![a-z0-9])")


_EN_RE = _en_pattern()
_ZH_RE = re.compile("|".join(re.escape(w) for w in sorted(set(_ZH), key=len, reverse=True)))


@lru_cache(maxsize=65536)
def is_substantive_text(text: str) -> bool:
    """True when the text carries information beyond greetings/thanks/small talk (MET-3)."""
    norm = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    norm = _ZH_RE.sub(" ", norm)
    norm = _EN_RE.sub(" ", norm)
    norm = re.sub(r"\bthank(?:s|\s+you)?\b", " ", norm)
    return any(ch.isalnum() for ch in norm)


def is_substantive(kind: str, text: str) -> bool:
    """Rule EV-3 for a human message of the given CHAT-2 kind."""
    if kind in NON_SUBSTANTIVE_KINDS:
        return False
    if kind != "text":
        return True
    return is_substantive_text(text)
