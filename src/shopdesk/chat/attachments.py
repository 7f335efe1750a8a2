"""Image attachments: the type is sniffed from the bytes, never trusted from the client."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

ALLOWED = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


class AttachmentError(ValueError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CheckedImage:
    content_type: str
    width: int
    height: int
    sha256: str
    extension: str


def check_image(data: bytes, max_bytes: int, max_pixels: int) -> CheckedImage:
    if not data:
        raise AttachmentError("the file is empty", "empty_file")
    if len(data) > max_bytes:
        raise AttachmentError(
            f"the file is {len(data):,} bytes; at most {max_bytes:,} are accepted",
            "file_too_large",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format or ""
                width, height = img.size
                if fmt in ALLOWED and width * height <= max_pixels:
                    img.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise AttachmentError("the image has too many pixels", "image_too_large") from exc
    except Exception as exc:
        raise AttachmentError(
            "only images are accepted (PNG, JPEG, GIF or WebP); this file is not one",
            "unsupported_type",
        ) from exc
    if fmt not in ALLOWED:
        raise AttachmentError(
            f"only PNG, JPEG, GIF or WebP images are accepted, not {fmt or 'this type'}",
            "unsupported_type",
        )
    if width * height > max_pixels:
        raise AttachmentError(
            f"the image is {width}×{height} pixels; at most {max_pixels:,} pixels are accepted",
            "image_too_large",
        )
    return CheckedImage(
        ALLOWED[fmt], width, height, hashlib.sha256(data).hexdigest(), fmt.lower()
    )


def store(root: Path, checked: CheckedImage, data: bytes) -> Path:
    """Content-addressed, so the same image uploaded twice is stored once."""
    rel = Path(checked.sha256[:2]) / f"{checked.sha256}.{checked.extension}"
    path = root / rel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return rel
