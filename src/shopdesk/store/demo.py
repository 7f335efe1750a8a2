"""`shopdesk demo`: a believable marketplace with five weeks of chat history (CONTRACTS §6).

Three shops in three time zones (Los Angeles, London, Shanghai), each with an owner, an admin
and two agents; platform staff; thirty contract buyers plus occasional shoppers. Every account
has the password `demo`. The history is deterministic for a given `now` and exercises the
evaluation semantics (SPEC §13): late and unanswered sessions, greetings before substantive
replies, chatbot answers and handoffs, closes, ratings, weekend gaps, a vacation and holidays.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shopdesk.store.accounts import hash_password
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.demo_data import (
    BUYERS,
    EXTRA_BUYERS,
    PASSWORD,
    REGIONS,
    SHOPS,
    STAFF,
    extra_buyer_name,
    holidays,
)
from shopdesk.store.demo_history import (
    ConversationPlan,
    ShopContext,
    plan_conversation,
)
from shopdesk.store.models import (
    BusinessHours,
    ChatbotSwitch,
    ClosedDate,
    Conversation,
    ConversationEvent,
    Membership,
    Message,
    OfflineTicket,
    Order,
    Product,
    Rating,
    Region,
    Shop,
    User,
    VacationPeriod,
)

SEED = 20_240_601  # fixed: the same `now` always gives the same marketplace

LOGINS: dict[str, str] = {
    "platform staff": "staff1",
    "shop owners": "owner1–owner3 (shop 1–3)",
    "shop admins": "admin1–admin3 (shop 1–3)",
    "agents": "agent1–agent2 (shop 1), agent3–agent4 (shop 2), agent5–agent6 (shop 3)",
    "buyers": "buyer1–buyer30",
}


class DemoRefused(RuntimeError):
    """The database holds data that is not the demo's; seeding it would mix the two."""


@dataclass
class DemoSummary:
    logins: dict[str, str]
    counts: dict[str, int]
    shops: list[str]
    reused: bool
    history_from: datetime | None = None
    history_to: datetime | None = None

    def describe(self) -> str:
        c = self.counts
        how = ("Reused the existing demo marketplace" if self.reused
               else "Created a demo marketplace")
        span = ""
        if self.history_from and self.history_to:
            span = (f" from {self.history_from:%Y-%m-%d} to {self.history_to:%Y-%m-%d}")
        return (
            f"{how} with password '{PASSWORD}' for every account: {c.get('shops', 0)} shops "
            f"({'; '.join(self.shops)}), {c.get('users', 0)} users "
            f"({c.get('buyers', 0)} buyers: buyer1–buyer30 and occasional shoppers "
            f"shopper001–shopper{EXTRA_BUYERS:03d}), {c.get('products', 0)} products, "
            f"{c.get('orders', 0)} orders and {c.get('conversations', 0)} conversations with "
            f"{c.get('messages', 0)} messages{span} — chatbot answers and handoffs, late and "
            f"unanswered chats, {c.get('ratings', 0)} ratings, {c.get('offline_tickets', 0)} "
            f"offline tickets, holidays and a vacation week. Log in as agent1 to see the "
            f"inbox of {SHOPS[0].name}, or as buyer1 to chat with the shops."
        )


# ------------------------------------------------------------------ entry point
# The history is five weeks long; evaluations whose whole window it covers are backfilled.
HISTORY_FOR_EVALUATIONS = timedelta(days=28)


def seed_demo(
    database_url: str, *, now: datetime, attachments_dir: Path | None = None
) -> DemoSummary:
    """Seed the demo into an already-migrated database, or reuse the demo already there.
    Files (the force-majeure proof PDF) go to ``attachments_dir`` when given."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC).replace(microsecond=0)
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            _refuse_foreign_data(session)
            if session.scalar(select(func.count()).select_from(User).where(User.is_demo)):
                return _summarise(session, reused=True)
            _seed(session, now)
            session.flush()
            _seed_features(session, now, attachments_dir)
            return _summarise(session, reused=False)
    finally:
        engine.dispose()


def _seed_features(session: Session, now: datetime, attachments_dir: Path | None) -> None:
    """Knowledge bases, cases in every state, and the evaluations of the past weeks."""
    from shopdesk.jobs.evaluations import backfill
    from shopdesk.store.demo_cases import seed_cases
    from shopdesk.store.demo_kb import seed_kb

    seed_kb(session, now)
    seed_cases(session, now, attachments_dir)
    session.flush()
    backfill(session, now - HISTORY_FOR_EVALUATIONS, now)


def _refuse_foreign_data(session: Session) -> None:
    users = session.scalar(select(func.count()).select_from(User).where(User.is_demo.is_(False)))
    shops = session.scalar(select(func.count()).select_from(Shop).where(Shop.is_demo.is_(False)))
    if users or shops:
        raise DemoRefused(
            f"this database already holds real data ({users or 0} non-demo users, "
            f"{shops or 0} non-demo shops); the demo only seeds an empty database or reuses "
            "its own demo — point it at another --data-dir"
        )


def _summarise(session: Session, *, reused: bool) -> DemoSummary:
    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    shops = list(session.scalars(select(Shop).where(Shop.is_demo).order_by(Shop.id)))
    ids = [s.id for s in shops]
    conv_ids = select(Conversation.id).where(Conversation.shop_id.in_(ids))
    first, last = session.execute(
        select(func.min(Message.at), func.max(Message.at)).where(
            Message.conversation_id.in_(conv_ids))
    ).one()
    counts = {
        "shops": len(shops),
        "users": count(User, User.is_demo),
        "buyers": count(User, User.is_demo, User.kind == "buyer"),
        "products": count(Product, Product.shop_id.in_(ids)),
        "orders": count(Order, Order.shop_id.in_(ids)),
        "conversations": count(Conversation, Conversation.shop_id.in_(ids)),
        "messages": count(Message, Message.conversation_id.in_(conv_ids)),
        "bot_messages": count(Message, Message.conversation_id.in_(conv_ids),
                              Message.sender == "bot"),
        "handoffs": count(ConversationEvent, ConversationEvent.conversation_id.in_(conv_ids),
                          ConversationEvent.type == "handoff"),
        "closes": count(ConversationEvent, ConversationEvent.conversation_id.in_(conv_ids),
                        ConversationEvent.type == "close"),
        "ratings": count(Rating, Rating.conversation_id.in_(conv_ids)),
        "offline_tickets": count(OfflineTicket, OfflineTicket.shop_id.in_(ids)),
        "waiting": count(Conversation, Conversation.shop_id.in_(ids),
                         Conversation.waiting_since.is_not(None)),
    }
    return DemoSummary(
        logins=dict(LOGINS),
        counts=counts,
        shops=[f"{s.name}, {s.timezone}" for s in shops],
        reused=reused,
        history_from=first,
        history_to=last,
    )


# ------------------------------------------------------------------ seeding
def _local(tz: str, day: date, at: time) -> datetime:
    return datetime.combine(day, at, ZoneInfo(tz)).astimezone(UTC)


def _seed(session: Session, now: datetime) -> None:
    rng = random.Random(SEED)
    pw = hash_password(PASSWORD)  # argon2 is slow: one hash shared by every demo account
    long_ago = now - timedelta(days=400)

    regions = {r.code: r for r in session.scalars(select(Region))}
    for rs in REGIONS:
        if rs.code not in regions:
            regions[rs.code] = Region(code=rs.code, name=rs.name, country=rs.country,
                                      policy=rs.policy)
            session.add(regions[rs.code])

    def user(username: str, name: str, kind: str, age_days: float) -> User:
        return User(username=username, display_name=name, password_hash=pw, kind=kind,
                    is_active=True, is_demo=True, created_at=now - timedelta(days=age_days))

    staff = user(STAFF[0], STAFF[1], "staff", 500)
    team_users = [[user(u, name, "seller", rng.uniform(120, 390)) for u, _r, name in s.team]
                  for s in SHOPS]
    buyers = [user(f"buyer{i + 1}", name, "buyer", rng.uniform(40, 700))
              for i, name in enumerate(BUYERS)]
    extras = [user(f"shopper{i + 1:03d}", extra_buyer_name(i), "buyer", rng.uniform(36, 900))
              for i in range(EXTRA_BUYERS)]
    session.add(staff)
    for team in team_users:
        session.add_all(team)
    session.add_all(buyers)
    session.add_all(extras)
    session.flush()

    shops: list[Shop] = []
    for spec in SHOPS:  # one by one: ids follow the contract's order (shop 1–3)
        shop = Shop(region_id=regions[spec.region].id, name=spec.name, timezone=spec.timezone,
                    listing_language=spec.language, greeting=spec.greeting,
                    chatbot_enabled=False, vacation_mode=False, is_demo=True,
                    created_at=long_ago)
        session.add(shop)
        session.flush()
        shops.append(shop)

    contexts: list[ShopContext] = []
    products: list[list[Product]] = []
    for i, (spec, shop, team) in enumerate(zip(SHOPS, shops, team_users, strict=True)):
        for u, (_name, role, _display) in zip(team, spec.team, strict=True):
            session.add(Membership(
                user_id=u.id, shop_id=shop.id, role=role,
                capacity=8 if role == "agent" else None, online=False,
                last_seen_at=now - timedelta(hours=rng.uniform(1, 20)),
                last_assigned_at=None))
        session.add_all(BusinessHours(shop_id=shop.id, weekday=d, opens=o, closes=c)
                        for d, o, c in spec.hours)
        closed = _closed_dates(spec.region, spec.timezone, now, i)
        session.add_all(ClosedDate(shop_id=shop.id, day=d, reason=r) for d, r in closed.items())
        vacation = _vacation(spec.timezone, now) if i == 1 else None
        if vacation:
            session.add(VacationPeriod(shop_id=shop.id, start=vacation[0], end=vacation[1]))
        switches = _switches(spec.timezone, now, i)
        session.add_all(ChatbotSwitch(shop_id=shop.id, at=at, enabled=on) for at, on in switches)
        shop.chatbot_enabled = bool(switches and switches[-1][1])
        prods = [Product(shop_id=shop.id, title=p.title, language=p.language,
                         price_cents=p.price_cents, currency=spec.currency, terms=dict(p.terms))
                 for p in spec.products]
        session.add_all(prods)
        products.append(prods)
        contexts.append(ShopContext(
            index=i, spec=spec, team=[(u.id, r) for u, (_n, r, _d) in zip(team, spec.team,
                                                                          strict=True)],
            vacation=vacation, switches=switches, closed=frozenset(closed)))
    session.flush()

    plans = _plan_all(contexts, buyers, extras, now, rng)
    _store_history(session, plans, shops, products, rng)


def _closed_dates(region: str, tz: str, now: datetime, index: int) -> dict[date, str]:
    today = now.astimezone(ZoneInfo(tz)).date()
    out = {d: name for year in (today.year - 1, today.year, today.year + 1)
           for d, name in holidays(region, year)}
    # One company day off inside the history window, so a closed date always shows there.
    reasons = ("Team offsite", "Stocktaking", "Warehouse move")
    day = today - timedelta(days=9 + 4 * index)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    out.setdefault(day, reasons[index])
    return out


def _vacation(tz: str, now: datetime) -> tuple[datetime, datetime]:
    """A long weekend away about two and a half weeks ago: Thursday evening to Tuesday."""
    today = now.astimezone(ZoneInfo(tz)).date()
    thursday = today - timedelta(days=17)
    thursday -= timedelta(days=(thursday.weekday() - 3) % 7)
    return _local(tz, thursday, time(17, 30)), _local(tz, thursday + timedelta(days=5),
                                                      time(8, 45))


def _switches(tz: str, now: datetime, index: int) -> list[tuple[datetime, bool]]:
    today = now.astimezone(ZoneInfo(tz)).date()
    if index == 0:  # always on: the weekend rule (MET-4) applies to this shop
        return [(_local(tz, today - timedelta(days=90), time(9)), True)]
    if index == 2:  # switched on two weeks ago, after a first trial in the summer
        return [(_local(tz, today - timedelta(days=120), time(10)), True),
                (_local(tz, today - timedelta(days=100), time(18)), False),
                (_local(tz, today - timedelta(days=14), time(9)), True)]
    return []


def _plan_all(contexts: list[ShopContext], buyers: list[User], extras: list[User],
              now: datetime, rng: random.Random) -> list[ConversationPlan]:
    pairs: list[tuple[int, User, bool]] = []
    for n, b in enumerate(buyers):
        # buyer1 talks to every shop; the others to one to three shops.
        chosen = [0, 1, 2] if n == 0 else sorted(rng.sample(range(3), rng.choice([1, 2, 2, 3])))
        if "Li Na" in b.display_name or "Zhang" in b.display_name or "Wang" in b.display_name:
            chosen = sorted({*chosen, 2})
        pairs.extend((s, b, True) for s in chosen)
    for b in extras:
        chosen = [rng.choices(range(3), [40, 30, 30])[0]]
        if rng.random() < 0.12:
            chosen = sorted({*chosen, rng.randrange(3)})
        pairs.extend((s, b, False) for s in chosen)
    plans = []
    for shop_index, b, regular in pairs:
        ctx = contexts[shop_index]
        product = rng.randrange(len(ctx.spec.products))
        plans.append(plan_conversation(ctx, b.id, product, regular, now, rng))
    return plans


_ORDER_STATUS = {"logistics": "shipped", "after-sale": "delivered", "other": "paid"}


def _store_history(session: Session, plans: list[ConversationPlan], shops: list[Shop],
                   products: list[list[Product]], rng: random.Random) -> None:
    orders: list[Order | None] = []
    for plan in plans:
        product = products[plan.shop_index][plan.product_index]
        category = plan.topic[0]
        if category == "pre-sale" and rng.random() < 0.8:
            orders.append(None)
            continue
        qty = rng.choice([1, 1, 1, 2])
        placed = plan.first_start - timedelta(days=rng.uniform(1, 12))
        status = _ORDER_STATUS.get(category, "paid")
        # Shipped and delivered before the buyer writes about it (AS-6 counts from delivery).
        until_chat = plan.first_start - placed
        orders.append(Order(
            shop_id=shops[plan.shop_index].id, buyer_id=plan.buyer_id, product_id=product.id,
            quantity=qty, total_cents=qty * product.price_cents,
            status=status, placed_at=placed, terms_snapshot=dict(product.terms),
            shipped_at=placed + until_chat * 0.3 if status != "paid" else None,
            delivered_at=placed + until_chat * 0.8 if status == "delivered" else None))
    session.add_all(o for o in orders if o is not None)
    session.flush()

    convs = []
    for plan, order in zip(plans, orders, strict=True):
        assert plan.created_at is not None
        convs.append(Conversation(
            shop_id=shops[plan.shop_index].id, buyer_id=plan.buyer_id,
            product_id=products[plan.shop_index][plan.product_index].id,
            order_id=order.id if order else None, created_at=plan.created_at,
            last_seq=len(plan.messages), last_message_at=plan.messages[-1].at,
            waiting_since=plan.waiting_since, buyer_has_written=True,
            handed_over=plan.handed_over, assigned_agent_id=plan.assigned_agent_id,
            assigned_at=plan.assigned_at))
    session.add_all(convs)
    session.flush()

    messages: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    ratings: list[dict[str, Any]] = []
    tickets: list[dict[str, Any]] = []
    for plan, conv in zip(plans, convs, strict=True):
        for seq, m in enumerate(plan.messages, start=1):
            messages.append({
                "conversation_id": conv.id, "seq": seq, "at": m.at, "sender": m.sender,
                "sender_role": m.role, "author_id": m.author_id, "kind": "text",
                "text": m.text, "attachment_id": None, "payload": None, "client_id": None,
                "screening": None})
        events.extend({"conversation_id": conv.id, "at": e.at, "type": e.type,
                       "data": e.data, "actor_id": e.actor_id} for e in plan.events)
        ratings.extend({"conversation_id": conv.id, "buyer_id": plan.buyer_id, "at": r.at,
                        "stars": r.stars, "comment": r.comment} for r in plan.ratings)
        tickets.extend({"shop_id": conv.shop_id, "buyer_id": plan.buyer_id,
                        "conversation_id": conv.id, "text": t.text,
                        "status": "open" if t.handled_by is None else "handled",
                        "created_at": t.at, "handled_by_id": t.handled_by,
                        "handled_at": t.handled_at} for t in plan.tickets)
    for model, rows in ((Message, messages), (ConversationEvent, events), (Rating, ratings),
                        (OfflineTicket, tickets)):
        if rows:
            session.execute(insert(model), rows)

    # Agents' last assignment, as the assignment service would have recorded it.
    latest: dict[int, datetime] = {}
    for plan in plans:
        if plan.assigned_agent_id and plan.assigned_at:
            prev = latest.get(plan.assigned_agent_id)
            latest[plan.assigned_agent_id] = max(prev, plan.assigned_at) if prev else \
                plan.assigned_at
    for member in session.scalars(select(Membership).where(
            Membership.user_id.in_(list(latest)))):
        member.last_assigned_at = latest[member.user_id]
