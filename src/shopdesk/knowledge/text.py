"""Text features for the matcher: English words, Chinese words (rjieba), character n-grams.

Every feature is a string with a prefix: ``w:`` for a word (English Snowball stem or Chinese
word) and ``c:`` for a character n-gram. Words give precision, n-grams robustness to typos and
to segmentation errors. ``tokens`` and ``features_of`` are separate so that the index can
correct misspelt words against its own vocabulary in between (lexical.py).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import rjieba
import Stemmer

from shopdesk.knowledge.zh_variants import to_simplified

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _words(text: str) -> list[str]:
    return text.split()


# Function words carry no topic; they are dropped from word features and n-grams.
EN_STOP = frozenset(
    _words(
        """a an the i me my mine myself we our us you your yours u ur ya he she it its they them
    their this that these those am is are was were be been being do does did doing done have has
    had having to of in on at by for with from about into over up down out off
    and or but if so than then too very just also not no nor can could would should will shall
    may might must please pls plz ok okay
    what which who whom whose when where why how is there here some any all one ll ve re d s t m
    im dont don't i'm i've i'd i'll it's that's can't cannot won't let let's"""
    )
)
ZH_STOP = frozenset(
    _words(
        """的 了 吗 呢 吧 啊 呀 哦 嗯 么 我 你 您 他 她 它 我们 你们 是 在 有 和 与 就
    都 也 还 又 这 那 这个 那个 一下 一个 请 请问 麻烦 谢谢
    好 想 要 能 可以 会 给 把 被 让 个 些 嘛 哈"""
    )
)

_ZH_PARTICLES = frozenset("的了吗呢吧啊呀哦嗯么嘛哈我你您")

# PyStemmer objects are not thread-safe and the server matches from several threads.
_STEMMERS = threading.local()


def normalise(text: str) -> str:
    """NFKC, lower case, traditional Chinese folded to simplified."""
    return to_simplified(unicodedata.normalize("NFKC", text).lower())


def is_chinese(text: str) -> bool:
    return _CJK.search(text) is not None


def stem(word: str) -> str:
    """English Snowball (Porter 2) stem: cancel/cancelling/cancellation, modify/modified."""
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = Stemmer.Stemmer("english")
    result: str = stemmer.stemWord(word)
    return result


def _char_ngrams(word: str, n: int) -> list[str]:
    padded = f" {word} "
    if len(padded) <= n:
        return [padded]
    return [padded[i : i + n] for i in range(len(padded) - n + 1)]


@lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[str, ...]:
    """Normalised tokens: English words, digit runs, runs of Chinese characters."""
    return tuple(_TOKEN.findall(normalise(text)))


def is_word(token: str) -> bool:
    """An English content word (what typo correction may rewrite)."""
    return token.isalpha() and token.isascii() and token not in EN_STOP


@lru_cache(maxsize=4096)
def features(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(word features, character n-gram features) of a text, with repeats."""
    return features_of(tokens(text))


@lru_cache(maxsize=4096)
def features_of(toks: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``features`` of already tokenised (and possibly corrected) text."""
    words: list[str] = []
    grams: list[str] = []
    for token in toks:
        if token.isdigit():
            words.append("w:#")  # any number: order ids must not dominate the match
        elif _CJK.match(token):
            for word in rjieba.cut(token):
                if word not in ZH_STOP:
                    words.append("w:" + word)
            content = "".join(ch for ch in token if ch not in _ZH_PARTICLES)
            grams.extend("c:" + g for g in _char_ngrams(content, 2)[1:-1] if g.strip())
        elif token not in EN_STOP:
            words.append("w:" + stem(token))
            grams.extend("c:" + g for g in _char_ngrams(token, 3))
    return tuple(words), tuple(grams)
