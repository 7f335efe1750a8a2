"""Routing conversations to agents: round-robin among online agents within their capacity,
oldest waiting conversation first; the rest wait in the shop's unassigned queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from shopdesk.store.models import Conversation, Membership
from shopdesk.store.prepared import PreparedCache, connection_of

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


@dataclass
class Presence:
    """A shop's team as a send sees it: who is pushed its messages, how many are online
    (none: CHAT-5 offers a ticket), whether an online member takes assignments, and whether
    a conversation waits unassigned."""

    members: list[int] = field(default_factory=list)
    online: int = 0
    agents_online: bool = False
    waiting: bool = False


def _presence_statement(n: int) -> Any:
    waiting = select(Conversation.id).where(
        Conversation.shop_id == Membership.shop_id,
        Conversation.assigned_agent_id.is_(None),
        Conversation.waiting_since.is_not(None),
    ).exists()
    return select(
        Membership.shop_id, Membership.user_id, Membership.online, Membership.role, waiting
    ).where(Membership.shop_id.in_([bindparam(f"k{i}") for i in range(n)]))


_PRESENCE = PreparedCache(_presence_statement)


def presence_of(session: Session, shop_ids: Sequence[int]) -> dict[int, Presence]:
    """Several shops' presence in one query (a shop without members is still answered).
    `assign_waiting` can assign something only when `agents_online` and `waiting`."""
    out = {shop_id: Presence() for shop_id in shop_ids}
    if not out:
        return out
    # A prepared statement on the session's connection (an ORM execution costs several
    # times more); pending ORM changes (assignments) are flushed first so that it sees them.
    connection = connection_of(session)
    statement = _PRESENCE.get(connection.dialect, len(out), len(out))
    for shop_id, user_id, online, role, waiting in statement.all(
        connection, {f"k{i}": shop_id for i, shop_id in enumerate(out)}
    ):
        presence = out[shop_id]
        presence.members.append(user_id)
        presence.online += bool(online)
        presence.agents_online |= bool(online) and role in ASSIGNABLE_ROLES
        presence.waiting |= bool(waiting)
    return out
