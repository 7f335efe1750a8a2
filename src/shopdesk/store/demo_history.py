"""Five weeks of believable, deterministic chat history for the demo marketplace.

Pure planning: no database here. Each conversation (one per buyer and shop) is a series of
sessions (SPEC SES-1/SES-2, EV-2) separated by more than 72 hours, so every session has closed
before the next one starts. Timing follows the shop's business hours, vacation and chatbot.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from shopdesk.chat.hours import Hours, Window
from shopdesk.store.demo_data import (
    ASK_PERSON,
    BOT_HANDOFF,
    GREETINGS,
    NUDGES,
    RATING_COMMENTS,
    THANKS,
    TICKET_TEXTS,
    TOPICS_EN,
    TOPICS_EN_TEA,
    TOPICS_ZH,
    WELCOME,
    ShopSpec,
    Topic,
)

HISTORY_DAYS = 35
SESSION_GAP_MIN = timedelta(days=3, hours=3)  # > 72 h: the previous session has surely closed


@dataclass
class PlannedMessage:
    at: datetime
    sender: str  # buyer | agent | bot
    role: str  # buyer | owner | admin | agent | bot
    author_id: int | None
    text: str


@dataclass
class PlannedEvent:
    at: datetime
    type: str
    data: dict[str, Any]
    actor_id: int | None


@dataclass
class PlannedRating:
    at: datetime
    stars: int
    comment: str


@dataclass
class PlannedTicket:
    at: datetime
    text: str
    handled_by: int | None
    handled_at: datetime | None


@dataclass
class ConversationPlan:
    shop_index: int
    buyer_id: int
    product_index: int
    topic: Topic
    first_start: datetime
    messages: list[PlannedMessage] = field(default_factory=list)
    events: list[PlannedEvent] = field(default_factory=list)
    ratings: list[PlannedRating] = field(default_factory=list)
    tickets: list[PlannedTicket] = field(default_factory=list)
    sessions: int = 0
    used_topics: list[Topic] = field(default_factory=list)
    created_at: datetime | None = None
    waiting_since: datetime | None = None
    assigned_agent_id: int | None = None
    assigned_at: datetime | None = None
    handed_over: bool = False


@dataclass
class ShopContext:
    index: int
    spec: ShopSpec
    team: list[tuple[int, str]]  # (user id, role)
    vacation: tuple[datetime, datetime] | None
    switches: list[tuple[datetime, bool]]  # chatbot history, in time order
    closed: frozenset[date]
    hours: Hours = field(init=False)
    tz: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self.hours = Hours(
            timezone=self.spec.timezone,
            windows=tuple(Window(d, o, c) for d, o, c in self.spec.hours),
            closed_dates=self.closed,
        )
        self.tz = ZoneInfo(self.spec.timezone)

    @property
    def agents(self) -> list[int]:
        return [uid for uid, role in self.team if role == "agent"]

    def role_of(self, user_id: int) -> str:
        return next(role for uid, role in self.team if uid == user_id)

    def chatbot_on(self, at: datetime) -> bool:
        state = False
        for when, enabled in self.switches:
            if when <= at:
                state = enabled
        return state

    def on_vacation(self, at: datetime) -> bool:
        return self.vacation is not None and self.vacation[0] <= at < self.vacation[1]

    def staffed_at(self, earliest: datetime, rng: random.Random) -> datetime:
        """When a person of the team actually writes, at or after `earliest`."""
        t = earliest
        if self.vacation is not None and self.on_vacation(t):
            t = self.vacation[1]
        if self.hours.is_open(t):
            return t
        opening = self.hours.next_opening(t)
        assert opening is not None  # every demo shop opens at least weekly
        return opening + timedelta(minutes=rng.uniform(3, 50))

    def local_moment(self, day: date, rng: random.Random) -> datetime:
        """A buyer's writing time on a shop-local day: mostly within business hours."""
        if day.weekday() >= 5 and rng.random() < 0.3:
            day -= timedelta(days=day.weekday() - 4)  # fewer chats at weekends: Friday instead
        windows = [w for w in self.spec.hours if w[0] == day.weekday()]
        if windows and day not in self.closed and rng.random() < 0.8:
            _, opens, closes = rng.choice(windows)
            a = opens.hour * 60 + opens.minute
            b = closes.hour * 60 + closes.minute
            minute = rng.uniform(a, b - 5)
        else:
            minute = rng.uniform(7 * 60, 23 * 60 + 30)
        local = datetime.combine(day, time(0), self.tz) + timedelta(minutes=minute)
        return local.replace(microsecond=0).astimezone(ZoneInfo("UTC"))


def _topics(ctx: ShopContext, language: str) -> tuple[Topic, ...]:
    if language == "zh":
        return TOPICS_ZH
    return TOPICS_EN_TEA if ctx.spec.language == "zh" else TOPICS_EN


def _pick_author(ctx: ShopContext, rng: random.Random) -> int:
    weights = {"agent": 40, "admin": 15, "owner": 5}
    return rng.choices([u for u, _ in ctx.team], [weights[r] for _, r in ctx.team])[0]


class _Session:
    """Builds one session's messages and events."""

    def __init__(self, ctx: ShopContext, plan: ConversationPlan, rng: random.Random) -> None:
        self.ctx, self.plan, self.rng = ctx, plan, rng

    def msg(self, at: datetime, sender: str, author: int | None, text: str) -> datetime:
        role = sender if author is None else (
            "buyer" if sender == "buyer" else self.ctx.role_of(author))
        self.plan.messages.append(PlannedMessage(at, sender, role, author, text))
        return at

    def buyer(self, at: datetime, text: str) -> datetime:
        return self.msg(at, "buyer", self.plan.buyer_id, text)

    def event(self, at: datetime, type_: str, actor: int | None, **data: Any) -> None:
        self.plan.events.append(PlannedEvent(at, type_, data, actor))

    def reply_delay(self) -> timedelta:
        r = self.rng.random()
        if r < 0.65:
            return timedelta(minutes=self.rng.uniform(2, 40))
        if r < 0.92:
            return timedelta(minutes=self.rng.uniform(40, 180))
        return timedelta(hours=self.rng.uniform(3, 10))

    def run(self, start: datetime, language: str, last: bool) -> datetime:
        ctx, rng, s = self.ctx, self.rng, lambda d: timedelta(seconds=d)
        # The conversation's first session is about the topic its product/order was opened for.
        if self.plan.messages:  # later sessions ask something new while there is something new
            fresh = [t for t in _topics(ctx, language) if t not in self.plan.used_topics]
            topic = rng.choice(fresh or _topics(ctx, language))
        else:
            topic = self.plan.topic
        self.plan.used_topics.append(topic)
        _cat, question, bot_answer, answer, follow_up, follow_answer = topic
        t = self.buyer(start, question)
        if rng.random() < 0.3:
            title = ctx.spec.products[self.plan.product_index].title
            about = f"是这个：{title}" if language == "zh" else f"It's about the {title}."
            t = self.buyer(t + s(rng.uniform(10, 90)), about)
        if not ctx.hours.is_open(start) and rng.random() < 0.07:
            self.plan.tickets.append(PlannedTicket(
                start + s(rng.uniform(30, 120)), rng.choice(TICKET_TEXTS[language]), None, None))
        mode = "human"
        quick_at: datetime | None = None
        if ctx.chatbot_on(start):
            mode = rng.choices(["bot_only", "handoff", "bot_then_human"], [40, 35, 25])[0]
            t = self.msg(t + s(rng.uniform(3, 20)), "bot", None, bot_answer)
            if mode == "bot_only":
                if not last or rng.random() < 0.5:
                    # A person checks the automatic answer and closes the chat (KB-6).
                    closer = _pick_author(ctx, rng)
                    self.event(t + s(rng.uniform(150, 500)), "close", closer, by="seller")
                return t
            if mode == "bot_then_human":
                # An agent adds to the bot's answer before the 10-minute grace ends (EV-2);
                # outside business hours the buyer asks for a person instead.
                quick_at = t + s(rng.uniform(100, 500))
                if not ctx.hours.is_open(quick_at) or ctx.on_vacation(quick_at):
                    mode, quick_at = "handoff", None
            if mode == "handoff":
                t = self.buyer(t + s(rng.uniform(40, 360)), rng.choice(ASK_PERSON[language]))
                self.event(t + s(2), "handoff", None)
                t = self.msg(t + s(3), "bot", None, BOT_HANDOFF[language])
        waiting_from = next(m.at for m in reversed(self.plan.messages) if m.sender == "buyer")
        if quick_at is None and rng.random() < ctx.spec.never_share:
            if rng.random() < 0.6:
                t = self.buyer(waiting_from + timedelta(hours=rng.uniform(2, 30)),
                               rng.choice(NUDGES[language]))
            return t
        author = _pick_author(ctx, rng)
        late = quick_at is None and rng.random() < ctx.spec.late_share
        delay = timedelta(hours=rng.uniform(24.5, 52)) if late else self.reply_delay()
        reply_at = quick_at or ctx.staffed_at(waiting_from + delay, rng)
        greet_at = waiting_from + timedelta(minutes=rng.uniform(1, 4))
        # A greeting first; the substantive answer usually follows within the 6 hours in which
        # the buyer keeps the session open (SES-2 b) — now and then it does not (MET-3).
        soon = reply_at - greet_at < timedelta(hours=5) or rng.random() < 0.15
        if quick_at is None and rng.random() < 0.22 and soon and ctx.hours.is_open(greet_at) \
                and not ctx.on_vacation(greet_at) and greet_at < reply_at - timedelta(minutes=1):
            self.msg(greet_at, "agent", author, rng.choice(GREETINGS[language]))
        if late and rng.random() < 0.5:
            t = self.buyer(waiting_from + timedelta(hours=rng.uniform(5, 20)),
                           rng.choice(NUDGES[language]))
        t = self.msg(max(reply_at, t + s(30)), "agent", author, answer)
        if rng.random() < 0.7:
            t = self.buyer(t + timedelta(minutes=rng.uniform(3, 90)), follow_up)
            t = self.msg(ctx.staffed_at(t + timedelta(minutes=rng.uniform(2, 35)), rng),
                         "agent", author, follow_answer)
        if rng.random() < 0.55:
            t = self.buyer(t + timedelta(minutes=rng.uniform(2, 30)),
                           rng.choice(THANKS[language]))
            if rng.random() < 0.5:
                t = self.msg(ctx.staffed_at(t + timedelta(minutes=rng.uniform(1, 20)), rng),
                             "agent", author, WELCOME[language])
            else:
                t += timedelta(minutes=rng.uniform(3, 40))
                self.event(t, "close", author, by="seller")
        elif rng.random() < 0.35:
            t += timedelta(minutes=rng.uniform(5, 60))
            self.event(t, "close", author, by="seller")
        if rng.random() < 0.45:
            weights = list(ctx.spec.star_weights)
            if late:
                weights = [30, 25, 25, 12, 8]
            stars = rng.choices([1, 2, 3, 4, 5], weights)[0]
            t += timedelta(minutes=rng.uniform(3, 180))
            comment = RATING_COMMENTS[stars] if rng.random() < 0.5 else ""
            self.plan.ratings.append(PlannedRating(t, stars, comment))
        # The first human reply handles an offline ticket left at the session start.
        for ticket in self.plan.tickets:
            if ticket.handled_by is None and ticket.at >= start:
                ticket.handled_by, ticket.handled_at = author, max(reply_at, ticket.at)
        return t


def plan_conversation(
    ctx: ShopContext,
    buyer_id: int,
    product_index: int,
    regular: bool,
    now: datetime,
    rng: random.Random,
) -> ConversationPlan:
    language = ctx.spec.products[product_index].language
    earliest = now - timedelta(days=HISTORY_DAYS)
    back = rng.uniform(21, HISTORY_DAYS) if regular else rng.uniform(0.1, HISTORY_DAYS)
    max_sessions = (rng.randint(3, 6) if regular
                    else rng.choices([1, 2, 3, 4], [30, 35, 22, 13])[0])
    cursor = now - timedelta(days=back)
    plan: ConversationPlan | None = None
    sessions = 0
    while sessions < max_sessions:
        start = ctx.local_moment(cursor.astimezone(ctx.tz).date(), rng)
        for ahead in range(1, 4):  # never before the cursor: sessions stay > 72 h apart
            if plan is None or start >= cursor:
                break
            day = (cursor + timedelta(days=ahead)).astimezone(ctx.tz).date()
            start = ctx.local_moment(day, rng)
        if plan is not None and start < cursor:
            start = cursor.replace(microsecond=0) + timedelta(minutes=rng.uniform(10, 600))
        start = max(start, earliest + timedelta(minutes=5))
        if start >= now - timedelta(minutes=10):
            if plan is not None:
                break
            start = (now - timedelta(minutes=rng.uniform(12, 180))).replace(microsecond=0)
        if plan is None:
            plan = ConversationPlan(ctx.index, buyer_id, product_index,
                                    rng.choice(_topics(ctx, language)), start)
        end = _Session(ctx, plan, rng).run(start, language, last=sessions == max_sessions - 1)
        sessions += 1
        cursor = end + SESSION_GAP_MIN + timedelta(days=rng.uniform(0, 3.5))
    assert plan is not None
    plan.sessions = sessions
    _finish(ctx, plan, now, rng)
    return plan


def _finish(ctx: ShopContext, plan: ConversationPlan, now: datetime, rng: random.Random) -> None:
    """Cut everything at `now` and derive the conversation's state from what remains."""
    cutoff = now - timedelta(seconds=30)
    plan.messages = sorted((m for m in plan.messages if m.at < cutoff), key=lambda m: m.at)
    for a, b in pairwise(plan.messages):
        if b.at <= a.at:  # strictly increasing instants keep seq order == time order
            b.at = a.at + timedelta(seconds=1)
    plan.events = [e for e in plan.events if e.at < cutoff]
    last_at = plan.messages[-1].at
    plan.ratings = [r for r in plan.ratings if r.at < cutoff and r.at > plan.messages[0].at]
    for ticket in plan.tickets:
        if ticket.handled_at is not None and ticket.handled_at >= cutoff:
            ticket.handled_by = ticket.handled_at = None
    plan.tickets = [t for t in plan.tickets if t.at < cutoff]
    plan.created_at = plan.messages[0].at - timedelta(seconds=rng.uniform(5, 90))
    # Replay the log the way the chat service maintains the row (chat/service.py).
    timeline: list[tuple[datetime, int, PlannedMessage | PlannedEvent]] = [
        *((m.at, 0, m) for m in plan.messages), *((e.at, 1, e) for e in plan.events)]
    waiting: datetime | None = None
    assigned: int | None = None
    assigned_at: datetime | None = None
    handed = False
    for at, _, item in sorted(timeline, key=lambda x: (x[0], x[1])):
        if isinstance(item, PlannedMessage):
            if item.sender == "buyer":
                waiting = waiting or at
            elif item.sender == "agent":
                waiting = None
                handed = False
                if assigned is None and item.role == "agent":
                    assigned, assigned_at = item.author_id, at
        elif item.type == "close":
            waiting, assigned, assigned_at, handed = None, None, None, False
        elif item.type == "handoff":
            handed = True
    if waiting is not None and assigned is None and rng.random() < 0.5:
        # Auto-assignment picked an agent for some of the waiting chats.
        when = waiting + timedelta(minutes=rng.uniform(1, 30))
        if when < cutoff:
            assigned, assigned_at = rng.choice(ctx.agents), when
    plan.waiting_since, plan.assigned_agent_id, plan.assigned_at = waiting, assigned, assigned_at
    plan.handed_over = handed
    assert last_at <= now
