"""Casework on the server: cases in the database, the pure engine in between (issue 6).

Every change goes through :func:`open_case` or :func:`act` (or the timer handler): the engine
computes the new case, its timeline events and the deadlines to arm and cancel; this module
stores the case with an optimistic version check, appends the events, keeps the durable timers
(kind ``case_deadline``) equal to ``case.deadlines``, and notifies the parties — a ``platform``
message in the buyer's conversation with the shop when the case has one, and a WebSocket frame
after the transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from types import ModuleType
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from shopdesk.casework import aftersales, codec, complaints, disputes, force_majeure, tickets
from shopdesk.casework.business_days import BusinessCalendar
from shopdesk.casework.machine import (
    SYSTEM_ACTOR,
    CaseBase,
    Context,
    InvalidInput,
    Machine,
    Result,
    Role,
)
from shopdesk.casework.machine import Actor as CwActor
from shopdesk.casework.policy import CaseworkPolicy, load_policy
from shopdesk.casework.records import Attachment as CwAttachment
from shopdesk.chat import service as chat
from shopdesk.jobs import timers
from shopdesk.store.access import Actor, Forbidden, NotFound, case_filter
from shopdesk.store.accounts import audit
from shopdesk.store.models import (
    Attachment,
    Conversation,
    Membership,
    Message,
    Order,
    Product,
    Region,
    Shop,
    Timer,
)
from shopdesk.store.models_casework import Case, CaseEvent
from shopdesk.store.types import iso

log = logging.getLogger(__name__)

TIMER_KIND = "case_deadline"
Publisher = Callable[[list[int], dict[str, Any]], None]


@dataclass(frozen=True)
class Process:
    name: str
    module: ModuleType
    cls: type[CaseBase]
    title: str  # for people: "after-sales request"

    @property
    def machine(self) -> Machine[Any]:
        machine: Machine[Any] = self.module.MACHINE
        return machine


PROCESSES: dict[str, Process] = {
    p.name: p
    for p in (
        Process("aftersales", aftersales, aftersales.AfterSalesCase, "after-sales request"),
        Process("disputes", disputes, disputes.DisputeCase, "dispute"),
        Process("complaints", complaints, complaints.ComplaintCase, "complaint"),
        Process(
            "force_majeure", force_majeure, force_majeure.FMApplication, "force-majeure application"
        ),
        Process("tickets", tickets, tickets.Ticket, "ticket"),
    )
}

SHOP_ROLES = {"owner": Role.SELLER_OWNER, "admin": Role.SELLER_ADMIN, "agent": Role.SELLER_AGENT}


class CaseConflict(Exception):
    """The case changed since it was read (optimistic locking)."""


# ---------------------------------------------------------------- access and context


def get_case(session: Session, actor: Actor, case_id: int, *, lock: bool = False) -> Case:
    query = select(Case).where(case_filter(actor), Case.id == case_id)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFound("case")
    return row


@lru_cache(maxsize=1)
def policy() -> CaseworkPolicy:
    return load_policy()


@lru_cache(maxsize=64)
def _calendar(tz: str, country: str | None) -> BusinessCalendar:
    try:
        return BusinessCalendar.for_shop(tz, country, policy().calendar)
    except ValueError:  # unknown holidays for the country: weekends only
        return BusinessCalendar.for_shop(tz, None, policy().calendar)


def context_for(session: Session, shop_id: int | None) -> Context:
    tz, country = "UTC", None
    if shop_id is not None:
        shop = session.get(Shop, shop_id)
        if shop is not None:
            tz = shop.timezone
            region = session.get(Region, shop.region_id)
            country = region.country if region is not None else None
    return Context(policy(), _calendar(tz, country))


def engine_actor(actor: Actor, shop_id: int | None) -> CwActor:
    """Map a server actor to the engine's role for a case of ``shop_id``."""
    if actor.is_staff:
        return CwActor(Role.PLATFORM_STAFF, str(actor.user_id))
    if actor.is_buyer:
        return CwActor(Role.BUYER, str(actor.user_id))
    role = actor.role_in(shop_id) if shop_id is not None else None
    if role is None:
        raise NotFound("case")
    return CwActor(SHOP_ROLES[role], str(actor.user_id), str(shop_id))


def decode(row: Case) -> Any:
    return codec.from_data(PROCESSES[row.process].cls, row.data)


def _user_id(engine_id: str) -> int | None:
    return int(engine_id) if engine_id.isdigit() else None


# ---------------------------------------------------------------- persistence


def timer_key(case_id: int, name: str, due: datetime) -> str:
    return f"case:{case_id}:{name}:{int(due.timestamp())}"


@dataclass
class Outcome:
    row: Case
    case: Any
    opened: list[int] = field(default_factory=list)


def _sync_timers(
    session: Session,
    case_id: int,
    before: Sequence[Any],
    after: Sequence[Any],
    now: datetime,
    firing: str | None,
) -> None:
    """Keep the durable timers equal to ``case.deadlines`` (keyed by case, name and due)."""
    old = {timer_key(case_id, d.name, d.due) for d in before}
    new = {timer_key(case_id, d.name, d.due): d for d in after}
    for key in sorted(old - set(new)):
        if key != firing:
            timers.cancel(session, key, now)
    for key, d in sorted(new.items()):
        if key not in old:
            timers.arm(
                session,
                kind=TIMER_KIND,
                key=key,
                due_at=d.due,
                now=now,
                payload={"case": case_id, "deadline": d.name, "due": d.due.isoformat()},
            )


def _store(
    session: Session,
    row: Case,
    before: Any | None,
    result: Result[Any],
    now: datetime,
    actor_id: int | None,
    *,
    firing: str | None = None,
) -> None:
    new = result.case
    data = codec.to_data(new)
    if before is None:
        row.state, row.data, row.version, row.updated_at = new.state, data, new.version, now
    else:
        done = session.execute(
            update(Case)
            .where(Case.id == row.id, Case.version == before.version)
            .values(state=new.state, data=data, version=new.version, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(done, "rowcount", 1) != 1:
            raise CaseConflict(f"case {row.id} changed meanwhile; reload it and try again")
        session.refresh(row)
    for e in result.events:
        session.add(
            CaseEvent(
                case_id=row.id,
                at=e.at,
                actor_id=None if e.actor_role == "system" else actor_id,
                role=e.actor_role,
                action=e.action,
                from_state=e.from_state,
                to_state=e.to_state,
                rule=e.rule,
                data=codec.to_data(dict(e.detail)),
            )
        )
    _sync_timers(
        session, row.id, before.deadlines if before is not None else (), new.deadlines, now, firing
    )


# ---------------------------------------------------------------- notifications


PHRASES = {
    "open": "was opened",
    "accept": "was accepted by the seller",
    "reject": "was rejected",
    "complete": "was completed",
    "withdraw": "was withdrawn",
    "escalate": "was escalated to the platform",
    "decide": "was decided",
    "approve": "was approved",
    "resolve": "was resolved",
}


def notice_text(process: str, row: Case, action: str, state: str) -> str:
    title = PROCESSES[process].title
    what = PHRASES.get(action, f"— {action.replace('_', ' ')}")
    return f"Your {title} #{row.id} {what}; it is now {state.replace('_', ' ')}."


def queue_frame(
    session: Session, users: list[int], frame: dict[str, Any], publisher: Publisher | None
) -> None:
    if publisher is None or not users:
        return
    pending: list[tuple[list[int], dict[str, Any]]] = session.info.setdefault("casework_frames", [])
    pending.append((users, frame))
    if session.info.get("casework_listener"):
        return
    session.info["casework_listener"] = True

    def after_commit(s: Session) -> None:
        frames = s.info.pop("casework_frames", [])
        s.info.pop("casework_listener", None)
        for who, fr in frames:
            try:
                publisher(who, fr)
            except Exception:  # a broker hiccup must not fail a committed change
                log.exception("publishing a casework notification failed")

    def after_rollback(s: Session) -> None:
        s.info.pop("casework_frames", None)
        s.info.pop("casework_listener", None)

    event.listen(session, "after_commit", after_commit, once=True)
    event.listen(session, "after_rollback", after_rollback, once=True)


def notify(
    session: Session, row: Case, result: Result[Any], now: datetime, publisher: Publisher | None
) -> None:
    """A platform message in the case's conversation, or a `case` frame to its parties."""
    if not result.events or session.info.get("casework_quiet"):
        return
    last = result.events[-1]
    text = notice_text(row.process, row, last.action, row.state)
    payload = {
        "type": "case",
        "case": row.id,
        "process": row.process,
        "action": last.action,
        "state": row.state,
    }
    conv = session.get(Conversation, row.conversation_id) if row.conversation_id else None
    if conv is not None:
        msg = chat.post_automatic(session, conv, text, now, sender="platform", payload=payload)
        frame = {"type": "message", "conversation": conv.id, "message": chat.message_json(msg)}
        queue_frame(session, chat.audience(session, conv), frame, publisher)
        return
    users = {u for u in (row.buyer_id, row.opened_by_id) if u is not None}
    if row.shop_id is not None:
        users |= set(
            session.scalars(select(Membership.user_id).where(Membership.shop_id == row.shop_id))
        )
    queue_frame(session, sorted(users), {**payload, "text": text}, publisher)


def conversation_for(
    session: Session, buyer_id: int, shop_id: int, order_id: int | None, now: datetime
) -> Conversation:
    """The buyer's conversation with the shop (created when there is none yet)."""
    conv = session.scalars(
        select(Conversation).where(
            Conversation.buyer_id == buyer_id, Conversation.shop_id == shop_id
        )
    ).first()
    if conv is None:
        conv = Conversation(
            shop_id=shop_id, buyer_id=buyer_id, order_id=order_id, created_at=now, last_seq=0
        )
        session.add(conv)
        session.flush()
    return conv


# ---------------------------------------------------------------- opening


def _new_row(session: Session, process: str, now: datetime, **cols: Any) -> Case:
    row = Case(
        process=process, state="new", data={}, version=0, created_at=now, updated_at=now, **cols
    )
    session.add(row)
    session.flush()
    return row


def _finish_open(
    session: Session,
    row: Case,
    result: Result[Any],
    now: datetime,
    actor: Actor | None,
    publisher: Publisher | None,
) -> Outcome:
    _store(session, row, None, result, now, actor.user_id if actor else None)
    audit(
        session,
        actor,
        f"case.open.{row.process}",
        "case",
        row.id,
        now=now,
        shop_id=row.shop_id,
        state=row.state,
    )
    notify(session, row, result, now, publisher)
    return Outcome(row, result.case)


def attachment_of(
    session: Session, actor: Actor, attachment_id: Any, file_name: str | None = None
) -> CwAttachment:
    """An uploaded file of the caller, as the engine describes it (422 when not theirs)."""
    att = session.get(Attachment, attachment_id) if isinstance(attachment_id, int) else None
    if att is None or att.owner_id != actor.user_id:
        raise InvalidInput("an attachment is not one of your uploads")
    ext = att.content_type.rsplit("/", 1)[-1]
    return CwAttachment(
        str(att.id), file_name or f"attachment-{att.id}.{ext}", att.content_type, att.sha256
    )


def terms_of(snapshot: Mapping[str, Any]) -> aftersales.Terms:
    """The order-time terms (AS-5); keys missing in the snapshot count as 0/False and are
    floored by the platform's terms when the request is judged."""
    ret = int(snapshot.get("return_window_days", snapshot.get("return_days", 0)) or 0)
    return aftersales.Terms(
        cancellation_before_shipment=bool(snapshot.get("cancellation_before_shipment", True)),
        return_window_days=ret,
        refund_window_days=int(snapshot.get("refund_window_days", ret) or 0),
        exchange_window_days=int(snapshot.get("exchange_window_days", ret) or 0),
        repair_window_days=int(snapshot.get("repair_window_days", 0) or 0),
        seller_pays_return_shipping_for_defects=bool(
            snapshot.get("seller_pays_return_shipping_for_defects", True)
        ),
    )


# Orders written without the instants (by an importer, say) still count as shipped or
# delivered by their status, from the order time: cancelling a shipped parcel stays refused.
SHIPPED = {"shipped", "delivered", "completed"}
DELIVERED = {"delivered", "completed"}


def order_snapshot(session: Session, order: Order) -> aftersales.OrderSnapshot:
    """The order as the after-sales checks see it (AS-5 terms, AS-6 shipped/delivered)."""
    product = session.get(Product, order.product_id)
    shipped = order.shipped_at or (order.placed_at if order.status in SHIPPED else None)
    delivered = order.delivered_at or (order.placed_at if order.status in DELIVERED else None)
    return aftersales.OrderSnapshot(
        order_id=str(order.id),
        shop_id=str(order.shop_id),
        buyer_id=str(order.buyer_id),
        placed_at=order.placed_at,
        amount_minor=order.total_cents,
        currency=product.currency if product else "USD",
        terms=terms_of(order.terms_snapshot or {}),
        shipped_at=shipped,
        delivered_at=delivered,
    )


def buyer_order(session: Session, actor: Actor, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None or not actor.is_buyer or order.buyer_id != actor.user_id:
        raise NotFound("order")
    return order


def open_aftersales(
    session: Session,
    actor: Actor,
    *,
    order_id: int,
    kind: str,
    reason: str,
    now: datetime,
    description: str = "",
    attachments: Sequence[int] = (),
    requested_amount_minor: int | None = None,
    publisher: Publisher | None = None,
) -> Outcome:
    if not actor.is_buyer:
        raise Forbidden(
            "only the order's buyer opens an after-sales request (AS-2)", code="buyers_only"
        )
    order = buyer_order(session, actor, order_id)
    try:
        kind_ = aftersales.AfterSalesKind(kind)
    except ValueError:
        raise InvalidInput(
            f"kind must be one of {[k.value for k in aftersales.AfterSalesKind]}"
        ) from None
    files = tuple(attachment_of(session, actor, a) for a in attachments)
    conv = conversation_for(session, order.buyer_id, order.shop_id, order.id, now)
    row = _new_row(
        session,
        "aftersales",
        now,
        shop_id=order.shop_id,
        buyer_id=order.buyer_id,
        opened_by_id=actor.user_id,
        order_id=order.id,
        conversation_id=conv.id,
    )
    result = aftersales.open_request(
        case_id=str(row.id),
        order=order_snapshot(session, order),
        kind=kind_,
        reason=reason,
        actor=engine_actor(actor, order.shop_id),
        now=now,
        ctx=context_for(session, order.shop_id),
        description=description,
        attachments=files,
        requested_amount_minor=requested_amount_minor,
    )
    return _finish_open(session, row, result, now, actor, publisher)


def _chat_material(session: Session, conversation_id: int | None) -> list[disputes.ChatMaterial]:
    if conversation_id is None:
        return []
    msgs = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.sender.in_(("buyer", "agent")))
        .order_by(Message.seq.desc())
        .limit(100)
    )
    out = []
    for m in msgs:
        att = None
        if m.attachment_id is not None:
            a = session.get(Attachment, m.attachment_id)
            if a is not None:
                ext = a.content_type.rsplit("/", 1)[-1]
                att = CwAttachment(str(a.id), f"attachment-{a.id}.{ext}", a.content_type, a.sha256)
        out.append(
            disputes.ChatMaterial(
                str(m.id), "buyer" if m.sender == "buyer" else "seller", m.at, m.text or None, att
            )
        )
    return out


def open_dispute(
    session: Session,
    actor: Actor | None,
    *,
    now: datetime,
    claim: str,
    after_sales_id: int | None = None,
    order_id: int | None = None,
    kind: str = "after_sales",
    publisher: Publisher | None = None,
) -> Outcome:
    """A buyer escalates (DSP-1) or reports no service (DSP-3); ``actor`` None: the system
    opens the dispute of an escalated after-sales request (AS-D1)."""
    if actor is not None and not actor.is_buyer:
        raise Forbidden("only the buyer opens a dispute (DSP-1)", code="buyers_only")
    try:
        kind_ = disputes.DisputeKind(kind)
    except ValueError:
        raise InvalidInput(
            f"kind must be one of {[k.value for k in disputes.DisputeKind]}"
        ) from None
    first: aftersales.AfterSalesCase | None = None
    parent: Case | None = None
    if after_sales_id is not None:
        parent = (
            session.get(Case, after_sales_id)
            if actor is None
            else get_case(session, actor, after_sales_id)
        )
        if parent is None or parent.process != "aftersales":
            raise NotFound("case")
        first = decode(parent)
        order = session.get(Order, parent.order_id)
        if order is None:
            raise NotFound("order")
    elif order_id is not None and actor is not None:
        order = buyer_order(session, actor, order_id)
    else:
        raise InvalidInput("give the escalated after-sales request or the order")
    if kind_ is disputes.DisputeKind.AFTER_SALES and first is None:
        raise InvalidInput("an after_sales dispute comes from an escalated after-sales request")
    conv = conversation_for(session, order.buyer_id, order.shop_id, order.id, now)
    row = _new_row(
        session,
        "disputes",
        now,
        shop_id=order.shop_id,
        buyer_id=order.buyer_id,
        opened_by_id=actor.user_id if actor else None,
        order_id=order.id,
        conversation_id=conv.id,
        parent_id=parent.id if parent else None,
    )
    result = disputes.open_dispute(
        case_id=str(row.id),
        actor=engine_actor(actor, order.shop_id) if actor else SYSTEM_ACTOR,
        now=now,
        ctx=context_for(session, order.shop_id),
        claim=claim,
        order_id=str(order.id),
        shop_id=str(order.shop_id),
        order_amount_minor=order.total_cents,
        kind=kind_,
        first_request=first,
        chat=_chat_material(session, conv.id),
    )
    return _finish_open(session, row, result, now, actor, publisher)


def open_complaint(
    session: Session,
    actor: Actor,
    *,
    now: datetime,
    subject: str,
    text: str,
    channel: str = "in_app",
    shop_id: int | None = None,
    about_shop_id: int | None = None,
    about_order_id: int | None = None,
    complainant_id: int | None = None,
    publisher: Publisher | None = None,
) -> Outcome:
    """CMP-1: a buyer or a seller (for ``shop_id``) complains; staff record one on behalf of
    ``complainant_id`` (channel phone, e-mail, …)."""
    try:
        channel_ = complaints.Channel(channel)
    except ValueError:
        raise InvalidInput(
            f"channel must be one of {[c.value for c in complaints.Channel]}"
        ) from None
    recorded_by: CwActor | None = None
    if actor.is_staff:
        if complainant_id is None:
            raise InvalidInput("staff record a complaint for a complainant (user id)")
        from shopdesk.store.accounts import actor_for
        from shopdesk.store.models import User

        user = session.get(User, complainant_id)
        if user is None or user.kind == "staff":
            raise InvalidInput("the complainant is a buyer or a seller")
        who = actor_for(session, user)
        recorded_by = engine_actor(actor, None)
    else:
        who = actor
    if who.is_buyer:
        complainant = engine_actor(who, None)
        shop_col, buyer_col = None, who.user_id
    else:
        shop = shop_id if shop_id is not None else min(who.shop_roles, default=None)
        if shop is None or who.role_in(shop) is None:
            raise NotFound("shop")
        complainant = engine_actor(who, shop)
        shop_col, buyer_col = shop, None
    if about_shop_id is not None and session.get(Shop, about_shop_id) is None:
        raise NotFound("shop")
    if about_order_id is not None:
        order = session.get(Order, about_order_id)
        if (
            order is None
            or (who.is_buyer and order.buyer_id != who.user_id)
            or (not who.is_buyer and order.shop_id != shop_col)
        ):
            raise NotFound("order")
    row = _new_row(
        session,
        "complaints",
        now,
        shop_id=shop_col,
        buyer_id=buyer_col,
        opened_by_id=actor.user_id,
        order_id=about_order_id,
    )
    result = complaints.open_complaint(
        case_id=str(row.id),
        complainant=complainant,
        channel=channel_,
        subject=subject,
        text=text,
        now=now,
        ctx=context_for(session, shop_col),
        about_shop_id=str(about_shop_id) if about_shop_id is not None else None,
        about_order_id=str(about_order_id) if about_order_id is not None else None,
        recorded_by=recorded_by,
    )
    return _finish_open(session, row, result, now, actor, publisher)


def open_ticket(
    session: Session,
    actor: Actor,
    *,
    now: datetime,
    kind: str,
    subject: str,
    body: str,
    shop_id: int | None = None,
    priority: str = "normal",
    attachments: Sequence[int] = (),
    publisher: Publisher | None = None,
) -> Outcome:
    try:
        kind_ = tickets.TicketKind(kind)
    except ValueError:
        raise InvalidInput(f"kind must be one of {[k.value for k in tickets.TicketKind]}") from None
    if actor.is_staff:
        raise Forbidden("platform staff handle tickets; they do not open them", code="staff")
    conv_id: int | None = None
    if actor.is_buyer:
        if shop_id is not None and session.get(Shop, shop_id) is None:
            raise NotFound("shop")
        if kind_ is tickets.TicketKind.OFFLINE_SHOP and shop_id is not None:
            conv_id = conversation_for(session, actor.user_id, shop_id, None, now).id
        elif kind_ is not tickets.TicketKind.OFFLINE_SHOP:
            shop_id = None
    else:
        shop_id = shop_id if shop_id is not None else min(actor.shop_roles, default=None)
        if shop_id is None or actor.role_in(shop_id) is None:
            raise NotFound("shop")
    files = tuple(attachment_of(session, actor, a) for a in attachments)
    row = _new_row(
        session,
        "tickets",
        now,
        shop_id=shop_id,
        buyer_id=actor.user_id if actor.is_buyer else None,
        opened_by_id=actor.user_id,
        conversation_id=conv_id,
    )
    result = tickets.open_ticket(
        case_id=str(row.id),
        kind=kind_,
        actor=engine_actor(actor, shop_id),
        now=now,
        ctx=context_for(session, shop_id),
        subject=subject,
        body=body,
        shop_id=str(shop_id) if shop_id is not None else None,
        priority=priority,
        attachments=files,
    )
    return _finish_open(session, row, result, now, actor, publisher)


def _instant(raw: Any, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{what}: not an ISO 8601 instant") from None
    if value.tzinfo is None:
        raise InvalidInput(f"{what}: give the time zone (e.g. Z)")
    return value


def _date(raw: Any, what: str) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput(f"{what}: not an ISO date") from None


def submit_force_majeure(
    session: Session,
    actor: Actor,
    *,
    now: datetime,
    ticket_id: int,
    shipping_address: str,
    reason: str,
    proofs: Sequence[Mapping[str, Any]],
    affected_orders: Sequence[Mapping[str, Any]],
    expected_recovery: str,
    publisher: Publisher | None = None,
) -> Outcome:
    ticket_row = get_case(session, actor, ticket_id)
    if ticket_row.process != "tickets":
        raise NotFound("case")
    if actor.is_buyer or actor.is_staff:
        raise Forbidden(
            "the shop owner or an admin applies for force majeure (FM-3)", code="role_forbidden"
        )
    shop_id = ticket_row.shop_id
    ticket = decode(ticket_row)
    docs = []
    for i, p in enumerate(proofs):
        att = attachment_of(session, actor, p.get("attachment"), p.get("file_name"))
        docs.append(
            force_majeure.ProofDocument(
                att,
                str(p.get("declared_kind", "")),
                p.get("issuer"),
                _date(p.get("period_start"), f"proofs[{i}].period_start"),
                _date(p.get("period_end"), f"proofs[{i}].period_end"),
            )
        )
    orders = []
    for i, o in enumerate(affected_orders):
        order = session.get(Order, o.get("order")) if isinstance(o.get("order"), int) else None
        if order is None or order.shop_id != shop_id:
            raise InvalidInput(f"affected_orders[{i}]: not an order of the shop")
        orders.append(
            force_majeure.AffectedOrder(
                str(order.id), _instant(o.get("ship_by"), f"affected_orders[{i}].ship_by")
            )
        )
    recovery = _date(expected_recovery, "expected_recovery")
    assert recovery is not None
    previous = [
        decode(r)
        for r in session.scalars(
            select(Case).where(Case.process == "force_majeure", Case.shop_id == shop_id)
        )
    ]
    from shopdesk.store import adjusted_regions  # it builds on this module

    code, country = adjusted_regions.shop_codes(session, shop_id)
    row = _new_row(
        session,
        "force_majeure",
        now,
        shop_id=shop_id,
        opened_by_id=actor.user_id,
        parent_id=ticket_row.id,
    )
    result = force_majeure.submit_application(
        case_id=str(row.id),
        actor=engine_actor(actor, shop_id),
        ticket=ticket,
        now=now,
        ctx=context_for(session, shop_id),
        shipping_address=shipping_address,
        reason=reason,
        proofs=docs,
        affected_orders=orders,
        expected_recovery=recovery,
        shop_region=code,
        shop_country=country,
        regions=adjusted_regions.regions_for(session, shop_id),
        previous=previous,
    )
    outcome = _finish_open(session, row, result, now, actor, publisher)
    return outcome


# ---------------------------------------------------------------- acting


def engine_params(
    session: Session, actor: Actor, process: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """JSON params → what the engine expects (files, proposals)."""
    out = dict(params)
    if "attachment" in out and out["attachment"] is not None:
        out["attachment"] = attachment_of(
            session, actor, out["attachment"], out.pop("file_name", None)
        )
    if process == "aftersales" and isinstance(out.get("proposal"), Mapping):
        p = out["proposal"]
        try:
            kind = aftersales.AfterSalesKind(p.get("kind"))
        except ValueError:
            raise InvalidInput(
                f"proposal.kind must be one of {[k.value for k in aftersales.AfterSalesKind]}"
            ) from None
        amount = p.get("amount_minor")
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
            raise InvalidInput("proposal.amount_minor must be an integer")
        out["proposal"] = aftersales.Proposal(kind, str(p.get("text", "")), amount)
    for key in ("deadline", "due"):  # only the timer runner passes these
        out.pop(key, None)
    return out


def act(
    session: Session,
    actor: Actor,
    case_id: int,
    action: str,
    params: Mapping[str, Any],
    now: datetime,
    *,
    expected_version: int | None = None,
    publisher: Publisher | None = None,
) -> Outcome:
    row = get_case(session, actor, case_id, lock=True)
    if expected_version is not None and expected_version != row.version:
        raise CaseConflict(
            f"case {row.id} is at version {row.version}, not {expected_version}; reload it"
        )
    proc = PROCESSES[row.process]
    before = decode(row)
    ctx = context_for(session, row.shop_id)
    result = proc.module.apply(
        before,
        action,
        engine_actor(actor, row.shop_id),
        now,
        ctx,
        engine_params(session, actor, row.process, params),
    )
    _store(session, row, before, result, now, actor.user_id)
    audit(
        session,
        actor,
        f"case.{action}",
        "case",
        row.id,
        now=now,
        shop_id=row.shop_id,
        process=row.process,
        state=row.state,
    )
    notify(session, row, result, now, publisher)
    outcome = Outcome(row, result.case)
    _follow_up(session, row, before, result, now, actor, outcome, publisher)
    return outcome


def _follow_up(
    session: Session,
    row: Case,
    before: Any,
    result: Result[Any],
    now: datetime,
    actor: Actor | None,
    outcome: Outcome,
    publisher: Publisher | None,
) -> None:
    """What the server does after some transitions: open the dispute of an escalated
    request (DSP-1, AS-D1), resolve the ticket of a decided force-majeure application."""
    new = result.case
    if row.process == "aftersales" and new.state == "escalated" and before.state != "escalated":
        by_buyer = actor is not None and actor.is_buyer
        last = result.events[-1] if result.events else None
        claim = (last.detail.get("reason") if last else None) or new.buyer_reason or new.reason
        dispute = open_dispute(
            session,
            actor if by_buyer else None,
            now=now,
            claim=str(claim),
            after_sales_id=row.id,
            publisher=publisher,
        )
        outcome.opened.append(dispute.row.id)
    if (
        row.process == "force_majeure"
        and before.state == "submitted"
        and new.state in ("approved", "rejected")
        and row.parent_id is not None
    ):
        ticket_row = session.get(Case, row.parent_id, with_for_update=True)
        if ticket_row is None or ticket_row.state not in (
            "open",
            "in_progress",
            "waiting_requester",
        ):
            return
        staff = CwActor(Role.PLATFORM_STAFF, str(actor.user_id) if actor else "system")
        ctx = context_for(session, ticket_row.shop_id)
        tk = decode(ticket_row)
        if tk.state == "open":
            r1 = tickets.apply(tk, "take", staff, now, ctx, {})
            _store(session, ticket_row, tk, r1, now, actor.user_id if actor else None)
            tk = r1.case
        r2 = tickets.apply(
            tk,
            "resolve",
            staff,
            now,
            ctx,
            {
                "resolution": f"Force-majeure application #{row.id} {new.state}.",
                "linked_case": str(row.id),
            },
        )
        _store(session, ticket_row, tk, r2, now, actor.user_id if actor else None)
        notify(session, ticket_row, r2, now, publisher)


# ---------------------------------------------------------------- deadlines


def fire_deadline(
    session: Session, timer: Timer, now: datetime, publisher: Publisher | None = None
) -> None:
    """Timer handler: a case deadline is due. Stale timers (moved, consumed) do nothing."""
    payload = timer.payload or {}
    row = session.scalars(
        select(Case).where(Case.id == payload.get("case")).with_for_update()
    ).first()
    if row is None:
        return
    case = decode(row)
    name = str(payload.get("deadline"))
    dl = case.deadline(name)
    if dl is None or timer_key(row.id, name, dl.due) != timer.key:
        return
    proc = PROCESSES[row.process]
    result = proc.module.fire(case, name, now, context_for(session, row.shop_id))
    if not result.events:
        return
    _store(session, row, case, result, now, None, firing=timer.key)
    audit(
        session,
        None,
        f"case.{result.events[-1].action}",
        "case",
        row.id,
        now=now,
        shop_id=row.shop_id,
        process=row.process,
        state=row.state,
        deadline=name,
    )
    notify(session, row, result, now, publisher)
    _follow_up(session, row, case, result, now, None, Outcome(row, result.case), publisher)


def deadline_handler(publisher: Publisher | None = None) -> timers.Handler:
    def handle(session: Session, timer: Timer, now: datetime) -> None:
        fire_deadline(session, timer, now, publisher)

    return handle


def broker_publisher(get_broker: Callable[[], Any]) -> Publisher:
    """Publish from a worker thread (request handlers, the timer loop) on the app's loop."""
    import anyio.from_thread

    def publish(users: list[int], frame: dict[str, Any]) -> None:
        try:
            anyio.from_thread.run(get_broker().publish, users, frame)
        except RuntimeError:  # not in a worker thread of the event loop (a test's runner)
            log.debug("no event loop to publish casework frame %s", frame.get("type"))

    return publish


# ---------------------------------------------------------------- output


def case_json(row: Case, *, full: bool = True) -> dict[str, Any]:
    proc = PROCESSES[row.process]
    data = row.data or {}
    out: dict[str, Any] = {
        "id": row.id,
        "process": row.process,
        "state": row.state,
        "shop": row.shop_id,
        "buyer": row.buyer_id,
        "order": row.order_id,
        "conversation": row.conversation_id,
        "parent": row.parent_id,
        "version": row.version,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "deadlines": data.get("deadlines", []),
        "allowed": [
            {"action": a.action, "roles": list(a.roles), "guard": a.guard}
            for a in proc.machine.allowed(row.state)
        ],
    }
    if full:
        out["data"] = data
    return out


def event_json(e: CaseEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": iso(e.at),
        "actor": e.actor_id,
        "role": e.role,
        "action": e.action,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "rule": e.rule,
        "detail": e.data,
    }


def timeline(session: Session, row: Case) -> list[CaseEvent]:
    return list(
        session.scalars(select(CaseEvent).where(CaseEvent.case_id == row.id).order_by(CaseEvent.id))
    )
