"""Server-rendered pages: log in, the buyer's chat with a shop, the agents' inbox."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from shopdesk.store.access import Actor, NotFound, get_shop, shop_filter
from shopdesk.store.accounts import actor_for, audit, authenticate
from shopdesk.store.models import Shop, User

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


def _page_actor(request: Request) -> Actor | None:
    user_id = request.session.get("user_id")
    if user_id is None:
        return None
    with request.app.state.sessions() as db:
        user = db.get(User, user_id)
        return actor_for(db, user) if user is not None and user.is_active else None


def _render(request: Request, name: str, actor: Actor | None, **ctx: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, {"actor": actor, "csrf": request.session.get("csrf", ""), **ctx}
    )


@router.get("/", response_model=None)
def home(request: Request) -> Response:
    actor = _page_actor(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/shops" if actor.is_buyer else "/inbox", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _render(request, "login.html", None, error=None)


@router.post("/login", response_model=None)
def login(
    request: Request, username: str = Form(...), password: str = Form(...),
    csrf: str = Form(default=""),
) -> Response:
    with request.app.state.sessions() as db, db.begin():
        user = authenticate(db, username, password)
        if user is None:
            return templates.TemplateResponse(
                request, "login.html", {"actor": None, "csrf": "", "username": username[:64],
                                        "error": "Wrong username or password."},
                status_code=401,
            )
        audit(db, None, "auth.login", "user", user.id, now=request.app.state.clock())
        request.session.clear()
        request.session["user_id"] = user.id
        request.session["csrf"] = secrets.token_urlsafe(24)
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: str = Form(default="")) -> RedirectResponse:
    if secrets.compare_digest(csrf, request.session.get("csrf", "")):
        request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/shops", response_model=None)
def shops_page(request: Request) -> Response:
    actor = _page_actor(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    with request.app.state.sessions() as db:
        shops = list(db.scalars(select(Shop).where(shop_filter(actor)).order_by(Shop.id)))
        return _render(request, "shops.html", actor, shops=shops)


@router.get("/chat/{shop_id}", response_model=None)
def chat_page(shop_id: int, request: Request) -> Response:
    actor = _page_actor(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    if not actor.is_buyer:
        return RedirectResponse("/inbox", status_code=303)
    with request.app.state.sessions() as db:
        try:
            shop = get_shop(db, actor, shop_id)
        except NotFound:
            return _render(request, "shops.html", actor, shops=[], error="No such shop.")
        return _render(request, "chat.html", actor, shop=shop)


@router.get("/inbox", response_model=None)
def inbox_page(request: Request) -> Response:
    actor = _page_actor(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    if actor.is_buyer:
        return RedirectResponse("/shops", status_code=303)
    with request.app.state.sessions() as db:
        shops = list(db.scalars(select(Shop).where(shop_filter(actor)).order_by(Shop.id)))
        # The script needs names for labels and the caller's role to offer take/transfer
        # only where the API would accept them (staff see every shop but join none).
        inbox_shops = [
            {"id": s.id, "name": s.name, "role": "staff" if actor.is_staff else actor.role_in(s.id)}
            for s in shops
        ]
        return _render(request, "inbox.html", actor, shops=shops, inbox_shops=inbox_shops)
