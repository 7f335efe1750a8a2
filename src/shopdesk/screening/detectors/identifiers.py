"""Benign identifiers that must not trip contact detectors: order and tracking numbers,
SKUs/model numbers, prices, dates, barcodes (issue 4; rule SCR-1 precision)."""

from __future__ import annotations

import re

from shopdesk.screening.gate import Gated, Hits

_SEP = r"[\s\-]?"
IDENTIFIER_PATTERNS = [
    re.compile(r"\b1z" + r"(?:\s?[0-9a-z]){16}\b"),  # UPS
    re.compile(r"\b(?:94|93|92|95)\d{2}(?:\s?\d){18}\b"),  # USPS 22 digits
    re.compile(r"\b(?:sf|yt|jd|yd|zto|sto|tw|jt|lp|cn|uk)\s?\d{10,20}\b"),  # SF, YunExpress…
    re.compile(r"\b[a-z]{2}\d{9}[a-z]{2}\b"),  # UPU S10 postal items
    re.compile(r"\b(?:rma|sku|lot|ref|inv|po|so|sn)[\s#:\-]*[a-z0-9][a-z0-9\-]{2,}"),
    re.compile(r"\b\d{4}[./\-]\d{1,2}[./\-]\d{1,2}\b"),  # dates
    re.compile(r"\b\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}\b"),
    re.compile(r"[$€£¥￥]\s?\d[\d,.]*|\d[\d,.]*\s?(?:元|块|usd|eur|dollars?|dólares)"),
]
# A keyword right before a digit run marks it as an id (order/tracking/invoice …).
ID_CONTEXT = re.compile(
    r"(?:order|purchase|tracking|track|invoice|parcel|package|shipment|waybill|ticket|case|"
    r"receipt|transaction|model|sku|item|serial|barcode|ean|upc|isbn|lot|batch|reference|ref|"
    r"pedido|seguimiento|订单|訂單|单号|單號|运单|運單|快递|快遞|物流|编号|編號|型号|型號|条码|"
    r"條碼)[^\n]{0,24}$|#\s*$"
)
PHONE_CONTEXT = re.compile(
    r"(?:phone|call|tel|cell|mobile|text me|txt|sms|ring|dial|whatsapp|contact|number is|"
    r"my number|电话|電話|手机|手機|致电|打给|打給|联系|聯繫|聯絡|号码|號碼|热线|teléfono|"
    r"llámame|llama|móvil|celular|whats|📞|☎)"
)


_ID_SCANS = [Gated(p, anchored=k not in (3, 7)) for k, p in enumerate(IDENTIFIER_PATTERNS)]


def identifier_spans(text: str, hits: Hits) -> list[tuple[int, int]]:
    """Spans (in ``text``) of benign identifiers; ``hits``: the gate's scan of ``text``."""
    spans: list[tuple[int, int]] = []
    for pat in _ID_SCANS:
        spans.extend(m.span() for m in pat.finditer(text, hits))
    return spans


def ean13_ok(digits: str) -> bool:
    if len(digits) != 13:
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12])
