"""Screening on the platform side: draft checks, the review queue, reports of buyers."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from shopdesk.policy.penalties import PenaltySettings
from shopdesk.store import reviews
from shopdesk.store.access import get_conversation, shop_rows_filter
from shopdesk.store.models_review import Review
from shopdesk.web.deps import DB, Clock, CurrentActor
from shopdesk.web.errors import ApiError

router = APIRouter(tags=["screening"])


def _raise(exc: reviews.ReviewError) -> ApiError:
    return ApiError(exc.status, exc.code, str(exc))


class DraftIn(BaseModel):
    text: str = Field(max_length=4000)
    conversation: int | None = None


@router.post("/screen")
def screen_draft(body: DraftIn, request: Request, actor: CurrentActor, db: DB) -> dict[str, Any]:
    """Check a draft as the seller types (SCR-D1): the verdict sending it would get."""
    if body.conversation is not None:
        get_conversation(db, actor, body.conversation)
    sender = "buyer" if actor.is_buyer else "seller"
    result: dict[str, Any] = request.app.state.check_text(body.text, sender)
    return result


class ReportIn(BaseModel):
    reason: Literal["abusive", "threatening", "extortion", "advertising"]
    note: str = Field(default="", max_length=2000)
    evidence: list[int] = Field(default_factory=list, max_length=20)


@router.post("/messages/{message_id}/report", status_code=201)
def report(message_id: int, body: ReportIn, request: Request, actor: CurrentActor, db: DB,
           clock: Clock) -> dict[str, Any]:
    from shopdesk.store.models import Message

    msg = db.get(Message, message_id)
    findings: list[dict[str, Any]] = []
    check = getattr(request.app.state, "check_text", None)
    if msg is not None and check is not None:
        findings = check(msg.text, "buyer")["findings"]
    try:
        review = reviews.report_buyer_message(db, actor, message_id, body.reason, body.note,
                                              body.evidence, findings, clock())
    except reviews.ReviewError as exc:
        raise _raise(exc) from exc
    return reviews.review_json(review)


@router.get("/reviews")
def list_reviews(
    actor: CurrentActor, db: DB,
    status: Literal["pending", "approved", "rejected", "all"] = "pending",
    kind: Literal["flagged_message", "buyer_report", "all"] = "all",
    shop: int | None = None,
) -> list[dict[str, Any]]:
    q = select(Review).where(shop_rows_filter(actor, Review.shop_id)).order_by(Review.created_at)
    if status != "all":
        q = q.where(Review.status == status)
    if kind != "all":
        q = q.where(Review.kind == kind)
    if shop is not None:
        q = q.where(Review.shop_id == shop)
    return [reviews.review_json(r) for r in db.scalars(q)]


@router.get("/reviews/{review_id}")
def get_review(review_id: int, actor: CurrentActor, db: DB) -> dict[str, Any]:
    return reviews.review_json(reviews.get_review(db, actor, review_id))


class DecisionIn(BaseModel):
    outcome: Literal["approved", "rejected"]
    reason: str = Field(min_length=3, max_length=4000)


@router.post("/reviews/{review_id}/decision")
def decide(review_id: int, body: DecisionIn, actor: CurrentActor, db: DB, clock: Clock
           ) -> dict[str, Any]:
    review = reviews.get_review(db, actor, review_id)
    try:
        reviews.decide(db, actor, review, body.outcome, body.reason, clock(), PenaltySettings())
    except reviews.ReviewError as exc:
        raise _raise(exc) from exc
    return reviews.review_json(review)
