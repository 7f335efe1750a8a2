"""Routing conversations to agents: round-robin among online agents within their capacity,
oldest waiting conversation first; the rest wait in the shop's unassigned queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from shopdesk.store.models import Conversation, Membership
from shopdesk.store.prepared import Statement, connection_of

ASSIGNABLE_ROLES = ("agent", "admin", "owner")


def open_load(session: Session, shop_id: int) -> dict[int, int]:
    rows = session.execute(
        select(Conversation.assigned_agent_id, func.count())
        .where(Conversation.shop_id == shop_id, Conversation.assigned_agent_id.is_not(None))
        .group_by(Conversation.assigned_agent_id)
    )
    return {uid: n for uid, n in rows if uid is not None}


def assign_waiting(session: Session, shop_id: int, now: datetime, default_capacity: int) -> int:
    """Assign the shop's unassigned waiting conversations; returns how many were assigned."""
    agents = list(
        session.scalars(
            select(Membership)
            .where(Membership.shop_id == shop_id, Membership.online.is_(True))
            .where(Membership.role.in_(ASSIGNABLE_ROLES))
        )
    )
    if not agents:
        return 0
    load = open_load(session, shop_id)
    waiting = session.scalars(
        select(Conversation)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.assigned_agent_id.is_(None),
            Conversation.waiting_since.is_not(None),
        )
        .order_by(Conversation.waiting_since, Conversation.id)
        .with_for_update(skip_locked=True)
    )
    assigned = 0
    for conv in waiting:
        free = [
            m for m in agents if load.get(m.user_id, 0) < (m.capacity or default_capacity)
        ]
        if not free:
            break
        # Round-robin: the agent who got a conversation least recently goes next.
        epoch = datetime.min.replace(tzinfo=now.tzinfo)
        agent = min(free, key=lambda m: (m.last_assigned_at or epoch, m.user_id))
        conv.assigned_agent_id = agent.user_id
        conv.assigned_at = now
        agent.last_assigned_at = now
        load[agent.user_id] = load.get(agent.user_id, 0) + 1
        assigned += 1
    return assigned


def online_agents(session: Session, shop_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.shop_id == shop_id, Membership.online.is_(True))
        )
        or 0
    )


_PRESENCE = Statement(select(
    Membership.user_id,
    Membership.online,
    Membership.role,
    select(Conversation.id)
    .where(
        Conversation.shop_id == bindparam("shop_id"),
        Conversation.assigned_agent_id.is_(None),
        Conversation.waiting_since.is_not(None),
    )
    .exists(),
).where(Membership.shop_id == bindparam("shop_id")))


def shop_presence(session: Session, shop_id: int) -> tuple[list[int], int, bool]:
    """In one query: the shop's member ids, how many are online, and whether `assign_waiting`
    could assign anything (a waiting unassigned conversation and an online agent exist)."""
    # A prepared statement on the session's connection (an ORM execution costs several
    # times more); pending ORM changes (assignments) are flushed first so that it sees them.
    rows = _PRESENCE.all(connection_of(session), {"shop_id": shop_id})
    members = [uid for uid, _online, _role, _waiting in rows]
    online = sum(1 for _uid, on, _role, _waiting in rows if on)
    assignable = any(
        on and role in ASSIGNABLE_ROLES and waits for _uid, on, role, waits in rows
    )
    return members, online, assignable
