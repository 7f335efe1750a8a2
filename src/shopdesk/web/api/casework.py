"""Casework API (issue 6): after-sales requests, disputes, complaints, force-majeure
applications and platform tickets, for buyers, the shop's roles and platform staff.

Each process has its opening route; every later step is `POST /cases/{id}/actions` with the
engine's action name and params. A refused step answers 409 with what is allowed now and by
whom (`allowed`); bad input 422; a case the caller may not see 404.

Force-majeure adjusted regions (FM-1) are declared, renewed and ended by platform staff and
readable by every signed-in user (they are public notices, not tenant data); an order's
fulfilment deadline shows the extension they give. Evidence and proof files may be images or
PDF documents (`POST /casework/files`, `POST /cases/{id}/attachments`); chat stays image-only.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from shopdesk.casework import analytics
from shopdesk.casework.machine import CaseworkError, InvalidInput
from shopdesk.chat.attachments import (
    AttachmentError,
    Checked,
    CheckedPdf,
    check_evidence,
    store,
)
from shopdesk.config import Settings
from shopdesk.store import adjusted_regions as regions
from shopdesk.store import casework_repo as repo
from shopdesk.store.access import Forbidden, NotFound, case_filter
from shopdesk.store.accounts import audit
from shopdesk.store.models import Attachment
from shopdesk.store.models_casework import Case
from shopdesk.web.deps import DB, AppSettings, Clock, CurrentActor
from shopdesk.web.errors import ApiError, error

router = APIRouter(tags=["casework"])


def install(app: FastAPI) -> None:
    """Engine refusals → 409 (with `allowed`), bad input → 422, stale version → 409."""

    @app.exception_handler(CaseworkError)
    async def _cw(_: Request, exc: CaseworkError) -> JSONResponse:
        status = 422 if isinstance(exc, InvalidInput) else 409
        allowed = [
            {"action": a.action, "roles": list(a.roles), "guard": a.guard} for a in exc.allowed
        ]
        return error(status, exc.code, str(exc), allowed=allowed)

    @app.exception_handler(repo.CaseConflict)
    async def _conflict(_: Request, exc: repo.CaseConflict) -> JSONResponse:
        return error(409, "version_conflict", str(exc), allowed=[])


def _publisher(request: Request) -> repo.Publisher:
    return repo.broker_publisher(lambda: request.app.state.broker)


def _out(outcome: repo.Outcome) -> dict[str, Any]:
    data = repo.case_json(outcome.row)
    if outcome.opened:
        data["opened"] = outcome.opened
    return data


# ---------------------------------------------------------------- opening


class AfterSalesIn(BaseModel):
    order: int
    kind: str
    reason: str
    description: str = ""
    attachments: list[int] = Field(default_factory=list, max_length=10)
    requested_amount_minor: int | None = None


@router.post("/aftersales", status_code=201)
def open_aftersales(
    body: AfterSalesIn, request: Request, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """A buyer opens an after-sales request from an order (AS-1 … AS-6)."""
    actor.require_scope("chat:write")
    return _out(
        repo.open_aftersales(
            db,
            actor,
            order_id=body.order,
            kind=body.kind,
            reason=body.reason,
            now=clock(),
            description=body.description,
            attachments=body.attachments,
            requested_amount_minor=body.requested_amount_minor,
            publisher=_publisher(request),
        )
    )


class DisputeIn(BaseModel):
    claim: str
    kind: str = "after_sales"
    after_sales: int | None = None
    order: int | None = None


@router.post("/disputes", status_code=201)
def open_dispute(
    body: DisputeIn, request: Request, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """The buyer escalates an after-sales request (DSP-1) or reports no service (DSP-3)."""
    actor.require_scope("chat:write")
    return _out(
        repo.open_dispute(
            db,
            actor,
            now=clock(),
            claim=body.claim,
            after_sales_id=body.after_sales,
            order_id=body.order,
            kind=body.kind,
            publisher=_publisher(request),
        )
    )


class ComplaintIn(BaseModel):
    subject: str
    text: str
    channel: str = "in_app"
    shop: int | None = None  # a seller complains as this shop
    about_shop: int | None = None
    about_order: int | None = None
    complainant: int | None = None  # staff record a complaint for this user


@router.post("/complaints", status_code=201)
def open_complaint(
    body: ComplaintIn, request: Request, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """A complaint from a buyer or a seller, or recorded by staff for one (CMP-1)."""
    actor.require_scope("chat:write")
    return _out(
        repo.open_complaint(
            db,
            actor,
            now=clock(),
            subject=body.subject,
            text=body.text,
            channel=body.channel,
            shop_id=body.shop,
            about_shop_id=body.about_shop,
            about_order_id=body.about_order,
            complainant_id=body.complainant,
            publisher=_publisher(request),
        )
    )


class TicketIn(BaseModel):
    kind: str
    subject: str
    body: str
    shop: int | None = None
    priority: str = "normal"
    attachments: list[int] = Field(default_factory=list, max_length=10)


@router.post("/platform-tickets", status_code=201)
def open_ticket(
    body: TicketIn, request: Request, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """A ticket to the platform (sellers; buyers' help centre) or to an offline shop (TKT-1)."""
    actor.require_scope("chat:write")
    return _out(
        repo.open_ticket(
            db,
            actor,
            now=clock(),
            kind=body.kind,
            subject=body.subject,
            body=body.body,
            shop_id=body.shop,
            priority=body.priority,
            attachments=body.attachments,
            publisher=_publisher(request),
        )
    )


class ProofIn(BaseModel):
    attachment: int
    declared_kind: str
    file_name: str | None = None
    issuer: str | None = None
    period_start: str | None = None
    period_end: str | None = None


class AffectedOrderIn(BaseModel):
    order: int
    ship_by: str


class ForceMajeureIn(BaseModel):
    ticket: int
    shipping_address: str
    reason: str
    proofs: list[ProofIn] = Field(default_factory=list, max_length=10)
    affected_orders: list[AffectedOrderIn] = Field(default_factory=list, max_length=500)
    expected_recovery: str


@router.post("/force-majeure", status_code=201)
def submit_force_majeure(
    body: ForceMajeureIn, request: Request, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """A shop applies for an SLA extension through its force-majeure ticket (FM-3, FM-4)."""
    actor.require_scope("chat:write")
    return _out(
        repo.submit_force_majeure(
            db,
            actor,
            now=clock(),
            ticket_id=body.ticket,
            shipping_address=body.shipping_address,
            reason=body.reason,
            proofs=[p.model_dump() for p in body.proofs],
            affected_orders=[o.model_dump() for o in body.affected_orders],
            expected_recovery=body.expected_recovery,
            publisher=_publisher(request),
        )
    )


# ---------------------------------------------------------------- cases


@router.get("/cases")
def list_cases(
    actor: CurrentActor,
    db: DB,
    process: str | None = None,
    state: str | None = None,
    limit: int = Query(200, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """The caller's cases (buyer: own; seller: the shops'; staff: all), newest first."""
    query = select(Case).where(case_filter(actor))
    if process:
        query = query.where(Case.process == process)
    if state:
        query = query.where(Case.state == state)
    rows = db.scalars(query.order_by(Case.id.desc()).limit(limit))
    return [repo.case_json(r, full=False) for r in rows]


@router.get("/cases/{case_id}")
def get_case(case_id: int, actor: CurrentActor, db: DB) -> dict[str, Any]:
    return repo.case_json(repo.get_case(db, actor, case_id))


@router.get("/cases/{case_id}/timeline")
def case_timeline(case_id: int, actor: CurrentActor, db: DB) -> list[dict[str, Any]]:
    """Every event of the case: who (role, user), what, when, from which state to which."""
    row = repo.get_case(db, actor, case_id)
    return [repo.event_json(e) for e in repo.timeline(db, row)]


class ActionIn(BaseModel):
    action: str
    params: dict[str, Any] = Field(default_factory=dict)
    version: int | None = None  # optimistic locking: refuse when the case moved on


@router.post("/cases/{case_id}/actions")
def case_action(
    case_id: int, body: ActionIn, request: Request, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """Take a step of the case's process (the `allowed` list of the case says which)."""
    actor.require_scope("chat:write")
    return _out(
        repo.act(
            db,
            actor,
            case_id,
            body.action,
            body.params,
            clock(),
            expected_version=body.version,
            publisher=_publisher(request),
        )
    )


@router.post("/cases/{case_id}/attachments", status_code=201)
async def upload_evidence(
    case_id: int,
    request: Request,
    actor: CurrentActor,
    db: DB,
    clock: Clock,
    settings: AppSettings,
    file: UploadFile | None = File(None),
    evidence_id: str | None = Form(None),
    text: str | None = Form(None),
) -> dict[str, Any]:
    """Evidence with a file (DSP-2, CMP-5): an image with the chat-attachment checks, or a PDF
    that parses, unencrypted, within the page limit; nothing is stored when the file or the
    step is refused."""
    actor.require_scope("chat:write")
    repo.get_case(db, actor, case_id)  # 404 before anything else
    if file is None:
        raise ApiError(422, "invalid_request", "file: a file is required")
    data = await file.read(settings.max_attachment_bytes + 1)
    checked = _checked(data, settings)
    now = clock()
    with db.begin_nested():  # the file row goes only if the engine accepts the evidence
        att = Attachment(
            owner_id=actor.user_id,
            content_type=checked.content_type,
            size=len(data),
            width=checked.width,
            height=checked.height,
            sha256=checked.sha256,
            path="",
            created_at=now,
        )
        db.add(att)
        db.flush()
        params: dict[str, Any] = {
            "evidence_id": evidence_id or f"file-{att.id}",
            "attachment": att.id,
            "file_name": file.filename or None,
        }
        if text:
            params["text"] = text
        outcome = repo.act(
            db, actor, case_id, "add_evidence", params, now, publisher=_publisher(request)
        )
        att.path = str(store(settings.attachments_dir, checked, data))
    audit(
        db, actor, "attachment.upload", "attachment", att.id, now=now, size=len(data), case=case_id
    )
    return {**_out(outcome), "attachment": att.id}


@router.get("/cases/{case_id}/attachments/{attachment_id}")
def case_attachment(
    case_id: int, attachment_id: int, actor: CurrentActor, db: DB, settings: AppSettings
) -> FileResponse:
    """A file that is part of a case the caller can see."""
    row = repo.get_case(db, actor, case_id)
    att = db.get(Attachment, attachment_id)
    if att is None or not att.path or not _mentions(row.data, str(attachment_id)):
        raise NotFound("attachment")
    return _file(att, settings)


def _file(att: Attachment, settings: Settings) -> FileResponse:
    if att.content_type == "application/pdf":
        # A document is downloaded, not rendered inside the app's origin.
        return FileResponse(
            settings.attachments_dir / att.path,
            media_type=att.content_type,
            filename=f"document-{att.id}.pdf",
            content_disposition_type="attachment",
        )
    return FileResponse(settings.attachments_dir / att.path, media_type=att.content_type)


def _checked(data: bytes, settings: Settings) -> Checked:
    try:
        return check_evidence(
            data,
            settings.max_attachment_bytes,
            settings.max_attachment_pixels,
            settings.max_attachment_pages,
        )
    except AttachmentError as exc:
        raise ApiError(413 if exc.code == "file_too_large" else 422, exc.code, str(exc)) from exc


@router.post("/casework/files", status_code=201)
async def upload_case_file(
    file: UploadFile, actor: CurrentActor, db: DB, clock: Clock, settings: AppSettings
) -> dict[str, Any]:
    """A file to cite later as official proof of a force-majeure application (FM-4) or as a
    ticket attachment: an image or a PDF document, owned by the caller. Chat messages do not
    take PDFs (`POST /attachments` stays image-only)."""
    actor.require_scope("chat:write")
    data = await file.read(settings.max_attachment_bytes + 1)
    checked = _checked(data, settings)
    now = clock()
    att = Attachment(
        owner_id=actor.user_id,
        content_type=checked.content_type,
        size=len(data),
        width=checked.width,
        height=checked.height,
        sha256=checked.sha256,
        path=str(store(settings.attachments_dir, checked, data)),
        created_at=now,
    )
    db.add(att)
    db.flush()
    audit(
        db,
        actor,
        "attachment.upload",
        "attachment",
        att.id,
        now=now,
        size=len(data),
        content_type=att.content_type,
    )
    out: dict[str, Any] = {
        "id": att.id,
        "content_type": att.content_type,
        "size": att.size,
        "sha256": att.sha256,
    }
    if isinstance(checked, CheckedPdf):
        out["pages"] = checked.pages
    else:
        out["width"], out["height"] = att.width, att.height
    return out


# ---------------------------------------------------------------- adjusted regions (FM-1)


class RegionIn(BaseModel):
    name: str
    region_codes: list[str] = Field(max_length=regions.MAX_CODES)
    starts_at: datetime
    ends_at: datetime
    reason: str
    extension_days: int | None = None


class RenewalIn(BaseModel):
    ends_at: datetime
    reason: str


class EndIn(BaseModel):
    reason: str


@router.post("/force-majeure/regions", status_code=201)
def declare_region(
    body: RegionIn, request: Request, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """Platform staff declare an adjusted region for a period (FM-1): shops in the listed
    marketplace regions or countries get `extension_days` more to ship (default: policy)."""
    now = clock()
    row = regions.declare(
        db,
        actor,
        name=body.name,
        region_codes=body.region_codes,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        reason=body.reason,
        extension_days=body.extension_days,
        now=now,
        publisher=_publisher(request),
    )
    return regions.region_json(row, now)


@router.get("/force-majeure/regions")
def list_regions(
    actor: CurrentActor,
    db: DB,
    clock: Clock,
    state: Literal["active", "scheduled", "ended", "all"] = "all",
    code: str | None = None,
) -> list[dict[str, Any]]:
    """Declared regions, newest first (everyone signed in: sellers check whether their shop is
    covered, buyers why a parcel may take longer)."""
    now = clock()
    return [
        regions.region_json(r, now) for r in regions.list_regions(db, now, state=state, code=code)
    ]


@router.get("/force-majeure/regions/{region_id}")
def get_region(region_id: int, actor: CurrentActor, db: DB, clock: Clock) -> dict[str, Any]:
    return regions.region_json(regions.get_region(db, region_id), clock())


@router.post("/force-majeure/regions/{region_id}/renewals")
def renew_region(
    region_id: int, body: RenewalIn, request: Request, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """The platform renews the region until a later end (FM-1); an ended region is not
    renewed (409 `region_ended`: declare a new one)."""
    now = clock()
    row = regions.renew(
        db,
        actor,
        region_id,
        ends_at=body.ends_at,
        reason=body.reason,
        now=now,
        publisher=_publisher(request),
    )
    return regions.region_json(row, now)


@router.post("/force-majeure/regions/{region_id}/end")
def end_region(
    region_id: int, body: EndIn, request: Request, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """The event is over: the region ends now (409 `region_ended` when it already has)."""
    now = clock()
    row = regions.end(
        db, actor, region_id, reason=body.reason, now=now, publisher=_publisher(request)
    )
    return regions.region_json(row, now)


@router.get("/orders/{order_id}/fulfilment")
def order_fulfilment(order_id: int, actor: CurrentActor, db: DB, clock: Clock) -> dict[str, Any]:
    """The order's ship-by deadline: the base one and the one after force-majeure extensions
    (adjusted region or approved application, the longest applies), whether it shipped late."""
    return regions.fulfilment(db, actor, order_id, clock())


def _mentions(data: Any, att_id: str) -> bool:
    """Whether the case data holds an attachment record with this id."""
    if isinstance(data, dict):
        if "media_type" in data and str(data.get("id")) == att_id:
            return True
        return any(_mentions(v, att_id) for v in data.values())
    if isinstance(data, list):
        return any(_mentions(v, att_id) for v in data)
    return False


# ---------------------------------------------------------------- complaint analytics


def _period(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    end = end or now
    start = start or end - timedelta(days=30)
    for d in (start, end):
        if d.tzinfo is None:
            raise ApiError(422, "invalid_request", "start/end need a time zone (e.g. Z)")
    if end <= start:
        raise ApiError(422, "invalid_request", "the period must end after it starts")
    return start.astimezone(UTC), end.astimezone(UTC)


def _complaints(db: DB, actor: CurrentActor, start: datetime, end: datetime) -> list[Any]:
    if not actor.is_staff:
        raise Forbidden("complaint analytics are for platform staff", code="staff_only")
    rows = db.scalars(
        select(Case)
        .where(Case.process == "complaints", Case.created_at >= start, Case.created_at < end)
        .order_by(Case.id)
    )
    return [repo.decode(r) for r in rows]


@router.get("/casework/complaints/stats")
def complaint_stats(
    actor: CurrentActor,
    db: DB,
    clock: Clock,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """CMP-9 over [start, end) (default: the last 30 days): volume by category and channel,
    time to acknowledge and to resolve (median, p90, seconds), reopen rate, satisfaction."""
    start, end = _period(start, end, clock())
    stats = analytics.complaint_stats(_complaints(db, actor, start, end), start, end)
    from shopdesk.casework import codec

    data: dict[str, Any] = codec.to_data(stats)
    return data


CSV_FIELDS = (
    "id",
    "received_at",
    "channel",
    "category",
    "acknowledged_at",
    "resolved_at",
    "hours_to_acknowledge",
    "hours_to_resolve",
    "reopen_count",
    "satisfaction",
    "got_resolution",
)


@router.get("/casework/complaints/stats.csv")
def complaint_stats_csv(
    actor: CurrentActor,
    db: DB,
    clock: Clock,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Response:
    """The complaints of the period, one row each (the records the statistics are built on)."""
    start, end = _period(start, end, clock())
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_FIELDS)
    for case in _complaints(db, actor, start, end):
        r = analytics.record_of(case)

        def hours(d: datetime | None, r: analytics.ComplaintRecord = r) -> str:
            return f"{(d - r.received_at).total_seconds() / 3600:.2f}" if d else ""

        w.writerow(
            [
                r.id,
                repo.iso(r.received_at),
                r.channel,
                r.category or "",
                repo.iso(r.acknowledged_at) or "",
                repo.iso(r.resolved_at) or "",
                hours(r.acknowledged_at),
                hours(r.resolved_at),
                r.reopen_count,
                "" if r.satisfaction is None else r.satisfaction,
                r.got_resolution,
            ]
        )
    name = f"complaints-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return Response(
        buf.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
