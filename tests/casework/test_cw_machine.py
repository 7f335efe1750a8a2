"""The generic engine: refusals for every transition of every machine, storage round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from cw_helpers import BUYER, OWNER, STAFF, make_ctx, open_as, utc

from shopdesk.casework import complaints, disputes, force_majeure, tickets
from shopdesk.casework.codec import DecodeError, from_data, to_data
from shopdesk.casework.diagrams import MACHINES
from shopdesk.casework.machine import (
    SYSTEM_ACTOR,
    Actor,
    CaseBase,
    IllegalTransition,
    Machine,
    Role,
    RoleNotAllowed,
    State,
    Timer,
    Transition,
    apply,
)
from shopdesk.casework.records import Attachment

T0 = utc(2026, 3, 11, 14)
CTX = make_ctx()
ACTORS = {
    Role.BUYER: BUYER,
    Role.SELLER_OWNER: OWNER,
    Role.SELLER_ADMIN: Actor(Role.SELLER_ADMIN, "ad1", shop_id="s1"),
    Role.SELLER_AGENT: Actor(Role.SELLER_AGENT, "a1", shop_id="s1"),
    Role.PLATFORM_STAFF: STAFF,
    Role.SYSTEM: SYSTEM_ACTOR,
}


def samples() -> dict[str, CaseBase]:
    fm_ticket = tickets.open_ticket(
        case_id="t-fm",
        kind=tickets.TicketKind.FORCE_MAJEURE,
        actor=OWNER,
        now=T0,
        ctx=CTX,
        subject="flood",
        body="closed",
    ).case
    notice = force_majeure.ProofDocument(
        Attachment("p1", "notice.pdf", "application/pdf"), "government_notice", "county"
    )
    return {
        "aftersales": open_as(CTX, attachments=(Attachment("f", "a.jpg", "image/jpeg"),)).case,
        "disputes": disputes.open_dispute(
            case_id="d",
            actor=BUYER,
            now=T0,
            ctx=CTX,
            claim="broken",
            order_id="o-1",
            shop_id="s1",
            order_amount_minor=100,
        ).case,
        "complaints": complaints.open_complaint(
            case_id="c",
            complainant=BUYER,
            channel=complaints.Channel.PHONE,
            subject="s",
            text="fake item, refund now!",
            now=T0,
            ctx=CTX,
        ).case,
        "force_majeure": force_majeure.submit_application(
            case_id="fm",
            actor=OWNER,
            ticket=fm_ticket,
            now=T0,
            ctx=CTX,
            shipping_address="a",
            reason="flood",
            proofs=(notice,),
            affected_orders=(force_majeure.AffectedOrder("o-1", T0),),
            expected_recovery=date(2026, 3, 20),
        ).case,
        "tickets": fm_ticket,
    }


SAMPLES = samples()
CASES = [
    pytest.param(m, t.action, id=f"{m.name}.{t.action}")
    for m in MACHINES
    for t in {t.action: t for t in m.transitions}.values()
]


@pytest.mark.parametrize(("machine", "action"), CASES)
def test_refused_in_every_other_state(machine: Machine[Any], action: str) -> None:
    case = SAMPLES[machine.name]
    sources = {s for t in machine.transitions if t.action == action for s in t.sources}
    roles = {r for t in machine.transitions if t.action == action for r in t.roles}
    actor = ACTORS[sorted(roles)[0]]
    for state in machine.states:
        if state.name in sources:
            continue
        moved = replace(case, state=state.name, deadlines=())
        with pytest.raises(IllegalTransition) as err:
            apply(machine, moved, action, actor, T0, CTX, {})
        assert state.name in str(err.value)


@pytest.mark.parametrize(("machine", "action"), CASES)
def test_refused_for_every_other_role(machine: Machine[Any], action: str) -> None:
    case = SAMPLES[machine.name]
    for source in {s for t in machine.transitions if t.action == action for s in t.sources}:
        roles = {
            r
            for t in machine.transitions
            if t.action == action and source in t.sources
            for r in t.roles
        }
        moved = replace(case, state=source, deadlines=())
        for role in set(Role) - roles:
            with pytest.raises(RoleNotAllowed, match=f"not {role.value}"):
                apply(machine, moved, action, ACTORS[role], T0, CTX, {})


@pytest.mark.parametrize("name", list(SAMPLES))
def test_storage_round_trip(name: str) -> None:
    case = SAMPLES[name]
    data = to_data(case)
    assert from_data(type(case), data) == case
    with pytest.raises(DecodeError, match="unknown key"):
        from_data(type(case), {**data, "surprise": 1})


def test_every_deadline_fires_something() -> None:
    for m in MACHINES:
        for s in m.states:
            for tm in s.timers:
                assert any(
                    t.action == tm.on_expiry and s.name in t.sources and Role.SYSTEM in t.roles
                    for t in m.transitions
                )


def test_machine_definition_is_checked() -> None:
    st = State[CaseBase]("a", "a")
    with pytest.raises(ValueError, match="unknown initial"):
        Machine[CaseBase]("m", "M", "zz", (st,), ())
    bad = Transition[CaseBase]("go", ("a",), "b", frozenset({Role.BUYER}), "X", "go")
    with pytest.raises(ValueError, match="unknown state b"):
        Machine[CaseBase]("m", "M", "a", (st,), (bad,))
    timed = State[CaseBase]("a", "a", (Timer("t", "boom", "X", "1 h", lambda c, x, n: n),))
    with pytest.raises(ValueError, match="fires nothing"):
        Machine[CaseBase]("m", "M", "a", (timed,), ())


def test_naive_now_and_seller_without_shop() -> None:
    case = SAMPLES["aftersales"]
    from shopdesk.casework import aftersales

    with pytest.raises(ValueError, match="timezone-aware"):
        aftersales.apply(case, "accept", OWNER, T0.replace(tzinfo=None), CTX)
    with pytest.raises(ValueError, match="shop_id"):
        Actor(Role.SELLER_AGENT, "x")


def test_events_are_json_ready() -> None:
    import json

    from shopdesk.casework import aftersales

    case = SAMPLES["aftersales"]
    r = aftersales.fire(case, "seller_response", utc(2026, 3, 20), CTX)
    for event in r.events:
        text = json.dumps(to_data(event))
        assert '"actor_role": "system"' in text and '"deadline": "seller_response"' in text
