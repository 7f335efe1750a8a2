"""Generic case state machine: states, transitions, roles, guards and deadlines as data.

A process (after-sales, dispute, …) is a :class:`Machine`: its states (each may start
deadlines, :class:`Timer`), and its transitions (action, from-states, to-state, the roles that
may take it, a guard, an effect on the case data, and whether the action is refused once the
state's deadline has passed). The engine is pure: every call gets the time ``now`` and a
:class:`Context` (policy + the shop's business calendar) and returns a :class:`Result` — the new
case, the events for the timeline, and the deadlines to arm and to cancel. Nothing is mutated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from shopdesk.casework.business_days import BusinessCalendar, require_aware
from shopdesk.casework.policy import CaseworkPolicy


class Role(StrEnum):
    BUYER = "buyer"
    SELLER_OWNER = "seller_owner"
    SELLER_ADMIN = "seller_admin"
    SELLER_AGENT = "seller_agent"
    PLATFORM_STAFF = "platform_staff"
    SYSTEM = "system"


SELLER = frozenset({Role.SELLER_OWNER, Role.SELLER_ADMIN, Role.SELLER_AGENT})
SELLER_MANAGERS = frozenset({Role.SELLER_OWNER, Role.SELLER_ADMIN})
BUYER = frozenset({Role.BUYER})
STAFF = frozenset({Role.PLATFORM_STAFF})
SYSTEM = frozenset({Role.SYSTEM})


@dataclass(frozen=True)
class Actor:
    """Who acts. Sellers carry their shop; buyers and staff their user id."""

    role: Role
    id: str
    shop_id: str | None = None

    def __post_init__(self) -> None:
        if self.role in SELLER and not self.shop_id:
            raise ValueError("a seller actor needs shop_id")


SYSTEM_ACTOR = Actor(Role.SYSTEM, "system")


@dataclass(frozen=True)
class Context:
    policy: CaseworkPolicy
    calendar: BusinessCalendar


@dataclass(frozen=True)
class Deadline:
    """An armed deadline; the server stores it as a durable timer keyed (case id, name)."""

    name: str
    due: datetime
    on_expiry: str
    rule: str


@dataclass(frozen=True)
class Event:
    """One timeline entry: who did what, when."""

    case_id: str
    at: datetime
    actor_role: str
    actor_id: str
    action: str
    from_state: str | None
    to_state: str
    rule: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CaseBase:
    """Fields every case has. Process cases subclass it (frozen, keyword-only)."""

    id: str
    state: str
    opened_at: datetime
    updated_at: datetime
    buyer_id: str | None = None
    shop_id: str | None = None
    version: int = 0
    deadlines: tuple[Deadline, ...] = ()

    def deadline(self, name: str) -> Deadline | None:
        return next((d for d in self.deadlines if d.name == name), None)


C = TypeVar("C", bound=CaseBase)

Guard = Callable[[C, Actor, Mapping[str, Any], Context, datetime], "str | None"]
Effect = Callable[[C, Actor, Mapping[str, Any], Context, datetime], "tuple[C, dict[str, Any]]"]
DueFn = Callable[[C, Context, datetime], datetime]


@dataclass(frozen=True)
class Result(Generic[C]):
    case: C
    events: tuple[Event, ...] = ()
    arm: tuple[Deadline, ...] = ()
    cancel: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timer(Generic[C]):
    """A deadline a state starts: due from ``due(case, ctx, entered_at)``."""

    name: str
    on_expiry: str
    rule: str
    describe: str
    due: DueFn[C]


@dataclass(frozen=True)
class State(Generic[C]):
    name: str
    description: str
    timers: tuple[Timer[C], ...] = ()
    terminal: bool = False


@dataclass(frozen=True)
class Transition(Generic[C]):
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: stays in the same state
    roles: frozenset[Role]
    rule: str
    summary: str
    guard: Guard[C] | None = None
    guard_text: str = ""
    effect: Effect[C] | None = None
    deadline_bound: str | None = None  # refused after this timer of the state is due
    params: tuple[str, ...] = ()
    rearm: tuple[str, ...] = ()  # timers of the (same) state recomputed after the effect


@dataclass(frozen=True)
class AllowedAction:
    action: str
    roles: tuple[str, ...]
    guard: str = ""

    def describe(self) -> str:
        text = f"{self.action} by {'/'.join(self.roles)}"
        return f"{text} (if {self.guard})" if self.guard else text


@dataclass(frozen=True)
class Machine(Generic[C]):
    name: str
    title: str
    initial: str
    states: tuple[State[C], ...]
    transitions: tuple[Transition[C], ...]

    def __post_init__(self) -> None:
        names = {s.name for s in self.states}
        if self.initial not in names:
            raise ValueError(f"{self.name}: unknown initial state {self.initial}")
        for t in self.transitions:
            for ref in (*t.sources, *([t.target] if t.target else [])):
                if ref not in names:
                    raise ValueError(f"{self.name}.{t.action}: unknown state {ref}")
        for s in self.states:
            for tm in s.timers:
                fired = [
                    t
                    for t in self.transitions
                    if t.action == tm.on_expiry and s.name in t.sources and Role.SYSTEM in t.roles
                ]
                if not fired:
                    raise ValueError(f"{self.name}.{s.name}: timer {tm.name} fires nothing")

    def state(self, name: str) -> State[C]:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(f"{self.name}: unknown state {name!r}")

    def allowed(self, state: str, include_system: bool = False) -> tuple[AllowedAction, ...]:
        out: list[AllowedAction] = []
        for t in self.transitions:
            if state not in t.sources:
                continue
            roles = tuple(sorted(r.value for r in t.roles))
            if roles == (Role.SYSTEM.value,) and not include_system:
                continue
            out.append(AllowedAction(t.action, roles, t.guard_text))
        return tuple(out)


# ---------------------------------------------------------------- errors


class CaseworkError(Exception):
    """Base of every refusal; ``code`` is stable, ``allowed`` lists what is possible now."""

    code = "casework_error"

    def __init__(self, message: str, allowed: tuple[AllowedAction, ...] = ()) -> None:
        self.allowed = allowed
        if allowed:
            message += ". Allowed now: " + "; ".join(a.describe() for a in allowed)
        elif allowed == () and self.code != "invalid_input":
            message += ". Nothing is allowed now"
        super().__init__(message)


class InvalidInput(CaseworkError):
    code = "invalid_input"

    def __init__(self, message: str) -> None:
        super().__init__(message, ())


class IllegalTransition(CaseworkError):
    code = "illegal_transition"


class RoleNotAllowed(CaseworkError):
    code = "role_not_allowed"


class NotAParty(CaseworkError):
    code = "not_a_party"


class GuardFailed(CaseworkError):
    code = "guard_failed"


class LateAction(CaseworkError):
    code = "too_late"


class DeadlineNotDue(CaseworkError):
    code = "deadline_not_due"


# ---------------------------------------------------------------- engine


def _check_party(case: CaseBase, actor: Actor) -> str | None:
    if actor.role is Role.BUYER and case.buyer_id is not None and actor.id != case.buyer_id:
        return f"buyer {actor.id} is not the buyer of case {case.id}"
    if actor.role in SELLER and case.shop_id is not None and actor.shop_id != case.shop_id:
        return f"seller of shop {actor.shop_id} is not the shop of case {case.id}"
    return None


def _label(machine: Machine[Any], case: CaseBase) -> str:
    return f"{machine.title} {case.id} (state {case.state!r})"


def _arm(
    machine: Machine[C], case: C, source: str, target: str, ctx: Context, now: datetime
) -> tuple[tuple[Deadline, ...], tuple[Deadline, ...], tuple[str, ...]]:
    """Deadlines after moving source → target: (all armed, newly armed, cancelled names)."""
    src, dst = machine.state(source), machine.state(target)
    keep_names = {tm.name for tm in dst.timers} & {tm.name for tm in src.timers}
    own = {tm.name for tm in src.timers}
    kept: list[Deadline] = []
    cancelled: list[str] = []
    for d in case.deadlines:
        if dst.terminal or (d.name in own and d.name not in keep_names):
            cancelled.append(d.name)
        else:
            kept.append(d)
    armed: list[Deadline] = []
    for tm in dst.timers:
        if tm.name in keep_names and any(d.name == tm.name for d in kept):
            continue
        due = require_aware(tm.due(case, ctx, now), f"due of {tm.name}")
        dl = Deadline(tm.name, due.astimezone(UTC), tm.on_expiry, tm.rule)
        kept = [d for d in kept if d.name != tm.name]
        kept.append(dl)
        armed.append(dl)
    return tuple(kept), tuple(armed), tuple(cancelled)


def open_case(
    machine: Machine[C],
    case: C,
    actor: Actor,
    ctx: Context,
    rule: str,
    detail: Mapping[str, Any] | None = None,
) -> Result[C]:
    """Start a new case (its ``state`` is the entry state); arms that state's deadlines."""
    now = require_aware(case.opened_at, "opened_at")
    state = machine.state(case.state)
    armed = tuple(
        Deadline(
            tm.name, require_aware(tm.due(case, ctx, now)).astimezone(UTC), tm.on_expiry, tm.rule
        )
        for tm in state.timers
    )
    new = replace(case, deadlines=armed, updated_at=now, version=1)
    event = Event(
        case.id, now, actor.role.value, actor.id, "open", None, case.state, rule, dict(detail or {})
    )
    return Result(new, (event,), armed, ())


def apply(
    machine: Machine[C],
    case: C,
    action: str,
    actor: Actor,
    now: datetime,
    ctx: Context,
    params: Mapping[str, Any] | None = None,
) -> Result[C]:
    """Take ``action`` on ``case`` as ``actor`` at ``now``; raises a :class:`CaseworkError`."""
    require_aware(now, "now")
    params = dict(params or {})
    if now < case.updated_at:
        raise InvalidInput(f"{_label(machine, case)}: time {now} is before the last change")
    allowed_now = machine.allowed(case.state)
    candidates = [t for t in machine.transitions if t.action == action and case.state in t.sources]
    if not candidates:
        known = any(t.action == action for t in machine.transitions)
        what = "is not possible" if known else "is not an action of this process"
        raise IllegalTransition(f"{_label(machine, case)}: {action!r} {what}", allowed_now)
    by_role = [t for t in candidates if actor.role in t.roles]
    if not by_role:
        roles = sorted({r.value for t in candidates for r in t.roles})
        raise RoleNotAllowed(
            f"{_label(machine, case)}: {action!r} is for {'/'.join(roles)}, not {actor.role.value}",
            allowed_now,
        )
    party = _check_party(case, actor)
    if party:
        raise NotAParty(f"{_label(machine, case)}: {party}", allowed_now)
    if actor.role is not Role.SYSTEM:
        for t in by_role:
            dl = case.deadline(t.deadline_bound) if t.deadline_bound else None
            if dl is not None and now > dl.due:
                raise LateAction(
                    f"{_label(machine, case)}: too late for {action!r}: deadline {dl.name} "
                    f"({dl.rule}) was {dl.due.isoformat()}",
                    tuple(a for a in allowed_now if a.action != action),
                )
    refusals: list[str] = []
    for t in by_role:
        reason = t.guard(case, actor, params, ctx, now) if t.guard else None
        if reason:
            refusals.append(reason)
            continue
        return _take(machine, t, case, actor, params, ctx, now)
    raise GuardFailed(
        f"{_label(machine, case)}: {action!r} refused: {'; '.join(refusals)}", allowed_now
    )


def _take(
    machine: Machine[C],
    t: Transition[C],
    case: C,
    actor: Actor,
    params: Mapping[str, Any],
    ctx: Context,
    now: datetime,
) -> Result[C]:
    new, detail = t.effect(case, actor, params, ctx, now) if t.effect else (case, {})
    target = t.target or case.state
    if target != case.state or machine.state(target).terminal:
        deadlines, armed, cancelled = _arm(machine, new, case.state, target, ctx, now)
    else:
        deadlines, armed, cancelled = new.deadlines, (), ()
        for tm in machine.state(target).timers:
            if tm.name in t.rearm and new.deadline(tm.name) is not None:
                due = require_aware(tm.due(new, ctx, now), f"due of {tm.name}").astimezone(UTC)
                dl = Deadline(tm.name, due, tm.on_expiry, tm.rule)
                deadlines = (*(d for d in deadlines if d.name != tm.name), dl)
                armed = (*armed, dl)
    new = replace(new, state=target, deadlines=deadlines, version=case.version + 1, updated_at=now)
    event = Event(
        case.id, now, actor.role.value, actor.id, t.action, case.state, target, t.rule, detail
    )
    return Result(new, (event,), armed, cancelled)


def fire(machine: Machine[C], case: C, name: str, now: datetime, ctx: Context) -> Result[C]:
    """A durable timer went off. A deadline no longer armed is a no-op (empty result)."""
    require_aware(now, "now")
    dl = case.deadline(name)
    if dl is None:
        return Result(case)
    if now < dl.due:
        raise DeadlineNotDue(
            f"{_label(machine, case)}: deadline {name} is due {dl.due.isoformat()}, not yet",
            machine.allowed(case.state),
        )
    consumed = replace(case, deadlines=tuple(d for d in case.deadlines if d.name != name))
    params = {"deadline": name, "due": dl.due}
    result = apply(machine, consumed, dl.on_expiry, SYSTEM_ACTOR, now, ctx, params)
    events = tuple(
        replace(e, detail={**e.detail, "deadline": name, "due": dl.due.isoformat()})
        for e in result.events
    )
    return replace(result, events=events)


def require_text(params: Mapping[str, Any], key: str) -> str | None:
    """Guard helper: the refusal reason when ``params[key]`` is not a non-empty string."""
    value = params.get(key)
    if not isinstance(value, str) or not value.strip():
        return f"{key} (non-empty text) is required"
    return None
