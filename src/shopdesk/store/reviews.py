"""Review queue for flagged seller messages and sellers' reports of buyer messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopdesk.policy.penalties import PenaltySettings, for_screening
from shopdesk.store import ledger
from shopdesk.store.access import Actor, NotFound, get_conversation, shop_rows_filter
from shopdesk.store.accounts import audit
from shopdesk.store.models import Attachment, ConversationEvent, Message
from shopdesk.store.models_review import Review
from shopdesk.store.types import iso

REPORT_REASONS = ("abusive", "threatening", "extortion", "advertising")


class ReviewError(Exception):
    def __init__(self, message: str, code: str, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def queue_flag(session: Session, msg: Message, shop_id: int, findings: list[dict[str, Any]],
               now: datetime) -> Review:
    review = Review(kind="flagged_message", shop_id=shop_id,
                    conversation_id=msg.conversation_id, message_id=msg.id,
                    findings=findings, reporter_id=None, reason="", evidence=[],
                    created_at=now, status="pending")
    session.add(review)
    session.flush()
    return review


def report_buyer_message(
    session: Session, actor: Actor, message_id: int, reason: str, note: str,
    evidence: list[int], findings: list[dict[str, Any]], now: datetime,
) -> Review:
    """rule SCR-12: a seller reports an abusive/threatening/extortionate/advertising buyer."""
    msg = session.get(Message, message_id)
    if msg is None:
        raise NotFound("message")
    try:
        conv = get_conversation(session, actor, msg.conversation_id)
    except NotFound:  # other tenants get the same 404 as for a message that does not exist
        raise NotFound("message") from None
    actor.require_shop_role(conv.shop_id)
    if actor.is_staff:
        raise ReviewError("reports are filed by the shop's team", "role_forbidden", 403)
    if msg.sender != "buyer":
        raise ReviewError("only buyer messages can be reported", "not_reportable", 422)
    if reason not in REPORT_REASONS:
        raise ReviewError(f"reason must be one of {', '.join(REPORT_REASONS)}",
                          "invalid_reason", 422)
    for att_id in evidence:
        att = session.get(Attachment, att_id)
        if att is None or att.owner_id != actor.user_id:
            raise ReviewError(f"evidence {att_id} is not a file you uploaded",
                              "invalid_evidence", 422)
    existing = session.scalars(select(Review).where(
        Review.kind == "buyer_report", Review.message_id == msg.id,
        Review.status.in_(("pending", "approved")))).first()
    if existing is not None:
        raise ReviewError(f"this message was already reported (report {existing.id})",
                          "already_reported")
    review = Review(kind="buyer_report", shop_id=conv.shop_id, conversation_id=conv.id,
                    message_id=msg.id, findings=findings, reporter_id=actor.user_id,
                    reason=f"{reason}: {note}".strip(": "), evidence=evidence,
                    created_at=now, status="pending")
    session.add(review)
    session.flush()
    audit(session, actor, "review.report", "review", review.id, now=now, shop_id=conv.shop_id,
          message=msg.id)
    return review


def get_review(session: Session, actor: Actor, review_id: int) -> Review:
    review = session.scalars(select(Review).where(
        shop_rows_filter(actor, Review.shop_id), Review.id == review_id)).first()
    if review is None:
        raise NotFound("review")
    return review


def decide(session: Session, actor: Actor, review: Review, outcome: str, reason: str,
           now: datetime, penalties: PenaltySettings) -> None:
    if not actor.is_staff:
        raise ReviewError("only platform staff decide reviews", "role_forbidden", 403)
    if review.status != "pending":
        raise ReviewError(f"this review was already {review.status}", "already_decided")
    if outcome not in ("approved", "rejected"):
        raise ReviewError("outcome must be 'approved' or 'rejected'", "invalid_outcome", 422)
    review.status, review.decided_by_id = outcome, actor.user_id
    review.decided_at, review.decision_reason = now, reason
    if outcome == "approved":
        msg = session.get(Message, review.message_id)
        assert msg is not None
        if review.kind == "flagged_message":
            # rule PEN-4: a confirmed screening violation counts against account health.
            first = review.findings[0] if review.findings else {"rule": "SCR-8", "kind": "?"}
            ledger.append(session, review.shop_id,
                          for_screening(first["rule"], first["kind"], True, penalties), now,
                          message_id=msg.id)
        else:
            # rule SCR-12: a verified report takes the session out of the evaluation; the
            # exclusion names the reported message's instant (CONTRACTS §1 `exclusion`).
            session.add(ConversationEvent(
                conversation_id=review.conversation_id, at=msg.at, type="exclusion",
                data={"reason": "verified_report", "review": review.id}, actor_id=actor.user_id,
            ))
    audit(session, actor, "review.decide", "review", review.id, now=now, shop_id=review.shop_id,
          outcome=outcome)


def review_json(r: Review) -> dict[str, Any]:
    return {
        "id": r.id, "kind": r.kind, "shop": r.shop_id, "conversation": r.conversation_id,
        "message": r.message_id, "findings": r.findings, "reporter": r.reporter_id,
        "reason": r.reason, "evidence": r.evidence, "created_at": iso(r.created_at),
        "status": r.status, "decided_by": r.decided_by_id, "decided_at": iso(r.decided_at),
        "decision_reason": r.decision_reason,
    }
