"""QR codes inside attached images (rule SCR-1 `qr_code`, SCR-D2)."""

from __future__ import annotations

from collections.abc import Sequence

from shopdesk.screening.model import Finding
from shopdesk.screening.policy import ScreeningPolicy


def decode_qr(path: str) -> list[str]:
    """Payloads of all barcodes in the image at ``path`` (empty if unreadable)."""
    import zxingcpp
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
            results = zxingcpp.read_barcodes(img.convert("L"))
    except (OSError, ValueError):
        return []
    return [r.text for r in results if r.text]


def screen_attachments(paths: Sequence[str], *, policy: ScreeningPolicy) -> list[Finding]:
    """A QR code whose payload carries contact details or an off-platform link is SCR-1."""
    from shopdesk.screening.detectors.contact import detect_contacts
    from shopdesk.screening.normalise import normalise

    out: list[Finding] = []
    for path in paths:
        for payload in decode_qr(path):
            inner = detect_contacts(
                normalise(payload), region="US", lang=None, allow_domains=policy.allow_domains
            )
            if inner:
                kinds = ", ".join(sorted({f.kind for f in inner}))
                out.append(
                    Finding(
                        "SCR-1",
                        "qr_code",
                        None,
                        None,
                        payload,
                        f"QR code in an image leads off the platform ({kinds})",
                        attachment=path,
                    )
                )
    return out
