"""QR codes inside attached images (rule SCR-1 qr_code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

from shopdesk.screening import screen_message


def _qr(tmp_path: Path, payload: str) -> str:
    img = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode).to_image(scale=4)
    arr = np.pad(np.array(img), 16, constant_values=255)
    path = tmp_path / "qr.png"
    Image.fromarray(arr).save(path)
    return str(path)


def test_qr_off_platform_blocks(tmp_path: Path) -> None:
    path = _qr(tmp_path, "https://wa.me/14155550132")
    res = screen_message("see picture", attachments=[path])
    assert res.verdict == "block"
    f = res.findings[0]
    assert (f.rule, f.kind, f.start, f.end) == ("SCR-1", "qr_code", None, None)
    assert f.attachment == path


def test_qr_platform_link_allowed(tmp_path: Path) -> None:
    path = _qr(tmp_path, "https://www.tiktok.com/view/product/123")
    assert screen_message("see picture", attachments=[path]).verdict == "allow"


def test_unreadable_image_is_ignored(tmp_path: Path) -> None:
    p = tmp_path / "x.png"
    p.write_bytes(b"not an image")
    assert screen_message("hello", attachments=[str(p)]).verdict == "allow"
