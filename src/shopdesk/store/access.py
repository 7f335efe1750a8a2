"""Who is asking, and what they may see: tenant isolation lives here and only here.

Every query for a tenant-owned row goes through these filters, so an endpoint cannot forget
one. A row the actor may not see is reported as missing (404), never as forbidden, so its
existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Text, false, select, true
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from shopdesk.store.models import (
    Appeal,
    Attachment,
    Conversation,
    Message,
    OfflineTicket,
    Order,
    Shop,
)
from shopdesk.store.models_casework import Case
from shopdesk.store.models_review import Review

SELLER_ROLES = ("owner", "admin", "agent")
MANAGER_ROLES = ("owner", "admin")

# Scopes an API token may carry (TEAM-4). A token never has more than its user's role allows.
ALL_SCOPES = ("chat:read", "chat:write", "shop:manage", "platform")


class NotFound(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Forbidden(Exception):
    def __init__(self, message: str, code: str = "forbidden") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    kind: str  # buyer | seller | staff
    shop_roles: dict[int, str] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset(ALL_SCOPES)
    token_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_buyer(self) -> bool:
        return self.kind == "buyer"

    def role_in(self, shop_id: int) -> str | None:
        return self.shop_roles.get(shop_id)

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this token lacks the scope '{scope}'", code="insufficient_scope")

    def require_shop_role(self, shop_id: int, roles: tuple[str, ...] = SELLER_ROLES) -> str:
        role = self.shop_roles.get(shop_id)
        if self.is_staff:
            return "staff"
        if role is None:
            raise NotFound("shop")
        if role not in roles:
            raise Forbidden(
                f"only the shop's {' or '.join(roles)} may do this; you are its {role}",
                code="role_forbidden",
            )
        return role


def default_scopes(kind: str) -> frozenset[str]:
    if kind == "staff":
        return frozenset(ALL_SCOPES)
    if kind == "seller":
        return frozenset({"chat:read", "chat:write", "shop:manage"})
    return frozenset({"chat:read", "chat:write"})


def conversation_filter(actor: Actor) -> ColumnElement[bool]:
    if actor.is_staff:
        return true()
    if actor.is_buyer:
        return Conversation.buyer_id == actor.user_id
    if actor.shop_roles:
        return Conversation.shop_id.in_(list(actor.shop_roles))
    return false()


def sees_conversation(actor: Actor, shop_id: int, buyer_id: int) -> bool:
    """`conversation_filter` applied to one conversation already read (the same rule, for a
    batch that reads its conversations in one query; tests hold the two to each other)."""
    if actor.is_staff:
        return True
    if actor.is_buyer:
        return buyer_id == actor.user_id
    return shop_id in actor.shop_roles


def shop_filter(actor: Actor) -> ColumnElement[bool]:
    """Shops are public storefronts for buyers; sellers see only their own shops."""
    if actor.is_staff or actor.is_buyer:
        return true()
    return Shop.id.in_(list(actor.shop_roles)) if actor.shop_roles else false()


def ticket_filter(actor: Actor) -> ColumnElement[bool]:
    if actor.is_staff:
        return true()
    if actor.is_buyer:
        return OfflineTicket.buyer_id == actor.user_id
    if actor.shop_roles:
        return OfflineTicket.shop_id.in_(list(actor.shop_roles))
    return false()


def case_filter(actor: Actor) -> ColumnElement[bool]:
    """Casework: buyers see their own cases, sellers their shops' cases, staff all."""
    if actor.is_staff:
        return true()
    if actor.is_buyer:
        return Case.buyer_id == actor.user_id
    if actor.shop_roles:
        return Case.shop_id.in_(list(actor.shop_roles))
    return false()


def order_filter(actor: Actor) -> ColumnElement[bool]:
    """Orders: a buyer's own, the shop's team their shops' orders, staff all."""
    if actor.is_staff:
        return true()
    if actor.is_buyer:
        return Order.buyer_id == actor.user_id
    if actor.shop_roles:
        return Order.shop_id.in_(list(actor.shop_roles))
    return false()


def visible_conversations(actor: Actor) -> Select[Conversation]:
    return select(Conversation).where(conversation_filter(actor))


def get_conversation(session: Session, actor: Actor, conversation_id: int) -> Conversation:
    conv = session.scalars(
        visible_conversations(actor).where(Conversation.id == conversation_id)
    ).first()
    if conv is None:
        raise NotFound("conversation")
    return conv


def get_shop(session: Session, actor: Actor, shop_id: int) -> Shop:
    shop = session.scalars(select(Shop).where(shop_filter(actor), Shop.id == shop_id)).first()
    if shop is None:
        raise NotFound("shop")
    return shop


def get_ticket(session: Session, actor: Actor, ticket_id: int) -> OfflineTicket:
    ticket = session.scalars(
        select(OfflineTicket).where(ticket_filter(actor), OfflineTicket.id == ticket_id)
    ).first()
    if ticket is None:
        raise NotFound("ticket")
    return ticket


def describe(actor: Actor) -> dict[str, Any]:
    return {
        "id": actor.user_id,
        "username": actor.username,
        "kind": actor.kind,
        "shops": [{"shop": s, "role": r} for s, r in sorted(actor.shop_roles.items())],
        "scopes": sorted(actor.scopes),
    }


def shop_rows_filter(actor: Actor, shop_column: Any) -> ColumnElement[bool]:
    """Rows owned by a shop (ledger entries, appeals, evaluations): its team and staff only."""
    if actor.is_staff:
        return true()
    if actor.shop_roles:
        return cast(ColumnElement[bool], shop_column.in_(list(actor.shop_roles)))
    return false()


def get_attachment(session: Session, actor: Actor, attachment_id: int) -> Attachment:
    """A stored file the actor may download; otherwise 404 exactly like a missing id.

    The uploader always may. Anyone else reaches a file only through a row that carries it
    and that they may see: a chat message of a visible conversation; an appeal's evidence
    (the shop's team and staff, like the appeal); a buyer-message report's evidence (staff:
    the report is the platform's review material, not the shop's); a case's files (whoever
    sees the case, `case_filter`: its buyer, its shop's team, staff). A file uploaded but
    never attached stays its uploader's alone, staff included.
    """
    att = session.get(Attachment, attachment_id)
    if att is None or not att.path:  # no path: evidence whose case step was refused
        raise NotFound("attachment")
    if att.owner_id == actor.user_id or _carried(session, actor, att.id):
        return att
    raise NotFound("attachment")


def _carried(session: Session, actor: Actor, att_id: int) -> bool:
    in_chat = select(Message.id).where(
        Message.attachment_id == att_id,
        Message.conversation_id.in_(select(Conversation.id).where(conversation_filter(actor))),
    )
    if session.scalars(in_chat.limit(1)).first() is not None:
        return True
    # JSON columns differ between SQLite and PostgreSQL; a text match on the id narrows the
    # rows portably and the parsed value decides (an id "12" also matches "123").
    needle = f"%{att_id}%"
    appeals = select(Appeal.evidence).where(
        shop_rows_filter(actor, Appeal.shop_id), sql_cast(Appeal.evidence, Text).like(needle)
    )
    if any(_lists(att_id, ev) for ev in session.scalars(appeals)):
        return True
    if actor.is_staff:
        reports = select(Review.evidence).where(
            Review.kind == "buyer_report", sql_cast(Review.evidence, Text).like(needle)
        )
        if any(_lists(att_id, ev) for ev in session.scalars(reports)):
            return True
    cases = select(Case.data).where(case_filter(actor), sql_cast(Case.data, Text).like(needle))
    return any(_mentions(data, str(att_id)) for data in session.scalars(cases))


def _lists(att_id: int, evidence: Any) -> bool:
    return isinstance(evidence, list) and any(
        type(x) is int and x == att_id for x in evidence
    )


def _mentions(data: Any, att_id: str) -> bool:
    """Whether the case data holds a file record (the engine's `Attachment`) with this id."""
    if isinstance(data, dict):
        if "media_type" in data and str(data.get("id")) == att_id:
            return True
        return any(_mentions(v, att_id) for v in data.values())
    if isinstance(data, list):
        return any(_mentions(v, att_id) for v in data)
    return False
