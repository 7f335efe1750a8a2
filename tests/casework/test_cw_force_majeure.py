"""Force majeure: regions, proof refusals, applications, effective SLA (FM-1 … FM-6)."""

from __future__ import annotations

from datetime import date

import pytest
from cw_helpers import AGENT, BUYER, OWNER, STAFF, utc, with_policy

from shopdesk.casework import force_majeure as FM
from shopdesk.casework import tickets as TK
from shopdesk.casework.force_majeure import (
    AffectedOrder,
    FMApplication,
    OrderSla,
    ProofDocument,
)
from shopdesk.casework.machine import (
    Context,
    GuardFailed,
    IllegalTransition,
    InvalidInput,
    Result,
    RoleNotAllowed,
)
from shopdesk.casework.records import Attachment
from shopdesk.casework.tickets import TicketKind

T0 = utc(2026, 3, 11, 14)  # Wednesday 10:00 New York
NOTICE = ProofDocument(Attachment("p1", "notice.pdf", "application/pdf"), "government_notice")


def ticket(ctx: Context, kind: TicketKind = TicketKind.FORCE_MAJEURE) -> TK.Ticket:
    return TK.open_ticket(
        case_id="t-1", kind=kind, actor=OWNER, now=T0, ctx=ctx, subject="flood", body="closed"
    ).case


def submit(ctx: Context, **kw: object) -> Result[FMApplication]:
    args: dict[str, object] = {
        "case_id": "fm-1",
        "actor": OWNER,
        "ticket": ticket(ctx),
        "now": T0,
        "ctx": ctx,
        "shipping_address": "1 Warehouse Rd",
        "reason": "flood: warehouse closed by order of the county",
        "proofs": (NOTICE,),
        "affected_orders": (AffectedOrder("o-1", utc(2026, 3, 12, 14)),),
        "expected_recovery": date(2026, 3, 22),
    }
    args.update(kw)
    return FM.submit_application(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "name", "media", "needle"),
    [
        ("screenshot", "a.png", "image/png", "screenshots are not accepted"),
        ("chat_screenshot", "a.png", "image/png", "screenshots of chats"),
        ("news", "a.pdf", "application/pdf", "news reports"),
        ("news_screenshot", "a.jpg", "image/jpeg", "screenshots of news"),
        ("social_media_post", "a.jpg", "image/jpeg", "social-media"),
        ("selfie", "a.jpg", "image/jpeg", "not an official document kind"),
        ("government_notice", "a.docx", "application/msword", "file type"),
        ("government_notice", "Screenshot 2026-03-10.png", "image/png", "looks like a screenshot"),
        ("government_notice", "停工通知截图.jpg", "image/jpeg", "looks like a screenshot"),
    ],
)
def test_proof_refusals(ctx: Context, kind: str, name: str, media: str, needle: str) -> None:
    proof = ProofDocument(Attachment("p", name, media), kind)
    refusal = FM.check_proof(proof, ctx.policy.force_majeure)
    assert refusal is not None and needle in refusal.reason
    with pytest.raises(InvalidInput, match="at least one official proof"):
        submit(ctx, proofs=(proof,))


def test_proof_accepted_and_period_checked(ctx: Context) -> None:  # FM-4
    fm = ctx.policy.force_majeure
    assert FM.check_proof(NOTICE, fm) is None
    bad = ProofDocument(
        NOTICE.attachment, "government_notice", "county", date(2026, 3, 9), date(2026, 3, 1)
    )
    assert "ends before" in FM.check_proof(bad, fm).reason  # type: ignore[union-attr]


def test_submit_validation(ctx: Context) -> None:  # FM-3, FM-4
    with pytest.raises(InvalidInput) as err:
        submit(
            ctx,
            shipping_address="",
            reason=" ",
            affected_orders=(),
            expected_recovery=date(2026, 3, 11),
        )
    text = str(err.value)
    for needle in ("shipping address", "reason", "affected orders", "recovery"):
        assert needle in text
    with pytest.raises(InvalidInput, match="owner or an admin"):
        submit(ctx, actor=AGENT)
    with pytest.raises(InvalidInput, match="only through a force-majeure ticket"):
        submit(ctx, ticket=ticket(ctx, TicketKind.APPEAL))
    # one refused proof among good ones is reported but the good one carries
    with pytest.raises(InvalidInput, match="news"):
        submit(ctx, proofs=(NOTICE, ProofDocument(NOTICE.attachment, "news")))


def test_submit_arms_48h_review(ctx: Context) -> None:  # FM-5
    r = submit(ctx)
    assert r.case.state == "submitted" and r.case.requested_days == 10  # 12th … 22nd
    assert r.arm[0].name == "review" and r.arm[0].due == utc(2026, 3, 13, 14)
    over = FM.fire(r.case, "review", utc(2026, 3, 13, 14), ctx)
    assert over.case.review_overdue and over.case.state == "submitted"


def test_approve_next_day_bounded(ctx: Context) -> None:  # FM-5
    c = submit(ctx).case
    with pytest.raises(RoleNotAllowed):
        FM.apply(c, "approve", OWNER, T0, ctx)
    with pytest.raises(GuardFailed, match="at most 30 days"):
        FM.apply(c, "approve", STAFF, T0, ctx, {"days": 31})
    with pytest.raises(GuardFailed, match="positive"):
        FM.apply(c, "approve", STAFF, T0, ctx, {"days": 0})
    r = FM.apply(c, "approve", STAFF, utc(2026, 3, 12, 3), ctx)  # 23:00 on the 11th in New York
    assert r.case.effective_from == utc(2026, 3, 12, 4)  # midnight of the 12th, EDT
    assert r.case.approved_days == 10 and r.case.effective_until == utc(2026, 3, 22, 4)
    assert r.cancel == ("review",) and r.arm[0].name == "extension_end"
    assert r.arm[0].due == r.case.effective_until
    long = submit(ctx, expected_recovery=date(2026, 6, 1)).case
    assert long.requested_days > 30
    assert FM.apply(long, "approve", STAFF, T0, ctx).case.approved_days == 30  # capped


def test_reject_withdraw_and_expiry(ctx: Context) -> None:  # FM-5, FM-6
    c = submit(ctx).case
    with pytest.raises(GuardFailed, match="reason"):
        FM.apply(c, "reject", STAFF, T0, ctx)
    assert (
        FM.apply(c, "reject", STAFF, T0, ctx, {"reason": "not official"}).case.state == "rejected"
    )
    with pytest.raises(RoleNotAllowed):
        FM.apply(c, "withdraw", AGENT, T0, ctx)
    assert FM.apply(c, "withdraw", OWNER, T0, ctx).case.state == "withdrawn"
    ok = FM.apply(c, "approve", STAFF, T0, ctx).case
    end = FM.fire(ok, "extension_end", ok.effective_until, ctx)  # type: ignore[arg-type]
    assert end.case.state == "expired" and "FM-6" in end.events[0].detail["next"]
    with pytest.raises(IllegalTransition):
        FM.apply(end.case, "approve", STAFF, utc(2026, 3, 30), ctx)
    # FM-6: re-apply only once the previous one ended
    with pytest.raises(InvalidInput, match="apply again when it ends"):
        submit(ctx, previous=(ok,), case_id="fm-2")
    again = submit(
        ctx,
        previous=(end.case,),
        case_id="fm-2",
        now=utc(2026, 3, 23),
        expected_recovery=date(2026, 4, 1),
    )
    assert again.case.state == "submitted"


def test_regions(ctx: Context) -> None:  # FM-1
    with pytest.raises(InvalidInput):
        FM.declare_region(
            region_id="r", name="x", region_codes=["US-FL"], start=T0, end=T0, actor=STAFF, ctx=ctx
        )
    with pytest.raises(InvalidInput, match="staff"):
        FM.declare_region(
            region_id="r",
            name="x",
            region_codes=["US-FL"],
            start=T0,
            end=utc(2026, 4, 1),
            actor=OWNER,
            ctx=ctx,
        )
    r = FM.declare_region(
        region_id="r1",
        name="Hurricane",
        region_codes=["US-FL"],
        start=T0,
        end=utc(2026, 3, 18),
        actor=STAFF,
        ctx=ctx,
    )
    assert r.extension_days == 7
    renewed = FM.renew_region(r, utc(2026, 3, 25), STAFF)
    assert renewed.renewals == 1 and renewed.end == utc(2026, 3, 25)
    with pytest.raises(InvalidInput):
        FM.renew_region(r, utc(2026, 3, 1), STAFF)
    assert FM.end_region(renewed, utc(2026, 3, 20), STAFF).end == utc(2026, 3, 20)
    # a shop in an active region does not need to apply
    with pytest.raises(InvalidInput, match="already extended"):
        submit(ctx, shop_region="US-FL", regions=(r,))
    assert submit(ctx, shop_region="US-TX", regions=(r,)).case.state == "submitted"


def test_effective_sla(ctx: Context) -> None:  # FM-1, FM-3, FM-5, decision CW-13
    region = FM.declare_region(
        region_id="r1",
        name="Flood",
        region_codes=["US-FL"],
        start=T0,
        end=utc(2026, 3, 18),
        actor=STAFF,
        ctx=ctx,
        extension_days=5,
    )
    o = OrderSla("o-9", "s1", utc(2026, 3, 12), utc(2026, 3, 14, 4), "US-FL")
    s = FM.effective_sla(o, ctx, regions=(region,))
    assert (s.extension_days, s.source, s.ship_by) == (5, "region:r1", utc(2026, 3, 19, 4))
    outside = OrderSla("o-8", "s1", utc(2026, 3, 1), utc(2026, 3, 3), "US-FL")
    assert FM.effective_sla(outside, ctx, regions=(region,)).ship_by == outside.base_ship_by
    other = OrderSla("o-7", "s1", utc(2026, 3, 12), utc(2026, 3, 14), "US-TX")
    assert FM.effective_sla(other, ctx, regions=(region,)).source is None
    # approved application: listed orders and orders due inside the period; longest wins
    app = FM.apply(submit(ctx).case, "approve", STAFF, T0, ctx).case
    listed = OrderSla("o-1", "s1", utc(2026, 3, 9), utc(2026, 3, 11, 20), "US-FL")
    s2 = FM.effective_sla(listed, ctx, regions=(region,), applications=(app,))
    assert (s2.extension_days, s2.source) == (10, "application:fm-1")
    inside = OrderSla("o-5", "s1", utc(2026, 3, 13), utc(2026, 3, 15), None)
    assert FM.effective_sla(inside, ctx, applications=(app,)).extension_days == 10
    foreign = OrderSla("o-5", "s2", utc(2026, 3, 13), utc(2026, 3, 15), None)
    assert FM.effective_sla(foreign, ctx, applications=(app,)).extension_days == 0
    pending = submit(ctx, case_id="fm-9").case
    assert FM.effective_sla(inside, ctx, applications=(pending,)).extension_days == 0
    # DST: the local wall-clock time is kept (7 days across the 8 March switch)
    dst = OrderSla("o-4", "s1", utc(2026, 3, 5), utc(2026, 3, 6, 15), "US-FL")
    region2 = FM.declare_region(
        region_id="r2",
        name="x",
        region_codes=["US-FL"],
        start=utc(2026, 3, 1),
        end=utc(2026, 3, 9),
        actor=STAFF,
        ctx=ctx,
    )
    assert FM.effective_sla(dst, ctx, regions=(region2,)).ship_by == utc(2026, 3, 13, 14)


def test_policy_max_period(ctx: Context) -> None:
    short = with_policy(ctx, "force_majeure", max_extension_days=3)
    c = submit(short).case
    assert FM.apply(c, "approve", STAFF, T0, short).case.approved_days == 3
    assert BUYER.role.value == "buyer"


def test_region_bounds_renewal_after_end_and_country_codes(ctx: Context) -> None:  # FM-1, FM-5
    def declare(**kw: object) -> FM.AdjustedRegion:
        args: dict[str, object] = {
            "region_id": "r",
            "name": "Typhoon",
            "region_codes": ["CN"],
            "start": T0,
            "end": utc(2026, 3, 20),
            "actor": STAFF,
            "ctx": ctx,
            **kw,
        }
        return FM.declare_region(**args)  # type: ignore[arg-type]

    with pytest.raises(InvalidInput, match="at most 30 days"):
        declare(extension_days=31)
    with pytest.raises(InvalidInput, match="at most 90 days"):
        declare(end=utc(2026, 7, 1))
    with pytest.raises(InvalidInput, match="time zone"):
        declare(end=utc(2026, 3, 20).replace(tzinfo=None))
    r = declare()
    # Renewing a region whose period is over is refused: the platform declares a new one.
    with pytest.raises(FM.RegionEnded, match="declare a new region"):
        FM.renew_region(r, utc(2026, 3, 30), STAFF, now=utc(2026, 3, 20))
    with pytest.raises(InvalidInput, match="a renewal is at most 90 days"):
        FM.renew_region(r, utc(2026, 7, 1), STAFF, now=utc(2026, 3, 19), ctx=ctx)
    assert FM.renew_region(r, utc(2026, 3, 30), STAFF, now=utc(2026, 3, 19), ctx=ctx).renewals == 1
    with pytest.raises(FM.RegionEnded, match="already ended"):
        FM.end_region(r, utc(2026, 3, 21), STAFF)
    with pytest.raises(InvalidInput, match="staff"):
        FM.renew_region(r, utc(2026, 3, 30), OWNER)
    # A region listing a country covers the shops of every marketplace region in it.
    assert r.covers("CN-XB", "CN") and not r.covers("US", "US") and not r.covers(None, None)
    o = OrderSla("o-1", "s1", utc(2026, 3, 12), utc(2026, 3, 14), "CN-XB", "CN")
    assert FM.effective_sla(o, ctx, regions=(r,)).source == "region:r"
    with pytest.raises(InvalidInput, match="already extended"):
        submit(ctx, shop_region="CN-XB", shop_country="CN", regions=(r,))


def test_base_ship_by_counts_business_days(ctx: Context) -> None:  # decision CW-23
    # Wednesday 10:00 New York + 2 business days = Friday 10:00; from Friday: Tuesday.
    assert FM.base_ship_by(T0, ctx) == utc(2026, 3, 13, 14)
    assert FM.base_ship_by(utc(2026, 3, 13, 14), ctx) == utc(2026, 3, 17, 14)
    assert FM.base_ship_by(T0, ctx, 1) == utc(2026, 3, 12, 14)
