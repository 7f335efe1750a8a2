"""Image upload for chat messages, and the download of any stored file.

Who may download which file (chat images, appeal and report evidence, case files) is decided
by `store.access.get_attachment`; a file the caller may not reach is a 404 like a missing id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import FileResponse

from shopdesk.chat.attachments import AttachmentError, check_image, store
from shopdesk.store.access import get_attachment
from shopdesk.store.accounts import audit
from shopdesk.store.models import Attachment
from shopdesk.web.deps import DB, AppSettings, Clock, CurrentActor
from shopdesk.web.errors import ApiError

router = APIRouter(tags=["attachments"])


@router.post("/attachments", status_code=201)
async def upload(
    file: UploadFile, request: Request, actor: CurrentActor, db: DB, clock: Clock,
    settings: AppSettings,
) -> dict[str, Any]:
    actor.require_scope("chat:write")
    data = await file.read(settings.max_attachment_bytes + 1)
    try:
        checked = check_image(data, settings.max_attachment_bytes, settings.max_attachment_pixels)
    except AttachmentError as exc:
        status = 413 if exc.code == "file_too_large" else 422
        raise ApiError(status, exc.code, str(exc)) from exc
    rel = store(settings.attachments_dir, checked, data)
    att = Attachment(
        owner_id=actor.user_id, content_type=checked.content_type, size=len(data),
        width=checked.width, height=checked.height, sha256=checked.sha256, path=str(rel),
        created_at=clock(),
    )
    db.add(att)
    db.flush()
    audit(db, actor, "attachment.upload", "attachment", att.id, now=clock(), size=len(data))
    return {"id": att.id, "content_type": att.content_type, "size": att.size,
            "width": att.width, "height": att.height}


@router.get("/attachments/{attachment_id}")
def download(
    attachment_id: int, actor: CurrentActor, db: DB, settings: AppSettings
) -> FileResponse:
    att = get_attachment(db, actor, attachment_id)
    if att.content_type == "application/pdf":
        # A document is saved, never rendered inside the app's origin.
        return FileResponse(
            settings.attachments_dir / att.path,
            media_type=att.content_type,
            filename=f"document-{att.id}.pdf",
            content_disposition_type="attachment",
        )
    return FileResponse(settings.attachments_dir / att.path, media_type=att.content_type)
