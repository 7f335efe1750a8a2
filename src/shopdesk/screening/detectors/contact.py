# ruff: noqa: E501  (regex and word tables: splitting them would hurt readability)
"""SCR-1 off-platform diversion: urls, e-mails, phones, messaging handles, payment and bank
accounts, offline addresses, other marketplaces (rule SCR-1, obfuscations per SCR-D2)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers
import tldextract

from shopdesk.screening.detectors.identifiers import (
    ID_CONTEXT,
    PHONE_CONTEXT,
    ean13_ok,
    identifier_spans,
)
from shopdesk.screening.gate import GATE, Gated, WordCondition
from shopdesk.screening.model import Finding
from shopdesk.screening.normalise import Normalised, View

RULE = "SCR-1"


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # rule SCR-1: bundled public-suffix snapshot, never the network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=4096)
def _domain_parts(host: str) -> tuple[str, str]:
    r = _extractor()(host)
    return r.domain, r.suffix


FILE_EXT_TLDS = {"zip", "mov", "py", "md", "sh", "rs", "pl", "ps", "so", "js", "cs", "ai", "gz"}


def _finding(norm: Normalised, view: View, kind: str, i: int, j: int, reason: str) -> Finding:
    a, b = view.span(i, j)
    return Finding(RULE, kind, a, b, norm.original[a:b], reason)


# --- urls and e-mails ---------------------------------------------------------------------
_EMAIL = re.compile(r"[a-z0-9][a-z0-9._%+\-]*\s?@\s?([a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,})")
_URL = re.compile(
    r"(?:https?:/\s?/\s?|www\.)([a-z0-9\-]+(?:\s?\.\s?[a-z0-9\-]+)+)(?:\s?/[^\s，。、）)]*)*"
)
_BARE = re.compile(
    r"(?<![\w@.\-/])((?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2,24})(?![\w@\-])(/[^\s，。、]*)?"
)
_MARKETS = (
    r"amazon|ebay|etsy|walmart|aliexpress|temu|shein|shopee|lazada|mercado ?libre|taobao|"
    r"shopify|depop|poshmark|mercari|wish|target|alibaba|facebook marketplace"
)
_BARE_GATE = re.compile(r"[a-z0-9]\.[a-z]")
_MARKET_EN = Gated(
    re.compile(
        rf"\b(?:on|at|from|in|via)\s+(?:our\s+)?(?:{_MARKETS})\b[^.!?\n]{{0,60}}?\b(?:search|order|"
        r"buy|find|look|store|shop|purchase|listed|link)|\b(?:search|buy|order|find|purchase)\b"
        rf"[^.!?\n]{{0,40}}?\b(?:on|at|from)\s+(?:{_MARKETS})\b"
    )
)
_MARKET_ZH = Gated(
    re.compile(
        r"(?:淘宝|淘寶|天猫|天貓|京东|京東|拼多多|pdd|闲鱼|閒魚|某宝|某寶|1688|抖音小店|蝦皮|虾皮|露天|momo)"
        r"\s*(?:店|上|也有|搜|下单|下單|拍|旗舰|旗艦|链接|鏈接|买|買)|搜\s*[“\"「『'‘][^”\"」』'’]{2,30}[”\"」』'’]"
    )
)


_MARKET_HINT = Gated(
    re.compile(
        rf"\b(?:{_MARKETS})\b|搜|淘宝|淘寶|天猫|天貓|京东|京東|拼多多|pdd|闲鱼|閒魚|某宝|某寶|1688|抖音|蝦皮|虾皮|露天|momo"
    )
)


def _host_ok(host: str, allow: frozenset[str]) -> bool:
    host = host.replace(" ", "").strip(".")
    domain, suffix = _domain_parts(host)
    if not domain or not suffix or not re.search(r"[a-z0-9]", domain):
        return False
    return f"{domain}.{suffix}" not in allow and host not in allow


_EMAIL_SCAN = Gated(_EMAIL, anchored=False)
_URL_SCAN = Gated(_URL, anchored=False)
_BARE_SCAN = Gated(_BARE, anchored=False)


def _urls_emails(norm: Normalised, allow: frozenset[str]) -> list[Finding]:
    v = norm.contact
    t = v.text
    h = norm.contact_hits
    out: list[Finding] = []
    taken: list[tuple[int, int]] = []
    if "@" in t:
        for m in _EMAIL_SCAN.finditer(t, h):
            if _host_ok(m.group(1), frozenset()):
                out.append(_finding(norm, v, "email", *m.span(), "e-mail address"))
                taken.append(m.span())
    if (_URL_SCAN.gid in h.ok or _BARE_SCAN.gid in h.ok) and _DOT_LETTER.search(t):
        for m in _URL_SCAN.finditer(t, h):
            if _overlaps(m.span(), taken):
                continue
            if _host_ok(m.group(1), allow):
                out.append(_finding(norm, v, "url", *m.span(), "link to a website"))
                taken.append(m.span())
        # a bare domain holds "<letter or digit>.<letter>" without spaces (speed gate)
        for m in _BARE_SCAN.finditer(t, h) if _BARE_GATE.search(t) else ():
            if _overlaps(m.span(), taken):
                continue
            host = m.group(1)
            domain, suffix = _domain_parts(host)
            if not domain or not suffix or not _host_ok(host, allow):
                continue
            if suffix in FILE_EXT_TLDS and not m.group(2):
                continue
            if len(domain) < 2 or (domain.isdigit() and suffix not in ("com", "cn", "net")):
                continue
            # a capitalised word after a dot is a missing space between sentences
            _a, b = v.span(m.start(1), m.end(1))
            orig_suffix = norm.original[b - len(suffix) : b]
            if orig_suffix[:1].isupper() and not orig_suffix.isupper():
                continue
            out.append(_finding(norm, v, "url", *m.span(), "website address"))
            taken.append(m.span())
    p = norm.plain
    ph = norm.plain_hits
    if _MARKET_HINT.search(p.text, ph):
        for pat in (_MARKET_EN, _MARKET_ZH):
            for m in pat.finditer(p.text, ph):
                out.append(
                    _finding(norm, p, "url", *m.span(), "sends the buyer to buy on another site")
                )
    return out


def _overlaps(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in spans)


# --- numbers: phones, cards, accounts ------------------------------------------------------
_RUN = Gated(re.compile(r"\+?\d(?:[\s.\-–()/,:_~*·•]{0,3}\d)+"))
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_NON_DIGITS = re.compile(r"\D")
LANG_REGIONS = {"zh": ("CN",), "zh-hans": ("CN",), "zh-hant": ("TW", "HK"), "es": ("ES", "MX")}
_BANK_CONTEXT = re.compile(
    r"(?:card|bank|account|acct|iban|transfer|deposit|wire|routing|卡号|卡號|银行|銀行|账号|帳號|"
    r"账户|帳戶|户名|戶名|转账|轉帳|汇款|匯款|农行|工行|建行|中行|招行|cuenta|tarjeta|clabe)[^\n]{0,20}$"
)


def _within(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in spans)


def _luhn(d: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(d)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_iin(d: str) -> bool:
    n = len(d)
    if d[0] == "4":
        return n in (13, 16, 19)
    if d[:2] in ("34", "37"):
        return n == 15
    if "51" <= d[:2] <= "55" or "2221" <= d[:4] <= "2720":
        return n == 16
    return d[:2] in ("62", "35", "60", "65", "36", "30", "38", "39") and 14 <= n <= 19


def _is_sequence(run: str) -> bool:
    groups = [g for g in re.split(r"\D+", run) if g]
    if len(groups) < 3 or len({len(g) for g in groups}) != 1:
        return False
    nums = [int(g) for g in groups]
    steps = {b - a for a, b in itertools.pairwise(nums)}
    return len(steps) == 1 and abs(next(iter(steps))) <= 2


@lru_cache(maxsize=4096)
def _phone_valid(digits: str, plus: bool, regions: tuple[str, ...]) -> bool:
    # 50-120 µs a call; a conversation repeats its numbers (and ConversationScreener
    # re-screens joined fragments), so results are kept
    try:
        if plus:
            return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None))
        for r in regions:
            if phonenumbers.is_valid_number(phonenumbers.parse(digits, r)):
                return True
    except phonenumbers.NumberParseException:
        return False
    return False


def _count_digits(t: str) -> int:
    # ASCII: the same count without a call per character
    return sum(map(t.count, "0123456789")) if t.isascii() else sum(map(str.isdigit, t))


def _numbers(norm: Normalised, region: str, lang: str | None) -> list[Finding]:
    v = norm.contact
    t = v.text
    out: list[Finding] = []
    if _RUN.gid not in norm.contact_hits.ok:
        return out  # no digit at all
    if _count_digits(t) < 7:
        return out
    ids: list[tuple[int, int]] | None = None  # identifier spans, found when first needed

    def in_identifier(span: tuple[int, int]) -> bool:
        nonlocal ids
        if ids is None:
            ids = identifier_spans(t, norm.contact_hits)
        return _within(span, ids)

    regions: tuple[str, ...] = (region.upper(),)
    lk = (lang or "").lower()
    if lk in LANG_REGIONS:
        regions += LANG_REGIONS[lk]
    elif re.search(r"[\u4e00-\u9fff]", t):
        regions += ("CN", "TW", "HK")
    for m in _RUN.finditer(t, norm.contact_hits):
        run = m.group(0)
        digits = _NON_DIGITS.sub("", run)
        n = len(digits)
        if n < 7:
            continue
        i, j = m.span()
        before = t[max(0, i - 30) : i]
        bank_ctx = bool(_BANK_CONTEXT.search(before))
        card = 13 <= n <= 19 and (bank_ctx or (_luhn(digits) and _card_iin(digits)))
        if (
            card
            and (bank_ctx or not ID_CONTEXT.search(before))
            and not in_identifier((i, j))
            and not (ean13_ok(digits) and not bank_ctx)
        ):
            out.append(_finding(norm, v, "bank_account", i, j, "bank card number"))
            continue
        if bank_ctx and 8 <= n <= 19 and re.search(r"(?:account|acct|账号|帳號|cuenta)", before):
            out.append(_finding(norm, v, "bank_account", i, j, "bank account number"))
            continue
        if n > 15 or ID_CONTEXT.search(before) or in_identifier((i, j)):
            continue
        if _is_sequence(run):
            continue
        plus = run.startswith("+")
        ctx = bool(PHONE_CONTEXT.search(t[max(0, i - 25) : i] + " " + t[j : j + 20]))
        if (
            _phone_valid(digits, plus, regions)
            or (n == 11 and _CN_MOBILE.fullmatch(digits))
            or (ctx and 7 <= n <= 13)
        ):
            out.append(_finding(norm, v, "phone", i, j, "phone number"))
    return out


_IBAN = re.compile(r"\b[a-z]{2}\d{2}(?:\s?[a-z0-9]){11,30}")
_ROUTING = re.compile(
    r"\b(?:routing|aba)\b(?:\s*(?:number|no\.?|#))?\s*[:#]?\s*\d{9}\b|"
    r"\b(?:swift|bic)\b(?:\s*code)?\s*[:#]?\s*[a-z]{6}[a-z0-9]{2}(?:[a-z0-9]{3})?\b|"
    r"\bsort code\s*[:#]?\s*\d{2}-?\d{2}-?\d{2}\b"
)


_ROUTING_SCAN = Gated(_ROUTING)
_IBAN_SCAN = Gated(_IBAN, anchored=False)


def _iban(norm: Normalised) -> list[Finding]:
    v = norm.contact
    h = norm.contact_hits
    out: list[Finding] = []
    for m in _IBAN_SCAN.finditer(v.text, h):
        raw = m.group(0)
        compact = raw.replace(" ", "").upper()
        for length in range(len(compact), 14, -1):
            cand = compact[:length]
            num = "".join(str(int(c, 36)) for c in cand[4:] + cand[:4])
            if int(num) % 97 == 1:
                # map compact length back to the raw span
                k = 0
                end = m.start()
                for ch in raw:
                    end += 1
                    if ch != " ":
                        k += 1
                    if k == length:
                        break
                out.append(_finding(norm, v, "bank_account", m.start(), end, "IBAN"))
                break
    for m in _ROUTING_SCAN.finditer(v.text, h):
        out.append(_finding(norm, v, "bank_account", *m.span(), "bank routing code"))
    return out


# --- messaging apps and payment apps ------------------------------------------------------
_APP = (
    r"whats\s?app|wa|we\s?chat|weixin|wechat|telegram|tg|line|kakao(?:talk)?|viber|signal|skype|"
    r"discord|snap\s?chat|snap|instagram|insta|ig|facebook|fb|messenger|qq|twitter|imessage"
)
_ZHAPP = r"微信|威信|薇信|徽信|危信|v信|vx|wx|薇|扣扣|企鹅|企鵝|纸飞机|紙飛機|电报|電報|賴|赖|line|qq|whatsapp"
_HANDLE = r"@?[a-z0-9_][a-z0-9_.\-]{2,}[a-z0-9_]|[零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖两幺]{5,}"
_MSG_PATTERNS = [
    re.compile(
        rf"\b(?:{_APP})\b\s*(?:id|account|username|user|handle|number|no\.?)?\s*(?:is|:|=|-)?\s*"
        rf"(?=[^\s]*[\d_.@])(?:{_HANDLE})"
    ),
    re.compile(rf"\b(?:{_APP})\s*[:@]\s*(?:{_HANDLE})"),
    re.compile(
        r"\b(?:add|message|msg|text|dm|pm|contact|reach|find|follow|chat|talk|call|ping|write|"
        r"move|switch|continue|take|go|hmu|hit)\b[^.!?\n]{0,25}?\b(?:on|via|at|through|in|to|over)"
        rf"\s+(?:my\s+|our\s+)?(?:{_APP})\b"
    ),
    re.compile(rf"\b(?:{_APP})\s+(?:me|us)\b(?!\s+(?:and|or))"),
    re.compile(rf"\byour\s+(?:{_APP})\s*(?:number|id|account|handle|username|name)"),
    re.compile(rf"\b(?:my|our)\s+(?:{_APP})\s+(?:is|id|number|account|handle)\b"),
    re.compile(rf"\b(?:por|en|al|mi)\s+(?:{_APP})\b"),
    re.compile(
        r"(?:加|➕|\+|联系|聯繫|聯絡|私聊|私信|找|留|发|發)\s*(?:我|我们|我們|1下|一下|个|個)?\s*(?:的)?\s*"
        rf"(?:{_ZHAPP})"
    ),
    re.compile(rf"(?:{_ZHAPP}|v)\s*(?:号|號|id)?\s*[:=]\s*(?:{_HANDLE})"),
    re.compile(rf"(?:{_ZHAPP})\s*(?:号|號)\s*(?:{_HANDLE})"),
    re.compile(rf"(?:您|你)的\s*(?:{_ZHAPP})"),
    re.compile(rf"(?:{_APP}|{_ZHAPP})\s*同\s*(?:电话|電話|手机|手機|号码|號碼)"),
]
_PAY = (
    r"pay\s?pal|venmo|cash\s?app|zelle|alipay|ali\s?pay|支付宝|支付寶|zfb|微信支付|wechat\s?pay|"
    r"bizum|western union|moneygram|revolut|payoneer|skrill|apple cash"
)
_PAY_PATTERNS = [
    re.compile(
        r"\b(?:pay|send|transfer|wire|paid)\b[^.!?\n]{0,25}?\b(?:through|via|on|by|with|using|to|"
        rf"over|into)\s+(?:my\s+)?(?:{_PAY})"
    ),
    re.compile(rf"(?:{_PAY})\s+(?:me|you)\b"),
    re.compile(rf"\bi'?(?:ll| will| can)\s+(?:{_PAY})\b"),
    re.compile(rf"(?:{_PAY})\s*(?:account|id|:|@|\(|账号|帳號|号)"),
    re.compile(
        r"(?:转|轉|付|打|汇|匯)(?:款|账|帳)?(?:到|给|給)?\s*(?:我的?)?\s*(?:支付宝|支付寶|zfb|微信|wx)"
    ),
    re.compile(rf"(?:por|con|vía|via)\s+(?:{_PAY})"),
    re.compile(r"(?<![\w$])\$[a-z][a-z0-9_]{2,}"),
]
_MSG_SCANS = [Gated(p) for p in _MSG_PATTERNS]
_PAY_SCANS = [Gated(p, anchored=i in (0, 1, 3, 6)) for i, p in enumerate(_PAY_PATTERNS)]
_MSG_GROUP = GATE.group(s.gid for s in _MSG_SCANS)
_PAY_GROUP = GATE.group(s.gid for s in _PAY_SCANS)
_NEGATION = re.compile(
    r"\b(?:no|not|don't|do not|never|cannot|can't|won't|only)\b|不要|别|勿|禁止|请勿|請勿"
)


_APP_WORDS = frozenset(
    [
        "whatsapp",
        "whats",
        "wa",
        "wechat",
        "we",
        "weixin",
        "telegram",
        "tg",
        "line",
        "kakao",
        "kakaotalk",
        "viber",
        "signal",
        "skype",
        "discord",
        "snapchat",
        "snap",
        "instagram",
        "insta",
        "ig",
        "facebook",
        "fb",
        "messenger",
        "qq",
        "twitter",
        "imessage",
        "v",
        "vx",
        "wx",
    ]
)
_PAY_WORDS = frozenset(
    [
        "paypal",
        "pal",
        "venmo",
        "cash",
        "cashapp",
        "zelle",
        "alipay",
        "ali",
        "bizum",
        "western",
        "moneygram",
        "revolut",
        "payoneer",
        "skrill",
        "apple",
    ]
)
_STREET_WORDS = frozenset(
    [
        "st",
        "street",
        "ave",
        "avenue",
        "rd",
        "road",
        "blvd",
        "boulevard",
        "lane",
        "ln",
        "dr",
        "drive",
        "way",
        "ct",
        "court",
        "pl",
        "place",
        "hwy",
        "highway",
        "pkwy",
        "parkway",
        "terrace",
        "sq",
        "square",
        "calle",
        "c",
        "avenida",
        "av",
        "avda",
        "plaza",
        "paseo",
        "carrera",
        "rua",
    ]
)
# Word prefilters for ASCII text (they decide results, not only speed), tokens being the
# ``[a-z]+`` runs of the plain view; checked after the cheaper gate (gate.py).
_APP_WORDS_COND = WordCondition(_APP_WORDS, "[a-z]")
_PAY_WORDS_COND = WordCondition(_PAY_WORDS, "[a-z]")
_STREET_WORDS_COND = WordCondition(_STREET_WORDS, "[a-z]")


def _apps(norm: Normalised) -> list[Finding]:
    p = norm.plain
    t = p.text
    out: list[Finding] = []
    h = norm.plain_hits
    msg = h.any_possible(_MSG_GROUP) and _APP_WORDS_COND.holds(h)
    pay = h.any_possible(_PAY_GROUP) and (_PAY_WORDS_COND.holds(h) or "$" in t)
    for scan in _MSG_SCANS if msg else ():
        for m in scan.finditer(t, h):
            out.append(
                _finding(norm, p, "messaging_handle", *m.span(), "account on another messaging app")
            )
    for pat in _PAY_SCANS if pay else ():
        for m in pat.finditer(t, h):
            if re.search(r"(?:your|您的|你的)\s*$", t[max(0, m.start() - 6) : m.start()]):
                continue  # asking for the buyer's account is SCR-2
            clause = re.split(r"[.!?;—\-,，。！？；]", t[max(0, m.start() - 30) : m.start()])[-1]
            if _NEGATION.search(clause):
                continue
            out.append(_finding(norm, p, "payment_account", *m.span(), "off-platform payment"))
    return out


# --- offline addresses -------------------------------------------------------------------
_ADDR_EN = re.compile(
    r"\b\d{1,5}\s+(?:[a-z0-9.'\-]+\s+){1,4}?(?:st|street|ave|avenue|rd|road|blvd|boulevard|lane|"
    r"ln|dr|drive|way|ct|court|pl|place|hwy|highway|pkwy|parkway|terrace|sq|square)\b\.?"
    r"(?:\s*,?\s*(?:apt|suite|ste|unit|floor|fl)\.?\s*#?\w+)?(?:\s*,\s*[a-z][a-z .]{1,25}){0,2}"
    r"(?:\s*,?\s*[a-z]{2}\s+\d{5}(?:-\d{4})?)?"
)
_ADDR_ZH = re.compile(
    r"(?:[\u4e00-\u9fff]{1,12}(?:路|街|大道|巷|弄|段))\s*\d+\s*(?:号|號)"
    r"(?:[\u4e00-\u9fff\d]{0,6}(?:楼|樓|室|层|層|f))?"
)
_ADDR_ES = re.compile(
    r"\b(?:calle|c/|avenida|av\.|avda\.?|plaza|paseo|carrera|rua)\s+[a-záéíóúñ .]{2,30},?\s*"
    r"(?:n[º°o]\.?\s*)?\d{1,4}"
)


_ADDR_EN_SCAN = Gated(_ADDR_EN)
_ADDR_ES_SCAN = Gated(_ADDR_ES)
_ADDR_ZH_SCAN = Gated(_ADDR_ZH, anchored=False)
_ADDR_GROUP = GATE.group(s.gid for s in (_ADDR_EN_SCAN, _ADDR_ZH_SCAN, _ADDR_ES_SCAN))
_HAS_DIGIT = re.compile(r"\d")
_DOT_LETTER = re.compile(r"[a-z0-9]\s?\.\s?[a-z]")


def _addresses(norm: Normalised) -> list[Finding]:
    p = norm.plain
    t = p.text
    out: list[Finding] = []
    h = norm.plain_hits
    if not h.any_possible(_ADDR_GROUP):
        return out
    if t.isascii() and not (_STREET_WORDS_COND.holds(h) and _HAS_DIGIT.search(t)):
        return out  # (the Chinese pattern cannot match ASCII text)
    for pat in (_ADDR_EN_SCAN, _ADDR_ZH_SCAN, _ADDR_ES_SCAN):
        for m in pat.finditer(t, h):
            out.append(_finding(norm, p, "address", *m.span(), "street address"))
    return out


def detect_contacts(
    norm: Normalised, *, region: str, lang: str | None, allow_domains: frozenset[str]
) -> list[Finding]:
    """All SCR-1 findings in one message (rule SCR-1)."""
    return [
        *_urls_emails(norm, allow_domains),
        *_numbers(norm, region, lang),
        *_iban(norm),
        *_apps(norm),
        *_addresses(norm),
    ]
