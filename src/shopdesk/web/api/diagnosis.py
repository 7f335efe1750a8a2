"""Shop diagnosis (EVAL-3): evaluations, the live projection, satisfaction, exports."""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import func, select

from shopdesk.jobs.evaluations import projection
from shopdesk.store.access import NotFound, get_shop, shop_rows_filter
from shopdesk.store.models import Evaluation
from shopdesk.web.deps import DB, Clock, CurrentActor

router = APIRouter(tags=["shop diagnosis"])

SUMMARY_FIELDS = ("buyer_messages", "sessions", "counted", "pending", "answered_in_time",
                  "response_rate", "ratings", "satisfaction_rate", "first_response_median_s",
                  "first_response_mean_s", "outcome")


def evaluation_json(e: Evaluation, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": e.id, "shop": e.shop_id, "policy": e.policy, "policy_version": e.policy_version,
        "scheduled_for": e.scheduled_for.isoformat().replace("+00:00", "Z"),
        "computed_at": e.computed_at.isoformat().replace("+00:00", "Z"),
        "window": e.result["window"],
        **{k: e.result.get(k) for k in SUMMARY_FIELDS},
    }
    if detail:
        out["sessions_detail"] = e.result.get("sessions_detail", [])
    return out


@router.get("/shops/{shop_id}/diagnosis")
def diagnosis(shop_id: int, actor: CurrentActor, db: DB, clock: Clock) -> dict[str, Any]:
    """The current window as if evaluated now, and the latest stored evaluation."""
    shop = get_shop(db, actor, shop_id)
    actor.require_shop_role(shop_id)
    latest = db.scalars(select(Evaluation).where(Evaluation.shop_id == shop_id)
                        .order_by(Evaluation.scheduled_for.desc()).limit(1)).first()
    return {"projection": projection(db, shop, clock()),
            "latest": evaluation_json(latest) if latest else None}


@router.get("/shops/{shop_id}/evaluations")
def shop_evaluations(shop_id: int, actor: CurrentActor, db: DB) -> list[dict[str, Any]]:
    get_shop(db, actor, shop_id)
    actor.require_shop_role(shop_id)
    rows = db.scalars(select(Evaluation).where(Evaluation.shop_id == shop_id)
                      .order_by(Evaluation.scheduled_for.desc()))
    return [evaluation_json(e) for e in rows]


def _get(db: Any, actor: Any, evaluation_id: int) -> Evaluation:
    e = db.scalars(select(Evaluation).where(shop_rows_filter(actor, Evaluation.shop_id),
                                            Evaluation.id == evaluation_id)).first()
    if e is None:
        raise NotFound("evaluation")
    return e


@router.get("/evaluations/{evaluation_id}")
def get_evaluation(evaluation_id: int, actor: CurrentActor, db: DB) -> dict[str, Any]:
    """One evaluation with every session behind it (MET-D2)."""
    return evaluation_json(_get(db, actor, evaluation_id), detail=True)


@router.get("/evaluations/{evaluation_id}/sessions.csv", response_class=Response)
def evaluation_csv(evaluation_id: int, actor: CurrentActor, db: DB) -> Response:
    e = _get(db, actor, evaluation_id)
    buf = io.StringIO()
    cols = ["conversation", "start", "deadline", "status", "first_reply_at", "first_reply_by"]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for row in e.result.get("sessions_detail", []):
        w.writerow(row)
    return Response(buf.getvalue(), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="evaluation-{e.id}-sessions.csv"'})


def _latest(db: Any, actor: Any, outcome: str, policy: str | None) -> list[Evaluation]:
    newest = (select(Evaluation.shop_id, func.max(Evaluation.scheduled_for).label("m"))
              .where(shop_rows_filter(actor, Evaluation.shop_id))
              .group_by(Evaluation.shop_id).subquery())
    q = (select(Evaluation).join(newest, (newest.c.shop_id == Evaluation.shop_id)
                                 & (newest.c.m == Evaluation.scheduled_for))
         .order_by(Evaluation.shop_id))
    if outcome != "all":
        q = q.where(Evaluation.outcome == outcome)
    if policy is not None:
        q = q.where(Evaluation.policy == policy)
    return list(db.scalars(q))


Outcome = Literal["all", "ok", "warning", "violation", "not_evaluated"]


@router.get("/evaluations")
def latest_evaluations(actor: CurrentActor, db: DB, outcome: Outcome = "all",
                       policy: str | None = None) -> list[dict[str, Any]]:
    """Each visible shop's latest outcome (platform view for staff), filterable."""
    return [evaluation_json(e) for e in _latest(db, actor, outcome, policy)]


@router.get("/evaluations.csv", response_class=Response)
def latest_evaluations_csv(actor: CurrentActor, db: DB, outcome: Outcome = "all",
                           policy: str | None = None) -> Response:
    buf = io.StringIO()
    cols = ["id", "shop", "policy", "policy_version", "scheduled_for", *SUMMARY_FIELDS]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for e in _latest(db, actor, outcome, policy):
        w.writerow(evaluation_json(e))
    return Response(buf.getvalue(), media_type="text/csv")
