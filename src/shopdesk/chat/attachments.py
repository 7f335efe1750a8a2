"""Attachments: the type is sniffed from the bytes, never trusted from the client.

Chat messages take images only (`check_image`). Case evidence and force-majeure proof also
take PDF (`check_evidence`), because official documents — government notices, certificates —
usually come as PDF (FM-4); a PDF must really parse, unencrypted, within a page limit.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PyPdfError

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


@dataclass(frozen=True)
class CheckedPdf:
    pages: int
    sha256: str
    content_type: str = "application/pdf"
    extension: str = "pdf"
    # The attachments table describes images; a document has no pixel size.
    width: int = 0
    height: int = 0


Checked = CheckedImage | CheckedPdf
PDF_MAGIC = b"%PDF-"


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise AttachmentError("the file is empty", "empty_file")
    if len(data) > max_bytes:
        raise AttachmentError(
            f"the file is {len(data):,} bytes; at most {max_bytes:,} are accepted",
            "file_too_large",
        )


def check_pdf(data: bytes, max_bytes: int, max_pages: int) -> CheckedPdf:
    """A PDF that parses, is not encrypted and has 1 … ``max_pages`` pages."""
    _check_size(data, max_bytes)
    if not data.startswith(PDF_MAGIC):
        raise AttachmentError("this file is not a PDF document", "unsupported_type")
    try:
        # pypdf warns through `logging` and `warnings` while it repairs small defects; those
        # files are accepted, only a document it cannot read at all is refused.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise AttachmentError(
                    "the PDF is encrypted or password-protected; send an unprotected copy",
                    "encrypted_pdf",
                )
            pages = len(reader.pages)
            if pages > max_pages:
                raise AttachmentError(
                    f"the PDF has {pages} pages; at most {max_pages} are accepted",
                    "too_many_pages",
                )
            for page in reader.pages:  # every page object must resolve, with a size
                if page.mediabox.width <= 0 or page.mediabox.height <= 0:
                    raise ValueError("a page without a size")
    except AttachmentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise AttachmentError(
            "the PDF is damaged and cannot be read; export it again or scan the document",
            "broken_pdf",
        ) from exc
    if pages == 0:
        raise AttachmentError("the PDF has no pages", "broken_pdf")
    return CheckedPdf(pages, hashlib.sha256(data).hexdigest())


def check_evidence(data: bytes, max_bytes: int, max_pixels: int, max_pages: int) -> Checked:
    """Case evidence and official proof: an image as in chat, or a PDF document."""
    if data.startswith(PDF_MAGIC):
        return check_pdf(data, max_bytes, max_pages)
    try:
        return check_image(data, max_bytes, max_pixels)
    except AttachmentError as exc:
        if exc.code != "unsupported_type":
            raise
        raise AttachmentError(
            "only PDF documents and images (PNG, JPEG, GIF or WebP) are accepted as evidence; "
            "this file is neither",
            "unsupported_type",
        ) from exc


def check_image(data: bytes, max_bytes: int, max_pixels: int) -> CheckedImage:
    _check_size(data, max_bytes)
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


def store(root: Path, checked: Checked, data: bytes) -> Path:
    """Content-addressed, so the same file uploaded twice is stored once."""
    rel = Path(checked.sha256[:2]) / f"{checked.sha256}.{checked.extension}"
    path = root / rel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return rel
