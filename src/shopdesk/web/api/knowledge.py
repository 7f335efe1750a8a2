"""Knowledge base, greeting and FAQ cards, assisted reply (SPEC §3 KB-1…KB-7, TEAM-2, TEAM-3).

Owners and admins edit (TEAM-2); agents read and use suggestions (TEAM-3); a shop's KB is
invisible to other tenants (404, `shopdesk.store.access`). Presets are copied into a shop on
its first KB access (KB-3). Import/export use the CONTRACTS §4 JSON Lines format.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopdesk.chat import chatbot, service
from shopdesk.chat.assignment import assign_waiting
from shopdesk.knowledge.assist import record_choice, suggest
from shopdesk.knowledge.chatbot import MAX_CARDS, greeting_text, select_cards
from shopdesk.knowledge.jsonl import KBFormatError, dump_kb, parse_kb
from shopdesk.knowledge.model import Category, Entry
from shopdesk.knowledge.presets import reset_to_preset
from shopdesk.store import kb_repo
from shopdesk.store.access import (
    MANAGER_ROLES,
    Actor,
    Forbidden,
    NotFound,
    get_conversation,
    get_shop,
)
from shopdesk.store.accounts import audit
from shopdesk.store.models import Conversation, Message, Product, Shop, User
from shopdesk.store.models_kb import KBEntry
from shopdesk.web.api import conversations
from shopdesk.web.deps import DB, Clock, CurrentActor, resolve_actor
from shopdesk.web.errors import ApiError

router = APIRouter(tags=["knowledge"])

KEY_MAX = 120
NDJSON = "application/x-ndjson"


# --- access -----------------------------------------------------------------------------------


def _team_shop(db: Session, actor: Actor, shop_id: int, now: datetime) -> Shop:
    """Any member of the shop's team reads its KB (TEAM-3); seeds presets on first access."""
    actor.require_scope("chat:read")
    shop = get_shop(db, actor, shop_id)
    actor.require_shop_role(shop_id)
    kb_repo.ensure_kb(db, shop, now)
    return shop


def _manager_shop(db: Session, actor: Actor, shop_id: int, now: datetime) -> Shop:
    """rule TEAM-2: only the owner and admins edit the KB, the greeting and the cards."""
    shop = get_shop(db, actor, shop_id)
    actor.require_shop_role(shop_id, MANAGER_ROLES)
    if not actor.is_staff:
        actor.require_scope("shop:manage")
    kb_repo.ensure_kb(db, shop, now)
    return shop


def _entry(db: Session, shop_id: int, key: str) -> KBEntry:
    row = kb_repo.entry_row(db, shop_id, key)
    if row is None:
        raise NotFound("entry")
    return row


# --- entries ----------------------------------------------------------------------------------


class EntryIn(BaseModel):
    id: str | None = Field(default=None, min_length=1, max_length=KEY_MAX)
    category: Category
    question: str = Field(min_length=1, max_length=1000)
    similar: list[str] = Field(default_factory=list, max_length=100)
    answer: str = Field(min_length=1, max_length=4000)
    lang: str | None = Field(default=None, max_length=16)
    enabled: bool = True


class EntryPatch(BaseModel):
    """Fields left out keep their value."""

    category: Category | None = None
    question: str | None = Field(default=None, min_length=1, max_length=1000)
    similar: list[str] | None = Field(default=None, max_length=100)
    answer: str | None = Field(default=None, min_length=1, max_length=4000)
    lang: str | None = Field(default=None, max_length=16)
    enabled: bool | None = None


def _blank(text: str, what: str) -> str:
    if not text.strip():
        raise ApiError(422, "invalid_entry", f"{what} must not be blank")
    return text


@router.get("/shops/{shop_id}/kb/entries")
def list_entries(
    shop_id: int,
    actor: CurrentActor,
    db: DB,
    clock: Clock,
    category: Literal["all", "greeting", "pre_sale", "logistics", "after_sale", "other"] = "all",
    language: str | None = Query(
        None,
        min_length=1,
        max_length=16,
        description="entries a buyer of this language gets: its own (zh also matches zh-Hans) "
        "and the language-neutral ones",
    ),
) -> list[dict[str, Any]]:
    _team_shop(db, actor, shop_id, clock())
    rows = kb_repo.entry_rows(db, shop_id)
    return [
        kb_repo.entry_json(r)
        for r in rows
        if category in ("all", r.category) and (language is None or _in_language(r.lang, language))
    ]


def _in_language(lang: str | None, wanted: str) -> bool:
    # Entries without a language answer buyers of every language, as the chatbot picks (KB-7).
    if lang is None:
        return True
    lang, wanted = lang.lower(), wanted.lower()
    return lang == wanted or lang.startswith(wanted + "-")


@router.post("/shops/{shop_id}/kb/entries", status_code=201)
def create_entry(
    shop_id: int, body: EntryIn, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    now = clock()
    _manager_shop(db, actor, shop_id, now)
    key = body.id or f"shop.{uuid.uuid4().hex[:10]}"
    if kb_repo.entry_row(db, shop_id, key) is not None:
        raise ApiError(409, "duplicate_entry", f"the KB already has an entry {key!r}")
    entry = Entry(
        id=key,
        category=body.category,
        question=_blank(body.question, "question"),
        answer=_blank(body.answer, "answer"),
        similar=tuple(s for s in body.similar if s.strip()),
        lang=body.lang,
        enabled=body.enabled,
    )
    row = kb_repo.row_from_entry(shop_id, entry, now)
    db.add(row)
    db.flush()
    kb_repo.bump_version(db, shop_id)
    audit(db, actor, "kb.entry.create", "kb_entry", key, now=now, shop_id=shop_id)
    return kb_repo.entry_json(row)


@router.get("/shops/{shop_id}/kb/entries/{entry_key}")
def get_entry(
    shop_id: int, entry_key: str, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    _team_shop(db, actor, shop_id, clock())
    return kb_repo.entry_json(_entry(db, shop_id, entry_key))


@router.put("/shops/{shop_id}/kb/entries/{entry_key}")
def update_entry(
    shop_id: int, entry_key: str, body: EntryPatch, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    now = clock()
    _manager_shop(db, actor, shop_id, now)
    row = _entry(db, shop_id, entry_key)
    changes = body.model_dump(exclude_unset=True)
    for name in ("question", "answer"):
        if name in changes:
            if changes[name] is None:
                raise ApiError(422, "invalid_entry", f"{name} must not be null")
            _blank(changes[name], name)
    if changes.get("category", "x") is None or changes.get("enabled", True) is None:
        raise ApiError(422, "invalid_entry", "category and enabled must not be null")
    if "similar" in changes:
        changes["similar"] = [s for s in changes["similar"] or [] if s.strip()]
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now
    db.flush()
    kb_repo.bump_version(db, shop_id)
    audit(
        db,
        actor,
        "kb.entry.update",
        "kb_entry",
        entry_key,
        now=now,
        shop_id=shop_id,
        fields=sorted(changes),
    )
    return kb_repo.entry_json(row)


@router.delete("/shops/{shop_id}/kb/entries/{entry_key}", status_code=204)
def delete_entry(
    shop_id: int, entry_key: str, actor: CurrentActor, db: DB, clock: Clock
) -> Response:
    now = clock()
    _manager_shop(db, actor, shop_id, now)
    db.delete(_entry(db, shop_id, entry_key))
    db.flush()
    kb_repo.bump_version(db, shop_id)
    audit(db, actor, "kb.entry.delete", "kb_entry", entry_key, now=now, shop_id=shop_id)
    return Response(status_code=204)


@router.post("/shops/{shop_id}/kb/entries/{entry_key}/reset")
def reset_entry(
    shop_id: int, entry_key: str, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """rule KB-3: back to the platform preset it was copied from (keeps enabled and stats)."""
    now = clock()
    _manager_shop(db, actor, shop_id, now)
    row = _entry(db, shop_id, entry_key)
    try:
        restored = reset_to_preset(kb_repo.to_entry(row))
    except ValueError as exc:
        raise ApiError(422, "no_preset", str(exc)) from exc
    kb_repo.apply_entry(row, restored, now)
    db.flush()
    kb_repo.bump_version(db, shop_id)
    audit(
        db,
        actor,
        "kb.entry.reset",
        "kb_entry",
        entry_key,
        now=now,
        shop_id=shop_id,
        preset=row.preset_id,
    )
    return kb_repo.entry_json(row)


# --- import / export (CONTRACTS §4) ----------------------------------------------------------


def _import(
    db: Session, actor: Actor, shop_id: int, raw: bytes, mode: str, now: datetime
) -> dict[str, Any]:
    _manager_shop(db, actor, shop_id, now)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(422, "invalid_kb", "the body must be UTF-8 JSON Lines") from exc
    try:
        entries = parse_kb(text.splitlines())
        for n, e in enumerate(entries, start=1):
            if len(e.id) > KEY_MAX:
                raise KBFormatError(n, f"'id' is longer than {KEY_MAX} characters")
    except KBFormatError as exc:
        # All or nothing: a bad line imports nothing.
        raise _kb_error(exc) from exc
    existing = {r.key: r for r in kb_repo.entry_rows(db, shop_id)}
    created = updated = deleted = 0
    for e in entries:
        row = existing.get(e.id)
        if row is None:
            db.add(kb_repo.row_from_entry(shop_id, e, now))
            created += 1
        else:
            kb_repo.apply_entry(row, e, now)
            updated += 1
    if mode == "replace":
        keep = {e.id for e in entries}
        for key, row in existing.items():
            if key not in keep:
                db.delete(row)
                deleted += 1
    db.flush()
    kb_repo.bump_version(db, shop_id)
    audit(
        db,
        actor,
        "kb.import",
        "shop",
        shop_id,
        now=now,
        shop_id=shop_id,
        mode=mode,
        created=created,
        updated=updated,
        deleted=deleted,
    )
    return {
        "created": created,
        "updated": updated,
        "deleted": deleted,
        "entries": len(kb_repo.entry_rows(db, shop_id)),
    }


def _kb_error(exc: KBFormatError) -> ApiError:
    return ApiError(422, "invalid_kb", f"line {exc.line}: {exc.reason}")


@router.post(
    "/shops/{shop_id}/kb/import",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {NDJSON: {"schema": {"type": "string"}}},
            "description": "CONTRACTS §4 knowledge-base lines; all or nothing",
        }
    },
)
async def import_kb(
    shop_id: int,
    request: Request,
    actor: CurrentActor,
    db: DB,
    clock: Clock,
    mode: Literal["merge", "replace"] = "merge",
) -> dict[str, Any]:
    """merge: add new ids, update existing ones (statistics kept); replace: also delete the
    entries the file does not list. A malformed line is a 422 naming it; nothing changes."""
    raw = await request.body()
    return await run_in_threadpool(_import, db, actor, shop_id, raw, mode, clock())


@router.get(
    "/shops/{shop_id}/kb/export",
    response_class=Response,
    responses={200: {"content": {NDJSON: {}}}},
)
def export_kb(shop_id: int, actor: CurrentActor, db: DB, clock: Clock) -> Response:
    _team_shop(db, actor, shop_id, clock())
    entries = [kb_repo.to_entry(r) for r in kb_repo.entry_rows(db, shop_id)]
    return Response(
        dump_kb(entries),
        media_type=NDJSON,
        headers={"Content-Disposition": f'attachment; filename="kb-shop-{shop_id}.jsonl"'},
    )


# --- greeting and FAQ cards (KB-4) ------------------------------------------------------------


class CardsIn(BaseModel):
    greeting: str | None = Field(default=None, max_length=2000)
    cards: list[str] = Field(default_factory=list, max_length=MAX_CARDS)


def _cards_settings(db: Session, shop: Shop) -> dict[str, Any]:
    return {
        "greeting": shop.greeting,
        "cards": kb_repo.card_keys(db, shop.id),
        "max_cards": MAX_CARDS,
        "chatbot_enabled": shop.chatbot_enabled,
    }


@router.get("/shops/{shop_id}/kb/cards")
def get_cards_settings(shop_id: int, actor: CurrentActor, db: DB, clock: Clock) -> dict[str, Any]:
    return _cards_settings(db, _team_shop(db, actor, shop_id, clock()))


@router.put("/shops/{shop_id}/kb/cards")
def put_cards_settings(
    shop_id: int, body: CardsIn, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    now = clock()
    shop = _manager_shop(db, actor, shop_id, now)
    rows: list[KBEntry] = []
    for key in dict.fromkeys(body.cards):
        row = kb_repo.entry_row(db, shop_id, key)
        if row is None:
            raise ApiError(422, "unknown_entry", f"the KB has no entry {key!r}")
        rows.append(row)
    kb_repo.set_cards(db, shop_id, rows)
    if body.greeting is not None:
        shop.greeting = body.greeting
    audit(
        db,
        actor,
        "kb.cards",
        "shop",
        shop_id,
        now=now,
        shop_id=shop_id,
        cards=[r.key for r in rows],
        greeting=body.greeting is not None,
    )
    db.flush()
    return _cards_settings(db, shop)


def _buyer_language(db: Session, conv: Conversation, shop: Shop) -> str:
    """CHAT-7: the listing language of the product the chat is about, else the shop's."""
    if conv.product_id is not None:
        product = db.get(Product, conv.product_id)
        if product is not None and product.language:
            return kb_repo.preset_languages(product.language)[0]
    return kb_repo.shop_language(shop)


@router.get("/conversations/{conversation_id}/cards")
def conversation_cards(
    conversation_id: int, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """What a buyer who opens the chat sees: the greeting and the FAQ cards (KB-4)."""
    actor.require_scope("chat:read")
    now = clock()
    conv = get_conversation(db, actor, conversation_id)
    shop = db.get(Shop, conv.shop_id)
    assert shop is not None
    kb_repo.ensure_kb(db, shop, now)
    lang = _buyer_language(db, conv, shop)
    entries = [kb_repo.to_entry(r) for r in kb_repo.entry_rows(db, shop.id)]
    picked = kb_repo.card_keys(db, shop.id)
    cards = select_cards(entries, picked, lang=None if picked else lang)
    if actor.is_buyer:  # impressions count only for buyers (KB-4 statistics)
        kb_repo.bump_many(db, shop.id, [e.id for e in cards], shown=1)
    return {
        "greeting": greeting_text(shop.greeting, entries, lang),
        "lang": lang,
        "cards": [{"entry": e.id, "question": e.question, "category": e.category} for e in cards],
    }


class TapIn(BaseModel):
    client_id: str | None = Field(default=None, min_length=1, max_length=64)


def _tap(
    request: Request, conversation_id: int, entry_key: str, body: TapIn
) -> tuple[dict[str, Any], list[int], bool]:
    app = request.app
    now = app.state.clock()
    with app.state.sessions() as db, db.begin():
        actor = resolve_actor(db, request, now)
        actor.require_scope("chat:write")
        conv = get_conversation(db, actor, conversation_id)
        if not (actor.is_buyer and conv.buyer_id == actor.user_id):
            raise Forbidden("only the buyer of this conversation taps its FAQ cards")
        shop = db.get(Shop, conv.shop_id)
        assert shop is not None
        kb_repo.ensure_kb(db, shop, now)
        row = kb_repo.entry_row(db, shop.id, entry_key)
        if row is None or not row.enabled:
            raise NotFound("entry")
        client_id = body.client_id or f"card-{uuid.uuid4().hex}"
        draft = service.Draft(client_id=client_id, kind="text", text=row.question)
        msg, created = service.post_message(
            db,
            actor,
            conv,
            draft,
            now,
            max_chars=app.state.settings.max_message_chars,
            screener=None,  # the platform's own preset/seller text, not the buyer's words
        )
        if not created:  # a replay of the same tap: answer with what was stored
            answer = db.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conv.id,
                    Message.seq > msg.seq,
                    Message.sender == "bot",
                )
                .order_by(Message.seq)
                .limit(1)
            ).first()
            out = {
                "question": service.message_json(msg, db.get(User, actor.user_id)),
                "answer": service.message_json(answer) if answer else None,
            }
            return out, [], False
        msg.payload = {"kb": {"entry": row.key, "via": "card"}}
        # rule KB-4: the card's answer is sent automatically (a bot message, EV-3; KB-6).
        bot = service.post_automatic(
            db,
            conv,
            row.answer,
            now,
            sender="bot",
            payload={"kb": {"entry": row.key, "via": "card"}},
        )
        kb_repo.bump_stats(db, shop.id, row.key, tapped=1, auto_answered=1)
        assign_waiting(db, conv.shop_id, now, app.state.settings.agent_capacity)
        db.flush()
        out = {
            "question": service.message_json(msg, db.get(User, actor.user_id)),
            "answer": service.message_json(bot),
        }
        return out, service.audience(db, conv), True


@router.post("/conversations/{conversation_id}/cards/{entry_key}/tap", status_code=201)
async def tap_card(
    conversation_id: int,
    entry_key: str,
    request: Request,
    response: Response,
    body: TapIn | None = None,
) -> dict[str, Any]:
    """The buyer tapped a card: the question is stored as the buyer's message and the card's
    answer as an automatic reply; both are pushed on the WebSocket."""

    async def tap_and_publish() -> tuple[dict[str, Any], bool]:
        out, users, created = await run_in_threadpool(
            _tap, request, conversation_id, entry_key, body or TapIn()
        )
        if created:
            for data in (out["question"], out["answer"]):
                frame = {"type": "message", "conversation": conversation_id, "message": data}
                await request.app.state.broker.publish(users, frame)
        return out, created

    # Between two send batches, so the conversation's pushes stay in seq order.
    out, created = await conversations.send_committer(request.app).exclusive(tap_and_publish)
    if not created:
        response.status_code = 200
    return out


# --- assisted reply (KB-5, TEAM-3) ------------------------------------------------------------


def _latest_buyer_message(db: Session, conv: Conversation) -> Message | None:
    return db.scalars(
        select(Message)
        .where(Message.conversation_id == conv.id, Message.sender == "buyer", Message.text != "")
        .order_by(Message.seq.desc())
        .limit(1)
    ).first()


def _team_conversation(db: Session, actor: Actor, conversation_id: int) -> Conversation:
    actor.require_scope("chat:read")
    conv = get_conversation(db, actor, conversation_id)
    if actor.is_buyer:
        raise Forbidden("assisted replies are for the shop's team")
    actor.require_shop_role(conv.shop_id)
    return conv


def _suggestions(
    request: Request, db: Session, conv: Conversation, now: datetime
) -> tuple[Message | None, list[dict[str, Any]]]:
    shop = db.get(Shop, conv.shop_id)
    assert shop is not None
    matcher = chatbot.matcher_for(request.app.state, db, shop, now)
    latest = _latest_buyer_message(db, conv)
    if latest is None:
        return None, []
    rows = {r.key: r for r in kb_repo.entry_rows(db, shop.id)}
    stats = {k: kb_repo.stats_of(r) for k, r in rows.items()}
    out = []
    for s in suggest(matcher, latest.text, stats, top=3):
        row = rows.get(s.entry)
        if row is None:  # deleted since the matcher was built
            continue
        out.append(
            {
                "entry": s.entry,
                "question": row.question,
                "answer": s.answer,
                "category": row.category,
                "score": round(s.score, 4),
                "rank_score": round(s.rank_score, 4),
            }
        )
    return latest, out


@router.get("/conversations/{conversation_id}/suggestions")
def suggestions(
    conversation_id: int, request: Request, actor: CurrentActor, db: DB, clock: Clock
) -> dict[str, Any]:
    """Top 3 answers for the buyer's latest message, whatever their confidence (KB-5)."""
    conv = _team_conversation(db, actor, conversation_id)
    latest, out = _suggestions(request, db, conv, clock())
    return {
        "message": None
        if latest is None
        else {"id": latest.id, "seq": latest.seq, "text": latest.text},
        "suggestions": out,
    }


class ChosenIn(BaseModel):
    shown: list[str] | None = Field(default=None, max_length=10)


@router.post("/conversations/{conversation_id}/suggestions/{entry_key}/chosen")
def suggestion_chosen(
    conversation_id: int,
    entry_key: str,
    request: Request,
    actor: CurrentActor,
    db: DB,
    clock: Clock,
    body: ChosenIn | None = None,
) -> dict[str, Any]:
    """The agent used a suggestion: every shown one counts `shown`, this one `tapped` too,
    which moves future rankings (KB-5; `shopdesk.knowledge.assist.record_choice`)."""
    now = clock()
    conv = _team_conversation(db, actor, conversation_id)
    row = _entry(db, conv.shop_id, entry_key)
    shown = body.shown if body is not None and body.shown is not None else None
    if shown is None:
        shown = [s["entry"] for s in _suggestions(request, db, conv, now)[1]]
    known = {r.key: r for r in kb_repo.entry_rows(db, conv.shop_id)}
    shown = [k for k in dict.fromkeys(shown) if k in known]
    if row.key not in shown:
        shown.append(row.key)
    before = {k: kb_repo.stats_of(known[k]) for k in shown}
    after = record_choice(before, shown, row.key)
    for key in shown:
        deltas = {
            name: getattr(after[key], name) - getattr(before[key], name)
            for name in ("shown", "tapped")
        }
        kb_repo.bump_stats(db, conv.shop_id, key, **deltas)
    audit(
        db,
        actor,
        "kb.suggestion.chosen",
        "conversation",
        conv.id,
        now=now,
        shop_id=conv.shop_id,
        entry=row.key,
        shown=shown,
    )
    db.flush()
    db.refresh(row)
    return {"entry": row.key, "shown": shown, "stats": kb_repo.entry_json(row)["stats"]}
