"""Image attachments: sniffed type, size and pixel limits, and who may download them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from tests.web.conftest import Api

from shopdesk.config import Settings
from shopdesk.store.db import make_engine
from shopdesk.store.models import Attachment


def png(width: int = 40, height: int = 30, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def upload(api: Api, who: str, data: bytes, name: str = "photo.png",
           content_type: str = "image/png") -> Any:
    return api.post(who, "/api/v1/attachments", files={"file": (name, data, content_type)})


def stored(settings: Settings) -> tuple[int, list[Path]]:
    engine = make_engine(settings.resolved_database_url())
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(Attachment)).scalar_one()
    engine.dispose()
    root = settings.attachments_dir
    return rows, sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_png_is_sent_and_downloaded_by_the_shop_only(api: Api, settings: Settings) -> None:
    data = png()
    r = upload(api, "buyer1", data)
    assert r.status_code == 201, r.text
    att = r.json()
    assert (att["content_type"], att["width"], att["height"], att["size"]) == \
        ("image/png", 40, 30, len(data))
    conv = api.open_conversation("buyer1", "a")
    r = api.post("buyer1", f"/api/v1/conversations/{conv}/messages",
                 {"client_id": "img-1", "kind": "image", "attachment": att["id"]})
    assert r.status_code == 201, r.text
    assert (r.json()["kind"], r.json()["attachment"]) == ("image", att["id"])
    for who in ("buyer1", "agent_a", "owner_a"):
        got = api.get(who, f"/api/v1/attachments/{att['id']}")
        assert got.status_code == 200, who
        assert got.content == data and got.headers["content-type"] == "image/png"
    for who in ("agent_b", "owner_b", "buyer2"):
        got = api.get(who, f"/api/v1/attachments/{att['id']}")
        assert got.status_code == 404, who
    assert api.get("agent_a", "/api/v1/attachments/999999").status_code == 404
    # Someone else's upload cannot be attached to a message.
    r = api.post("buyer2", f"/api/v1/conversations/{api.open_conversation('buyer2', 'a')}"
                 "/messages", {"client_id": "img-2", "kind": "image", "attachment": att["id"]})
    assert r.status_code == 422 and r.json()["code"] == "invalid_attachment"
    assert stored(settings)[0] == 1


def test_unsent_upload_is_private_to_its_owner(api: Api) -> None:
    att = upload(api, "buyer1", png(color=(1, 2, 3))).json()
    assert api.get("buyer1", f"/api/v1/attachments/{att['id']}").status_code == 200
    assert api.get("agent_a", f"/api/v1/attachments/{att['id']}").status_code == 404


@pytest.mark.parametrize(
    ("case", "status", "code", "words"),
    [
        ("text_as_png", 422, "unsupported_type", "only images are accepted"),
        ("too_many_bytes", 413, "file_too_large", "at most 200,000"),
        ("too_many_pixels", 422, "image_too_large", "at most 1,000,000 pixels"),
        ("empty", 422, "empty_file", "empty"),
        ("bmp", 422, "unsupported_type", "PNG, JPEG, GIF or WebP"),
    ],
)
def test_refused_files_store_nothing(
    api: Api, settings: Settings, case: str, status: int, code: str, words: str
) -> None:
    if case == "text_as_png":
        data = b"Hello, this is plain text pretending to be an image.\n" * 10
    elif case == "too_many_bytes":
        data = png() + b"\0" * 250_000
    elif case == "too_many_pixels":
        data = png(1100, 1000)
        assert len(data) < 200_000
    elif case == "bmp":
        buf = io.BytesIO()
        Image.new("RGB", (10, 10)).save(buf, format="BMP")
        data = buf.getvalue()
    else:
        data = b""
    r = upload(api, "buyer1", data)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert words in r.json()["message"]
    assert stored(settings) == (0, [])


def test_a_pdf_uploaded_as_case_evidence_cannot_be_sent_as_a_chat_image(api: Api) -> None:
    """Case evidence may be a PDF (POST /casework/files); the chat shows images only (CHAT-2)."""
    from tests.web.test_casework_regions import blank_pdf, upload_file

    pdf = upload_file(api, "buyer1", blank_pdf(1), "receipt.pdf")
    assert pdf.status_code == 201, pdf.text
    conv = api.open_conversation("buyer1", "a")
    r = api.post("buyer1", f"/api/v1/conversations/{conv}/messages",
                 {"client_id": "pdf-as-image", "kind": "image", "attachment": pdf.json()["id"]})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_attachment"
    assert "only an image" in r.json()["message"]
    assert api.get("buyer1", f"/api/v1/conversations/{conv}/messages").json() == []
