"""The penalty ledger and appeals on the database (PEN-D1, APL-1, APL-2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopdesk.policy.penalties import PenaltyDecision
from shopdesk.store.access import MANAGER_ROLES, Actor, NotFound, shop_rows_filter
from shopdesk.store.accounts import audit
from shopdesk.store.models import Appeal, Attachment, LedgerEntry
from shopdesk.store.types import iso


class LedgerError(Exception):
    def __init__(self, message: str, code: str, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def append(
    session: Session, shop_id: int, decision: PenaltyDecision, now: datetime, *,
    evaluation_id: int | None = None, message_id: int | None = None,
) -> LedgerEntry:
    entry = LedgerEntry(
        shop_id=shop_id, at=now, kind=decision.kind, rule=decision.rule, points=decision.points,
        reason=decision.reason, sanctions=list(decision.sanctions), evaluation_id=evaluation_id,
        message_id=message_id,
    )
    session.add(entry)
    session.flush()
    return entry


def reversed_ids(session: Session, shop_id: int) -> set[int]:
    return {
        rid for rid in session.scalars(
            select(LedgerEntry.reverses_id).where(
                LedgerEntry.shop_id == shop_id, LedgerEntry.reverses_id.is_not(None))
        ) if rid is not None
    }


def health(session: Session, shop_id: int) -> dict[str, Any]:
    """Account health (PEN-3): points standing after reversals, and open sanctions."""
    points = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.shop_id == shop_id)
    )
    gone = reversed_ids(session, shop_id)
    sanctions = sorted({
        s for e in session.scalars(select(LedgerEntry).where(
            LedgerEntry.shop_id == shop_id, LedgerEntry.kind == "escalated_violation"))
        if e.id not in gone for s in e.sanctions
    })
    return {"violation_points": int(points or 0), "sanctions": sanctions}


def get_entry(session: Session, actor: Actor, entry_id: int) -> LedgerEntry:
    entry = session.scalars(select(LedgerEntry).where(
        shop_rows_filter(actor, LedgerEntry.shop_id), LedgerEntry.id == entry_id)).first()
    if entry is None:
        raise NotFound("ledger entry")
    return entry


def get_appeal(session: Session, actor: Actor, appeal_id: int) -> Appeal:
    appeal = session.scalars(select(Appeal).where(
        shop_rows_filter(actor, Appeal.shop_id), Appeal.id == appeal_id)).first()
    if appeal is None:
        raise NotFound("appeal")
    return appeal


def file_appeal(
    session: Session, actor: Actor, entry: LedgerEntry, reason: str, evidence: list[int],
    now: datetime,
) -> Appeal:
    actor.require_shop_role(entry.shop_id, MANAGER_ROLES)
    if actor.is_staff:
        raise LedgerError("appeals are filed by the shop", "role_forbidden", 403)
    if entry.kind == "reversal":
        raise LedgerError("a reversal cannot be appealed", "not_appealable")
    if entry.id in reversed_ids(session, entry.shop_id):
        raise LedgerError("this entry was already reversed", "already_reversed")
    pending = session.scalars(select(Appeal).where(
        Appeal.entry_id == entry.id, Appeal.status == "pending")).first()
    if pending is not None:
        raise LedgerError(f"appeal {pending.id} for this entry is still being reviewed",
                          "appeal_pending")
    for att_id in evidence:
        att = session.get(Attachment, att_id)
        if att is None or att.owner_id != actor.user_id:
            raise LedgerError(f"evidence {att_id} is not a file you uploaded",
                              "invalid_evidence", 422)
    appeal = Appeal(entry_id=entry.id, shop_id=entry.shop_id, appellant_id=actor.user_id,
                    reason=reason, evidence=evidence, created_at=now, status="pending")
    session.add(appeal)
    session.flush()
    audit(session, actor, "appeal.file", "appeal", appeal.id, now=now, shop_id=entry.shop_id,
          entry=entry.id)
    return appeal


def decide(
    session: Session, actor: Actor, appeal: Appeal, outcome: str, reason: str, now: datetime
) -> LedgerEntry | None:
    """rule APL-2: staff grant (the entry is reversed by a new entry, PEN-D1) or deny."""
    if not actor.is_staff:
        raise LedgerError("only platform staff decide appeals", "role_forbidden", 403)
    if appeal.status != "pending":
        raise LedgerError(f"this appeal was already {appeal.status}", "already_decided")
    if outcome not in ("granted", "denied"):
        raise LedgerError("outcome must be 'granted' or 'denied'", "invalid_outcome", 422)
    appeal.status, appeal.decided_by_id = outcome, actor.user_id
    appeal.decided_at, appeal.decision_reason = now, reason
    reversal = None
    if outcome == "granted":
        entry = session.get(LedgerEntry, appeal.entry_id)
        assert entry is not None
        reversal = LedgerEntry(
            shop_id=entry.shop_id, at=now, kind="reversal", rule=entry.rule,
            points=-entry.points, reason=f"appeal {appeal.id} granted: {reason}",
            sanctions=[], reverses_id=entry.id, actor_id=actor.user_id,
        )
        session.add(reversal)
        session.flush()
    audit(session, actor, "appeal.decide", "appeal", appeal.id, now=now, shop_id=appeal.shop_id,
          outcome=outcome)
    return reversal


def entry_json(e: LedgerEntry, reversed_by: dict[int, int]) -> dict[str, Any]:
    return {
        "id": e.id, "shop": e.shop_id, "at": iso(e.at), "kind": e.kind, "rule": e.rule,
        "points": e.points, "reason": e.reason, "sanctions": e.sanctions,
        "evaluation": e.evaluation_id, "message": e.message_id, "reverses": e.reverses_id,
        "reversed_by": reversed_by.get(e.id),
    }


def appeal_json(a: Appeal) -> dict[str, Any]:
    return {
        "id": a.id, "entry": a.entry_id, "shop": a.shop_id, "appellant": a.appellant_id,
        "reason": a.reason, "evidence": a.evidence, "created_at": iso(a.created_at),
        "status": a.status, "decided_by": a.decided_by_id, "decided_at": iso(a.decided_at),
        "decision_reason": a.decision_reason,
    }
