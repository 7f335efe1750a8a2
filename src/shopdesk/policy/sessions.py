"""Sessionisation of one conversation (rule EV-2, SES-1, SES-2), read like the SPEC."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shopdesk.policy.events import Close, ConversationEvent, Handoff, Message
from shopdesk.policy.profiles import Profile
from shopdesk.policy.substantive import is_substantive


@dataclass(slots=True)
class Session:
    conversation: str
    start: datetime
    end: datetime | None = None  # None: still open at the last event seen
    auto_replies: int = 0
    human_replies: int = 0
    handoff: bool = False
    last_message_automatic: bool = False
    first_reply_at: datetime | None = None  # first substantive human reply (EV-6)
    first_reply_by: str | None = None

    @property
    def bot_only(self) -> bool:
        """Rule EV-4."""
        return (
            self.auto_replies > 0
            and self.human_replies == 0
            and not self.handoff
            and self.last_message_automatic
        )


def sessionise(
    conversation: str, events: Iterable[ConversationEvent], profile: Profile
) -> list[Session]:
    """Walk the conversation's events in time order (rule EV-2)."""
    sessions: list[Session] = []
    cur: Session | None = None
    waiting: datetime | None = None  # waiting-since instant
    human_t: datetime | None = None  # earliest human message with no buyer message since
    auto_t: datetime | None = None  # earliest automatic message with no buyer message since
    handed = False  # a handoff after the last human message

    def close_time() -> datetime | None:
        cands = []
        if waiting is not None:
            cands.append(waiting + profile.seller_silence)
        if human_t is not None:
            cands.append(human_t + profile.buyer_silence)
        if auto_t is not None and not handed:
            cands.append(auto_t + profile.bot_grace)
        return min(cands) if cands else None

    for ev in events:
        if isinstance(ev, Message) and ev.sender == "platform":
            continue  # platform messages play no part (EV-2)
        if cur is not None:
            ct = close_time()
            if ct is not None and ev.at > ct:  # "after X" is strict
                cur.end = ct
                cur = None
        if isinstance(ev, Close):
            if cur is not None:
                cur.end = ev.at
                cur = None
            continue
        if isinstance(ev, Handoff):
            if cur is not None:
                cur.handoff = True
                handed = True
                auto_t = None
                if waiting is None:
                    waiting = ev.at
            continue
        if ev.sender == "buyer":
            if cur is None:  # rule SES-1
                cur = Session(conversation, ev.at)
                sessions.append(cur)
                waiting, human_t, auto_t, handed = ev.at, None, None, False
            elif waiting is None:
                waiting = ev.at
            human_t = auto_t = None
            cur.last_message_automatic = False
            continue
        if cur is None:
            continue  # a seller-side message outside any session changes nothing
        if ev.sender == "agent":
            cur.human_replies += 1
            cur.last_message_automatic = False
            waiting = None
            handed = False
            if human_t is None:
                human_t = ev.at
            if cur.first_reply_at is None and is_substantive(ev.kind, ev.text):
                cur.first_reply_at = ev.at
                cur.first_reply_by = ev.author or "agent"
        else:  # bot: automatic (EV-3)
            cur.auto_replies += 1
            cur.last_message_automatic = True
            if not handed:
                waiting = None
                if auto_t is None:
                    auto_t = ev.at
    if cur is not None:
        cur.end = close_time()  # scheduled close if nothing else happens
    return sessions
