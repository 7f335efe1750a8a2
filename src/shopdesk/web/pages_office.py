"""Back-office pages: shop health, knowledge base, cases, and the platform staff console.

The pages are server-rendered shells; the data comes from /api/v1 through static/office*.js,
so the API stays the only place that decides what a caller may see and do. The checks here
only pick the right page (or refusal) for the caller: a logged-out visitor is sent to the log-in
page, a role that has no business on a page gets a 403 page, and another tenant's shop or case
is a 404 page, exactly as the API would answer (existence never leaks, `store.access`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from shopdesk.casework import complaints, disputes
from shopdesk.casework.aftersales import AfterSalesKind
from shopdesk.casework.machine import Role
from shopdesk.knowledge.chatbot import MAX_CARDS
from shopdesk.store import casework_repo
from shopdesk.store.access import MANAGER_ROLES, Actor, NotFound, get_shop, shop_filter
from shopdesk.store.accounts import actor_for
from shopdesk.store.models import Shop, User

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))

# Choices for action parameters the engine validates against an enumeration, so the case page
# offers a list instead of a free-text field (anything else is free text, see `_catalogue`).
PARAM_CHOICES: dict[str, list[str]] = {
    "outcome": [o.value for o in disputes.Outcome],
    "category": [c.value for c in complaints.Category],
    "nature": [n.value for n in complaints.Nature],
    "urgency": [u.value for u in complaints.Urgency],
    "satisfaction": ["1", "2", "3", "4", "5"],
    "proposal.kind": [k.value for k in AfterSalesKind],
}
INTEGER_PARAMS = frozenset({"amount_minor", "days", "satisfaction"})


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _page_actor(request: Request) -> Actor | None:
    user_id = request.session.get("user_id")
    if user_id is None:
        return None
    with request.app.state.sessions() as db:
        user = db.get(User, user_id)
        return actor_for(db, user) if user is not None and user.is_active else None


def _render(
    request: Request, name: str, actor: Actor | None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {"actor": actor, "csrf": request.session.get("csrf", ""), **ctx},
        status_code=status,
    )


def _refused(request: Request, actor: Actor, exc: _Refusal) -> HTMLResponse:
    title = "Not found" if exc.status == 404 else "Not allowed"
    return _render(request, "office_error.html", actor, exc.status, title=title, message=str(exc))


def _login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def _team_shop(request: Request, actor: Actor, shop_id: int) -> tuple[Shop, str]:
    """The shop and the caller's role in it (staff: "staff"); buyers and outsiders refused."""
    if actor.is_buyer:
        raise _Refusal(403, "This page is for the shop's team and platform staff.")
    with request.app.state.sessions() as db:
        try:
            shop = get_shop(db, actor, shop_id)
            role = actor.require_shop_role(shop_id)
        except NotFound as exc:
            raise _Refusal(404, "No such shop.") from exc
        db.expunge(shop)
        return shop, role


def _team_shops(request: Request, actor: Actor) -> list[dict[str, Any]]:
    """The shops the caller may switch between on a shop page (staff: every shop)."""
    with request.app.state.sessions() as db:
        rows = db.scalars(select(Shop).where(shop_filter(actor)).order_by(Shop.id))
        return [{"id": s.id, "name": s.name} for s in rows]


@router.get("/office", response_model=None)
def office_home(request: Request) -> Response:
    actor = _page_actor(request)
    if actor is None:
        return _login()
    if actor.is_staff:
        return RedirectResponse("/office/platform", status_code=303)
    if actor.shop_roles:
        return RedirectResponse(f"/office/shops/{min(actor.shop_roles)}/health", status_code=303)
    return RedirectResponse("/office/cases", status_code=303)


@router.get("/office/shops/{shop_id}/health", response_model=None)
def health_page(shop_id: int, request: Request) -> Response:
    """Shop diagnosis (EVAL-3, MET-D2), penalty ledger and appeals (PEN-D1, APL-1)."""
    actor = _page_actor(request)
    if actor is None:
        return _login()
    try:
        shop, role = _team_shop(request, actor, shop_id)
    except _Refusal as exc:
        return _refused(request, actor, exc)
    return _render(
        request,
        "office_health.html",
        actor,
        shop=shop,
        role=role,
        shops=_team_shops(request, actor),
        # APL-1 via `ledger.file_appeal`: the shop's owner and admins appeal, staff decide.
        can_appeal=role in MANAGER_ROLES,
    )


@router.get("/office/shops/{shop_id}/kb", response_model=None)
def kb_page(shop_id: int, request: Request) -> Response:
    """Knowledge base, greeting and FAQ cards (KB-1…KB-4); read-only for agents (TEAM-2)."""
    actor = _page_actor(request)
    if actor is None:
        return _login()
    try:
        shop, role = _team_shop(request, actor, shop_id)
    except _Refusal as exc:
        return _refused(request, actor, exc)
    return _render(
        request,
        "office_kb.html",
        actor,
        shop=shop,
        role=role,
        shops=_team_shops(request, actor),
        # rule TEAM-2: owners and admins edit (staff too, as the API allows); agents read.
        can_edit=role in (*MANAGER_ROLES, "staff"),
        max_cards=MAX_CARDS,
    )


@router.get("/office/cases", response_model=None)
def cases_page(request: Request) -> Response:
    """Cases; a buyer's orders with after-sales requests (AS-2, AS-6); a seller's force-majeure
    application (FM-3, FM-4) and the platform's adjusted regions (FM-1)."""
    actor = _page_actor(request)
    if actor is None:
        return _login()
    shops = _team_shops(request, actor) if not actor.is_buyer else []
    fm = casework_repo.policy().force_majeure
    return _render(
        request,
        "office_cases.html",
        actor,
        processes={name: p.title for name, p in casework_repo.PROCESSES.items()},
        shops=shops,
        # FM-3: the shop's owner or an admin applies; agents see the regions only.
        fm_shops=[s for s in shops if actor.role_in(s["id"]) in MANAGER_ROLES],
        proof_kinds=sorted(fm.accepted_proof_kinds),
        proof_types=",".join(sorted(fm.accepted_media_types)),
        aftersales_kinds=[k.value for k in AfterSalesKind],
    )


def _catalogue(process: str) -> dict[str, Any]:
    """Every action a person may take in the process, with its parameters, from the engine's
    own transition table (so the page never lists an action the machine does not have)."""
    machine = casework_repo.PROCESSES[process].module.MACHINE
    out: dict[str, Any] = {}
    for t in machine.transitions:
        if t.roles == frozenset({Role.SYSTEM}) or t.action in out:
            continue
        params = []
        for p in t.params:
            name = p.rstrip("?")
            params.append(
                {
                    "name": name,
                    "optional": p.endswith("?"),
                    "choices": PARAM_CHOICES.get(name),
                    "integer": name in INTEGER_PARAMS,
                }
            )
        out[t.action] = {"summary": t.summary, "rule": t.rule, "params": params}
    return out


@router.get("/office/cases/{case_id}", response_model=None)
def case_page(case_id: int, request: Request) -> Response:
    actor = _page_actor(request)
    if actor is None:
        return _login()
    with request.app.state.sessions() as db:
        try:
            row = casework_repo.get_case(db, actor, case_id)
            my_role = casework_repo.engine_actor(actor, row.shop_id).role.value
        except NotFound:
            return _refused(request, actor, _Refusal(404, "No such case."))
        process, title = row.process, casework_repo.PROCESSES[row.process].title
    return _render(
        request,
        "office_case.html",
        actor,
        case_id=case_id,
        process=process,
        title=title,
        my_role=my_role,
        catalogue=_catalogue(process),
        proposal_kinds=PARAM_CHOICES["proposal.kind"],
    )


@router.get("/office/platform", response_model=None)
def platform_page(request: Request) -> Response:
    """Platform staff console: review queue, appeals, disputes, outcomes, complaint analytics."""
    actor = _page_actor(request)
    if actor is None:
        return _login()
    if not actor.is_staff:
        return _refused(
            request, actor, _Refusal(403, "The platform console is for platform staff.")
        )
    return _render(request, "office_platform.html", actor, shops=_team_shops(request, actor))
