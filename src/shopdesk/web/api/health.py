"""Account health: the penalty ledger and appeals (PEN-D1, APL-1, APL-2)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from shopdesk.store import ledger
from shopdesk.store.access import get_shop, shop_rows_filter
from shopdesk.store.models import Appeal, LedgerEntry
from shopdesk.web.deps import DB, Clock, CurrentActor
from shopdesk.web.errors import ApiError

router = APIRouter(tags=["account health"])


def _raise(exc: ledger.LedgerError) -> ApiError:
    return ApiError(exc.status, exc.code, str(exc))


@router.get("/shops/{shop_id}/ledger")
def shop_ledger(shop_id: int, actor: CurrentActor, db: DB) -> dict[str, Any]:
    get_shop(db, actor, shop_id)
    actor.require_shop_role(shop_id)
    entries = list(db.scalars(select(LedgerEntry).where(
        shop_rows_filter(actor, LedgerEntry.shop_id), LedgerEntry.shop_id == shop_id
    ).order_by(LedgerEntry.at, LedgerEntry.id)))
    reversed_by = {e.reverses_id: e.id for e in entries if e.reverses_id is not None}
    return {"health": ledger.health(db, shop_id),
            "entries": [ledger.entry_json(e, reversed_by) for e in entries]}


class AppealIn(BaseModel):
    reason: str = Field(min_length=10, max_length=4000)
    evidence: list[int] = Field(default_factory=list, max_length=20,
                                description="attachment ids you uploaded")


@router.post("/ledger/{entry_id}/appeals", status_code=201)
def file_appeal(
    entry_id: int, body: AppealIn, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    entry = ledger.get_entry(db, actor, entry_id)
    try:
        appeal = ledger.file_appeal(db, actor, entry, body.reason, body.evidence, clock())
    except ledger.LedgerError as exc:
        raise _raise(exc) from exc
    return ledger.appeal_json(appeal)


@router.get("/appeals")
def list_appeals(
    actor: CurrentActor, db: DB, status: Literal["pending", "granted", "denied", "all"] = "all",
    shop: int | None = None,
) -> list[dict[str, Any]]:
    q = select(Appeal).where(shop_rows_filter(actor, Appeal.shop_id)).order_by(Appeal.created_at)
    if status != "all":
        q = q.where(Appeal.status == status)
    if shop is not None:
        q = q.where(Appeal.shop_id == shop)
    return [ledger.appeal_json(a) for a in db.scalars(q)]


@router.get("/appeals/{appeal_id}")
def get_appeal(appeal_id: int, actor: CurrentActor, db: DB) -> dict[str, Any]:
    return ledger.appeal_json(ledger.get_appeal(db, actor, appeal_id))


class DecisionIn(BaseModel):
    outcome: Literal["granted", "denied"]
    reason: str = Field(min_length=3, max_length=4000)


@router.post("/appeals/{appeal_id}/decision")
def decide(
    appeal_id: int, body: DecisionIn, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    appeal = ledger.get_appeal(db, actor, appeal_id)
    try:
        reversal = ledger.decide(db, actor, appeal, body.outcome, body.reason, clock())
    except ledger.LedgerError as exc:
        raise _raise(exc) from exc
    out = ledger.appeal_json(appeal)
    out["reversal"] = reversal.id if reversal else None
    return out
