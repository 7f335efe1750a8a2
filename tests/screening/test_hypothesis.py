"""Property: separators, look-alikes and zero-width characters do not hide contacts (SCR-D2)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shopdesk.screening import screen_message

ZW = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060"]
LOOK = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у"}
FULL = {c: chr(ord(c) + 0xFEE0) for c in "0123456789"}


@st.composite
def obfuscate(draw: st.DrawFn, text: str, seps: list[str]) -> str:
    out = []
    for ch in text:
        r = draw(st.integers(0, 5))
        if r == 1 and ch in LOOK:
            ch = LOOK[ch]
        elif r == 2 and ch in FULL:
            ch = FULL[ch]
        out.append(ch)
        if draw(st.booleans()):
            out.append(draw(st.sampled_from(seps)))
    return "".join(out)


PHONES = ["3125550178", "4155550132", "13900011223"]
EMAILS = ["anna.lee@yahoo.com", "cozy_shop@gmail.com"]
HANDLES = ["wechat: cozy_8866", "telegram: @cozy_goods"]


@given(st.sampled_from(PHONES).flatmap(lambda p: obfuscate(p, [*ZW, " ", "-", ".", " - "])))
def test_phone_found(phone: str) -> None:
    res = screen_message(f"call me {phone} thanks")
    assert "phone" in {f.kind for f in res.findings}, phone


@given(st.sampled_from(EMAILS).flatmap(lambda e: obfuscate(e, ZW)))
def test_email_found(email: str) -> None:
    res = screen_message(f"write {email} today")
    assert res.verdict == "block" and "email" in {f.kind for f in res.findings}, email


@given(st.sampled_from(HANDLES).flatmap(lambda h: obfuscate(h, ZW)))
def test_handle_found(handle: str) -> None:
    res = screen_message(f"add me {handle}")
    assert "messaging_handle" in {f.kind for f in res.findings}, handle
    for f in res.findings:
        assert f.start is not None and f.end is not None
        assert f"add me {handle}"[f.start : f.end] == f.text
