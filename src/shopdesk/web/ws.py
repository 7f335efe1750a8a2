"""WebSocket push: every new message in the user's conversations, as soon as it is committed.

A client that reconnects catches up with `GET …/messages?after_seq=N` (or a `resume` frame),
so nothing is lost; `seq` lets it drop anything it already has, so nothing is duplicated.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update
from starlette.types import Send

from shopdesk.chat import service
from shopdesk.chat.assignment import assign_waiting
from shopdesk.store.access import Actor, NotFound, get_conversation
from shopdesk.store.accounts import actor_for, actor_from_token
from shopdesk.store.models import Membership, User
from shopdesk.web.send_path import RAW_SEND

router = APIRouter()


class Push:
    """Frames pushed to a connected WebSocket through the server's own send (see
    `web.send_path.RAW_SEND`): the application's middlewares only pass them on."""

    __slots__ = ("_send",)

    def __init__(self, send: Send) -> None:
        self._send = send

    async def send_text(self, data: str) -> None:
        await self._send({"type": "websocket.send", "text": data})


def _authenticate(ws: WebSocket) -> Actor | None:
    app = ws.app
    now = app.state.clock()
    token = ws.query_params.get("token")
    with app.state.sessions() as db:
        if token:
            return actor_from_token(db, token, now)
        user_id = ws.session.get("user_id") if "session" in ws.scope else None
        origin = ws.headers.get("origin", "")
        host = ws.headers.get("host", "")
        # Cookie auth only from our own pages: a foreign origin cannot ride the cookie.
        if user_id is None or origin.split("://", 1)[-1] != host:
            return None
        user = db.get(User, user_id)
        return actor_for(db, user) if user is not None and user.is_active else None


def _set_presence(ws: WebSocket, actor: Actor, online: bool) -> None:
    if not actor.shop_roles:
        return
    app = ws.app
    now = app.state.clock()
    with app.state.sessions() as db, db.begin():
        db.execute(
            update(Membership)
            .where(Membership.user_id == actor.user_id)
            .values(online=online, last_seen_at=now)
        )
        if online:
            for shop_id in actor.shop_roles:
                assign_waiting(db, shop_id, now, app.state.settings.agent_capacity)


def _resume(ws: WebSocket, actor: Actor, conversation_id: int, after_seq: int) -> list[str]:
    with ws.app.state.sessions() as db:
        conv = get_conversation(db, actor, conversation_id)
        msgs = service.list_messages(db, conv, after_seq, 1000)
        authors = {u.id: u for u in db.scalars(select(User).where(
            User.id.in_({m.author_id for m in msgs if m.author_id})))}
        return [
            json.dumps({"type": "message", "conversation": conv.id,
                        "message": service.message_json(m, authors.get(m.author_id or 0))})
            for m in msgs
        ]


@router.websocket("/api/v1/ws")
async def websocket(ws: WebSocket) -> None:
    actor = await run_in_threadpool(_authenticate, ws)
    if actor is None:
        # Accept first: a close before the handshake is an HTTP 403 that browsers cannot
        # read, while 4401 tells the client to log in again rather than to retry.
        await ws.accept()
        await ws.close(code=4401, reason="invalid or missing token")
        return
    await ws.accept()
    hub = ws.app.state.broker.hub
    raw_send = ws.scope.get(RAW_SEND)
    socket: Any = ws if raw_send is None else Push(raw_send)
    hub.add(actor.user_id, socket, staff=actor.is_staff)
    await run_in_threadpool(_set_presence, ws, actor, True)
    await ws.send_text(json.dumps({"type": "hello", "user": actor.user_id,
                                   "session": secrets.token_hex(4)}))
    try:
        while True:
            raw = await ws.receive_text()
            try:
                frame: dict[str, Any] = json.loads(raw)
            except ValueError:
                await ws.send_text(json.dumps({"type": "error", "message": "frames are JSON"}))
                continue
            kind = frame.get("type")
            if kind == "ping":
                await ws.send_text(json.dumps({"type": "pong"}))
            elif kind == "resume":
                try:
                    frames = await run_in_threadpool(
                        _resume, ws, actor, int(frame["conversation"]),
                        int(frame.get("after_seq", 0)),
                    )
                except (KeyError, ValueError, TypeError, NotFound):
                    await ws.send_text(json.dumps(
                        {"type": "error", "message": "resume needs a conversation of yours"}))
                    continue
                for f in frames:
                    await ws.send_text(f)
            else:
                await ws.send_text(json.dumps({"type": "error", "message": "unknown frame"}))
    except WebSocketDisconnect:
        pass
    finally:
        if hub.remove(actor.user_id, socket) == 0:
            await run_in_threadpool(_set_presence, ws, actor, False)
